"""``sirene bench grouping``: online problem grouping vs. baselines, streamed in file order.

For each dataset (test split by default; labels are used ONLY for scoring) it runs, in one process:

* **sirene** - clean_text + default encoder (USE, centred on the shipped mean) + OnlineGrouper with
  DEFAULT_GROUPING; throughput is end-to-end (cleaning + encoding + grouping);
* **sirene+domain-mean** - the same, centred on the mean of the dataset's *train* texts
  (unlabelled - what a deployment gets by fitting on its historical tickets);
* **fingerprint** - Sentry-style: exact match of the normalised text (lowercase, digits and
  punctuation stripped);
* **tfidf-threshold** - hashed char n-gram TF vectors + the same online centroid rule (threshold tuned
  on the train/valid split);
* **use-naive** - raw USE vectors + naive online centroid threshold 0.60 (the earlier prototype).

Also reports the Spearman correlation of the default encoder's cosine on german_nlu_similarity.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sirene.bench._data import (
    Dataset,
    bcubed,
    load_csv,
    load_dataset,
    load_sts_pairs,
    peak_rss_mib,
    subsample,
)

DATASETS = ("banking77", "hwu64", "xsid_de")
QUICK_ROWS = 400
# Baseline thresholds, chosen on banking77 train / hwu64 valid like sirene's (never on test).
TFIDF_THRESHOLD = 0.5
NAIVE_USE_THRESHOLD = 0.6


def _metrics(
    labels: Sequence[str], pred: Sequence[int], seconds: float, cpu_seconds: float | None = None
) -> dict[str, float]:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    p, r, f = bcubed(labels, pred)
    return {
        "nmi": round(float(normalized_mutual_info_score(labels, pred)), 4),
        "ari": round(float(adjusted_rand_score(labels, pred)), 4),
        "bcubed_precision": round(p, 4),
        "bcubed_recall": round(r, 4),
        "bcubed_f1": round(f, 4),
        "groups": len(set(pred)),
        "texts_per_s": round(len(pred) / seconds, 1) if seconds > 0 else float("inf"),
        # CPU-time throughput: the dev box is shared, so wall-clock figures vary with other load
        **({"texts_per_cpu_s": round(len(pred) / cpu_seconds, 1)} if cpu_seconds else {}),
    }


def _group_vectors(vectors: np.ndarray, threshold: float) -> list[int]:
    from sirene.similarity.grouping import OnlineGrouper
    from sirene.similarity.params import GroupingParams

    class _Dim:
        name = "precomputed"
        dim = vectors.shape[1]

        def encode(self, texts: Sequence[str]) -> np.ndarray:  # pragma: no cover - never called
            raise NotImplementedError

    grouper = OnlineGrouper(_Dim(), GroupingParams(threshold=threshold, member_weight=0.0), clean=False)
    return [grouper.add_vector(v) for v in vectors]


_FP_RE = re.compile(r"[\W\d_]+", re.UNICODE)


def fingerprint(text: str) -> str:
    """Sentry-style grouping key: lowercase words, numbers and punctuation dropped."""
    return _FP_RE.sub(" ", text.lower()).strip()


def _timed(fn: Callable[[], list[int]]) -> tuple[list[int], float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def evaluate(ds: Dataset, train_texts: Sequence[str], progress: Any = None) -> dict[str, Any]:
    from sirene.similarity.cleaning import clean_text
    from sirene.similarity.encoders import CenteredEncoder, HashingEncoder, default_encoder, l2_normalise
    from sirene.similarity.grouping import OnlineGrouper
    from sirene.similarity.params import DEFAULT_GROUPING

    enc = default_encoder()
    assert isinstance(enc, CenteredEncoder)
    texts = ds.texts

    # sirene, end to end (the model is already loaded by the caller's warm-up)
    raw_box: dict[str, np.ndarray] = {}

    def sirene_run() -> list[int]:
        cleaned = [clean_text(t) for t in texts]
        raw = enc.base.encode(cleaned)
        raw_box["raw"] = raw
        vecs = raw.copy()
        nz = np.any(vecs != 0, axis=1)
        vecs[nz] -= enc.mean
        vecs = l2_normalise(vecs)
        grouper = OnlineGrouper(enc, DEFAULT_GROUPING, clean=False)
        return [grouper.add_vector(v) for v in vecs]

    cpu0 = time.process_time()
    pred, secs = _timed(sirene_run)
    cpu = time.process_time() - cpu0
    result: dict[str, Any] = {"dataset": ds.name, "n": len(texts), **_metrics(ds.labels, pred, secs, cpu)}
    raw = raw_box["raw"]
    encode_secs = secs  # upper bound of the shared cleaning+encoding cost, used for USE baselines
    if progress:
        progress()

    baselines: dict[str, dict[str, float]] = {}
    # domain mean: fitted on unlabelled train texts, i.e. no test information
    t0 = time.perf_counter()
    train_vecs = enc.base.encode([clean_text(t) for t in train_texts])
    train_vecs = train_vecs[np.any(train_vecs != 0, axis=1)]
    dom_mean = train_vecs.mean(axis=0)
    fit_secs = time.perf_counter() - t0
    dv = raw.copy()
    nz = np.any(dv != 0, axis=1)
    dv[nz] -= dom_mean
    pred, secs = _timed(lambda: _group_vectors(l2_normalise(dv), DEFAULT_GROUPING.threshold))
    baselines["sirene+domain-mean"] = _metrics(ds.labels, pred, encode_secs + secs)
    baselines["sirene+domain-mean"]["mean_fit_s"] = round(fit_secs, 1)
    if progress:
        progress()

    def fp_run() -> list[int]:
        keys: dict[str, int] = {}
        return [keys.setdefault(fingerprint(t), len(keys)) for t in texts]

    pred, secs = _timed(fp_run)
    baselines["fingerprint"] = _metrics(ds.labels, pred, secs)

    hashing = HashingEncoder(dim=4096, ngram_range=(2, 4))
    pred, secs = _timed(
        lambda: _group_vectors(hashing.encode([clean_text(t) for t in texts]), TFIDF_THRESHOLD)
    )
    baselines["tfidf-threshold"] = _metrics(ds.labels, pred, secs)

    pred, secs = _timed(lambda: _group_vectors(l2_normalise(raw), NAIVE_USE_THRESHOLD))
    baselines["use-naive"] = _metrics(ds.labels, pred, encode_secs + secs)
    if progress:
        progress()
    result["baselines"] = baselines
    return result


def sts_spearman(quick: bool = False) -> float:
    """Spearman of the default encoder's cosine vs. the human 0-5 score (german_nlu_similarity)."""
    from scipy.stats import spearmanr

    from sirene.similarity.cleaning import clean_text
    from sirene.similarity.encoders import default_encoder

    a, b, y = load_sts_pairs()
    if quick:
        a, b, y = a[:300], b[:300], y[:300]
    enc = default_encoder()
    va = enc.encode([clean_text(t) for t in a])
    vb = enc.encode([clean_text(t) for t in b])
    return round(float(spearmanr(np.sum(va * vb, axis=1), y).statistic), 4)


def _print_table(results: list[dict[str, Any]], sts: float | None, peak: float, total_s: float) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"sirene bench grouping - online, k unknown (peak RSS {peak:.0f} MiB, {total_s:.0f} s)"
    )
    table.caption_justify = "left"
    for col in ("dataset", "method", "NMI", "ARI", "B3 P", "B3 R", "B3 F1", "groups", "texts/s"):
        table.add_column(col, justify="left" if col in ("dataset", "method") else "right")
    for res in results:
        rows = [("sirene", res)] + list(res["baselines"].items())
        for i, (name, m) in enumerate(rows):
            table.add_row(
                f"{res['dataset']} (n={res['n']})" if i == 0 else "",
                f"[bold]{name}[/bold]" if name == "sirene" else name,
                f"{m['nmi']:.3f}",
                f"{m['ari']:.3f}",
                f"{m['bcubed_precision']:.3f}",
                f"{m['bcubed_recall']:.3f}",
                f"{m['bcubed_f1']:.3f}",
                str(m["groups"]),
                f"{m['texts_per_s']:.0f}",
                end_section=i == len(rows) - 1,
            )
    if sts is not None:
        table.caption = f"german_nlu_similarity: Spearman(cosine, human score) = {sts:.3f}"
    if results and "texts_per_cpu_s" in results[0]:
        cpu = ", ".join(f"{r['dataset']} {r['texts_per_cpu_s']:.0f}" for r in results)
        table.caption = (table.caption or "") + f"\nsirene texts per CPU-second (load-independent): {cpu}"
    Console(width=130).print(table)


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sirene bench grouping", description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", action="append", choices=DATASETS, help="repeatable; default: all three")
    parser.add_argument("--split", default="test", help="split to evaluate (test; train/valid for tuning)")
    parser.add_argument("--data", help="custom CSV with text + category columns (overrides --dataset)")
    parser.add_argument("--quick", action="store_true", help=f"subsample {QUICK_ROWS} rows per dataset (CI)")
    parser.add_argument("--no-sts", action="store_true", help="skip the German STS Spearman figure")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)

    from rich.progress import Progress

    from sirene.similarity.encoders import default_encoder

    t_start = time.perf_counter()
    default_encoder().encode(["warm-up"])  # model load is not part of the throughput
    sets: list[tuple[Dataset, list[str]]]
    if args.data:
        sets = [(load_csv(args.data), [])]
    else:
        names = args.dataset or list(DATASETS)
        sets = []
        for name in names:
            ds = load_dataset(name, args.split)
            train = load_dataset(name, "valid" if name == "xsid_de" else "train").texts
            if args.quick:
                ds = subsample(ds, QUICK_ROWS)
                train = train[:: max(1, len(train) // QUICK_ROWS)]
            sets.append((ds, train))

    results = []
    with Progress(transient=True, disable=args.json) as progress:
        task = progress.add_task("grouping", total=3 * len(sets) + 1)
        for ds, train in sets:
            results.append(evaluate(ds, train or ds.texts, lambda: progress.advance(task)))
        sts = None if args.no_sts else sts_spearman(args.quick)
        progress.advance(task)
    peak = peak_rss_mib()
    total = time.perf_counter() - t_start
    if args.json:
        top = {k: v for k, v in results[0].items()}
        out = {
            **top,
            "datasets": {r["dataset"]: r for r in results},
            "sts_spearman": sts,
            "peak_rss_mib": round(peak, 1),
            "total_s": round(total, 1),
        }
        print(json.dumps(out))
    else:
        _print_table(results, sts, peak, total)
    return 0


if __name__ == "__main__":
    raise SystemExit(run())
