"""``sirene bench kb``: known-problem matching with a few example phrasings per problem.

Protocol: ``--shots`` example phrasings per label drawn from the train split with a fixed seed
(xsid_de: from the valid split, German + dialects), scored on the test split: top-1 / top-3
accuracy. Baselines measured in the same run on the same shots: raw USE nearest centroid and raw
USE + logistic regression (the earlier prototype).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from sirene.bench._data import Dataset, load_csv, load_dataset, peak_rss_mib, subsample

DATASETS = ("banking77", "xsid_de")
QUICK_ROWS = 400


def pick_shots(train: Dataset, shots: int, seed: int = 0) -> list[tuple[str, str]]:
    """``shots`` examples per label (fewer if the label has fewer), deterministic for a seed."""
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[str]] = {}
    for text, label in zip(train.texts, train.labels, strict=True):
        by_label.setdefault(label, []).append(text)
    out: list[tuple[str, str]] = []
    for label in sorted(by_label):
        texts = by_label[label]
        for i in sorted(rng.permutation(len(texts))[:shots]):
            out.append((label, texts[int(i)]))
    return out


def _accuracy(ranked: Sequence[Sequence[Any]], gold: Sequence[str]) -> tuple[float, float]:
    top1 = np.mean([bool(r) and r[0] == g for r, g in zip(ranked, gold, strict=True)])
    top3 = np.mean([g in list(r)[:3] for r, g in zip(ranked, gold, strict=True)])
    return round(float(top1), 4), round(float(top3), 4)


def evaluate(name: str, shots: list[tuple[str, str]], test: Dataset) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    from sirene.similarity.cleaning import clean_text
    from sirene.similarity.encoders import CenteredEncoder, default_encoder, l2_normalise
    from sirene.similarity.matching import ProblemMatcher

    enc = default_encoder()
    t0 = time.perf_counter()
    matcher = ProblemMatcher(enc).fit(shots)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ranked = [[label for label, _ in r] for r in matcher.rank_many(test.texts, k=3)]
    rank_s = time.perf_counter() - t0
    top1, top3 = _accuracy(ranked, test.labels)

    # cost of learning one new phrasing: add an example to an existing label and refit
    t0 = time.perf_counter()
    matcher.add_example(shots[0][0], shots[0][1] + " (again)")
    refit_s = time.perf_counter() - t0

    result: dict[str, Any] = {
        "dataset": name,
        "n": len(test.texts),
        "labels": len(matcher.labels),
        "shots": len(shots),
        "top1": top1,
        "top3": top3,
        "fit_s": round(fit_s, 2),
        "refit_one_s": round(refit_s, 2),
        "texts_per_s": round(len(test.texts) / rank_s, 1),
    }

    base = enc.base if isinstance(enc, CenteredEncoder) else enc
    labels = sorted({label for label, _ in shots})
    index = {label: i for i, label in enumerate(labels)}
    x_train = base.encode([clean_text(t) for _, t in shots])
    y_train = np.array([index[label] for label, _ in shots])
    x_test = base.encode([clean_text(t) for t in test.texts])
    protos = l2_normalise(np.stack([x_train[y_train == j].mean(axis=0) for j in range(len(labels))]))
    order = np.argsort(-(x_test @ protos.T), axis=1)[:, :3]
    baselines = {
        "use-centroid": dict(
            zip(
                ("top1", "top3"), _accuracy([[labels[j] for j in o] for o in order], test.labels), strict=True
            )
        )
    }
    clf = LogisticRegression(C=10.0, max_iter=300).fit(x_train, y_train)
    order = np.argsort(-clf.predict_proba(x_test), axis=1)[:, :3]
    baselines["use-logreg"] = dict(
        zip(("top1", "top3"), _accuracy([[labels[j] for j in o] for o in order], test.labels), strict=True)
    )
    result["baselines"] = baselines
    return result


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sirene bench kb", description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", action="append", choices=DATASETS, help="repeatable; default: both")
    parser.add_argument("--train", help="custom CSV (text + category) to draw the example phrasings from")
    parser.add_argument("--test", help="custom CSV (text + category) to score on")
    parser.add_argument("--shots", type=int, default=10, help="example phrasings per problem (default 10)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help=f"score only {QUICK_ROWS} test rows (CI)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)

    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from sirene.similarity.encoders import default_encoder

    t_start = time.perf_counter()
    default_encoder().encode(["warm-up"])
    jobs: list[tuple[str, Dataset, Dataset]] = []
    if args.train or args.test:
        if not (args.train and args.test):
            parser.error("--train and --test go together")
        jobs.append(("custom", load_csv(args.train), load_csv(args.test)))
    else:
        for name in args.dataset or list(DATASETS):
            train_split = "valid" if name == "xsid_de" else "train"
            jobs.append((name, load_dataset(name, train_split), load_dataset(name, "test")))

    results = []
    with Progress(transient=True, disable=args.json) as progress:
        task = progress.add_task("kb matching", total=len(jobs))
        for name, train, test in jobs:
            if args.quick:
                test = subsample(test, QUICK_ROWS)
            results.append(evaluate(name, pick_shots(train, args.shots, args.seed), test))
            progress.advance(task)
    peak = peak_rss_mib()
    total = time.perf_counter() - t_start

    if args.json:
        out = {**results[0], "datasets": {r["dataset"]: r for r in results}}
        out.update(peak_rss_mib=round(peak, 1), total_s=round(total, 1))
        print(json.dumps(out))
        return 0
    table = Table(
        title=f"sirene bench kb - {args.shots}-shot matching (peak RSS {peak:.0f} MiB, {total:.0f} s)"
    )
    for col in ("dataset", "method", "top-1", "top-3", "fit s", "refit+1 s", "texts/s"):
        table.add_column(col, justify="left" if col in ("dataset", "method") else "right")
    for res in results:
        table.add_row(
            f"{res['dataset']} (n={res['n']}, {res['labels']} labels)",
            "[bold]sirene[/bold]",
            f"{res['top1']:.3f}",
            f"{res['top3']:.3f}",
            f"{res['fit_s']:.1f}",
            f"{res['refit_one_s']:.1f}",
            f"{res['texts_per_s']:.0f}",
        )
        items = list(res["baselines"].items())
        for i, (bname, m) in enumerate(items):
            table.add_row(
                "", bname, f"{m['top1']:.3f}", f"{m['top3']:.3f}", "", "", "", end_section=i == len(items) - 1
            )
    Console(width=130).print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(run())
