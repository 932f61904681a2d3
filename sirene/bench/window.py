"""`sirene bench window`: the window clustering alone, in seconds, for working on "same problem".

`sirene bench detect` is the measure (the real intake, database, worker and brief, about a minute per
seed). This bench replays the same corpus through `similarity.window` only — cleaning, the real
encoder, the window, and the detector's decision (6 distinct customers in 24 h open one incident;
later reports of a live incident's problem join it; reports of a resolved incident do not count
again; incidents resolve 24 h after they open) — so a change to the clustering can be compared on
every seed in a few seconds. It scores like `bench detect` (no threads: there is no brief) and adds
the membership check that moves the decision most: at each must-open problem's deciding message,
are the reports of the new report's problem exactly that problem's customers? (`exact` of `moments`,
`strays` = other problems' customers in it, `missing` = its own customers in the window left out.)

Agents' corrections, known problems and per-category rules are not replayed (the corpus has none).
`--param name=value` overrides a `WindowParams` field, e.g. `--param link=0.42`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from sirene.bench.detect import _at, default_corpus, load, score

DAY = 86400.0
KEEP = 14 * DAY


def _reports(stream: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The technical, non-helga messages as the window sees them (cleaned, encoded, terms)."""
    from django.conf import settings

    from sirene.cases.attributes import extract_error_codes
    from sirene.cases.services import normalise_tag
    from sirene.similarity import clean_report, default_encoder
    from sirene.similarity.cleaning import common_lines, report_keys
    from sirene.similarity.params import BOILERPLATE_DAYS, BOILERPLATE_MAX_REPORTS
    from sirene.similarity.window import report_terms

    tech = settings.TECH_TAG.strip().lstrip("#").lower()
    excluded = {normalise_tag(t) for t in settings.EXCLUDE_TAGS}
    out: list[dict[str, Any]] = []
    # Every mail the helpdesk stored before this one (as intake's `recent_boilerplate` reads them):
    # (received, customer, line keys), for the boilerplate rule.
    seen: list[tuple[float, str, frozenset[str]]] = []
    for m in stream:
        subject, body = m.get("subject") or "", m.get("body") or ""
        at = _at(m["at"]).timestamp()
        email = str((m.get("customer") or {}).get("email") or "").lower()
        recent = [(who, keys) for t, who, keys in seen if t >= at - BOILERPLATE_DAYS * DAY][
            -BOILERPLATE_MAX_REPORTS:
        ]
        seen.append((at, email, report_keys(subject, body)))
        tags = [normalise_tag(t) for t in m.get("tags") or []]
        if excluded & set(tags) or (tags and tech not in tags):
            continue
        clean = clean_report(subject, body, common=common_lines(recent))
        out.append(
            {
                "m": m,
                "at": _at(m["at"]).timestamp(),
                "clean": clean,
                "terms": report_terms(clean),
                "codes": frozenset(extract_error_codes(f"{subject}\n\n{body}")),
                "tags": frozenset(t for t in tags if t != tech),
            }
        )
    vectors = default_encoder().encode([str(r["clean"]) for r in out])
    for r, v in zip(out, vectors, strict=True):
        r["vector"] = np.asarray(v, dtype=np.float32)
    return out


def replay(reports: list[dict[str, Any]], params: Any, problems: dict[str, Any]) -> dict[str, Any]:
    from sirene.similarity.window import Window, WindowReport

    window = Window(params, horizon=DAY)
    incidents: list[dict[str, Any]] = []
    opens = {
        p["opens_at"]["external_id"]: pid
        for pid, p in problems.items()
        if p.get("must_open") and p.get("opens_at")
    }
    moments = {"moments": 0, "exact": 0, "strays": 0, "missing": 0}
    truth = [r["m"].get("truth", {}).get("problem") for r in reports]
    t0 = time.process_time()
    for key, r in enumerate(reports):
        m, now = r["m"], r["at"]
        email = (m.get("customer") or {}).get("email", "").lower()
        for inc in incidents:
            if not inc["resolved"] and now - inc["at"] > DAY:
                inc["resolved"] = True
        window.add(
            WindowReport(
                key=key,
                at=now,
                identity=f"email:{email}",
                vector=r["vector"].copy(),
                terms=r["terms"],
                codes=r["codes"],
                tags=r["tags"],
            )
        )
        window.evict(now - KEEP)
        members = window.problem_of(key, now - DAY)
        answered = {k for inc in incidents if inc["resolved"] for k in inc["keys"]}
        live = [inc for inc in incidents if not inc["resolved"] and inc["keys"] & set(members)]
        if live:
            best = max(live, key=lambda inc: len(inc["keys"] & set(members)))
            best["keys"] |= {k for k in members if k not in answered} | {key}
        else:
            counted = [k for k in members if window.reports[k].at > now - DAY and k not in answered]
            if len(window.customers(counted)) >= 6:
                incidents.append(
                    {"opened_by": m["external_id"], "keys": set(counted), "at": now, "resolved": False}
                )
        problem = opens.get(m["external_id"])
        if problem is not None:
            mine = {window.reports[k].identity for k in members if truth[k] == problem}
            strays = {window.reports[k].identity for k in members if truth[k] != problem} - mine
            own = {
                window.reports[k].identity
                for k in window.reports
                if truth[k] == problem and window.reports[k].at > now - DAY
            }
            moments["moments"] += 1
            moments["strays"] += len(strays)
            moments["missing"] += len(own - mine)
            moments["exact"] += int(not strays and not own - mine)
    cpu = time.process_time() - t0
    found = [
        {
            "opened_by": inc["opened_by"],
            "messages": [reports[k]["m"]["external_id"] for k in sorted(inc["keys"])],
            "thread": None,
        }
        for inc in incidents
    ]
    return {"incidents": found, "moments": moments, "window_cpu_s": round(cpu, 2)}


CORPORA = ("detect_de", "detect_de_b", "detect_de_c")
SCORE_KEYS = ("recall", "precision", "precision_strict", "at_sixth", "exact_share")


def _params(overrides: list[str]) -> Any:
    """WindowParams with ``name=value`` overrides (ValueError naming the bad one)."""
    from sirene.similarity.window import DEFAULT_WINDOW

    values: dict[str, Any] = {}
    for item in overrides:
        name, _, value = item.partition("=")
        if not hasattr(DEFAULT_WINDOW, name) or not value:
            raise ValueError(f"--param {item!r}: not a WindowParams field=value")
        values[name] = type(getattr(DEFAULT_WINDOW, name))(value)
    return dataclasses.replace(DEFAULT_WINDOW, **values)


_ENCODED: dict[tuple[str, int], tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]] = {}


def _corpus_seed(
    folder: Path, seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """(stream, encoded reports, problems) of one stream, encoded once per process."""
    key = (str(folder), seed)
    if key not in _ENCODED:
        stream, problems = load(folder, seed)
        _ENCODED[key] = (stream, _reports(stream), problems)
    return _ENCODED[key]


def measure(folder: Path, seed: int, params: Any) -> dict[str, Any]:
    """One stream through the window; the scores of `bench detect` plus the deciding-message check."""
    stream, reports, problems = _corpus_seed(folder, seed)
    out = replay(reports, params, problems)
    scored = score(stream, problems, out["incidents"])
    keep = (
        "recall",
        "precision",
        "precision_strict",
        "at_sixth",
        "early",
        "late",
        "duplicates",
        "merged",
        "false_positive",
        "delay_after_sixth_min_p50",
        "delay_after_sixth_min_p90",
    )
    moments = out["moments"]
    row = {
        "corpus": folder.name,
        "seed": seed,
        **{k: scored[k] for k in keep},
        **moments,
        "exact_share": moments["exact"] / moments["moments"] if moments["moments"] else 1.0,
        "window_cpu_s": out["window_cpu_s"],
    }
    row.update(
        {k: scored[k] for k in ("missed", "false_positive_problems", "merged_details", "stray_details")}
    )
    return row


def objective(rows: list[dict[str, Any]]) -> float:
    """The one number constants are chosen by: mean over streams of recall, strict precision,
    opened at the 6th and exact membership at the deciding message, less 0.1 per duplicate."""
    if not rows:
        return 0.0
    per: list[float] = [
        (r["recall"] + r["precision_strict"] + r["at_sixth"] + r["exact_share"]) / 4 - 0.1 * r["duplicates"]
        for r in rows
    ]
    return float(sum(per) / len(per))


def _seeds(folder: Path) -> list[int]:
    return sorted(int(p.stem.split("-")[1]) for p in folder.glob("stream-*.jsonl"))


def _print_rows(rows: list[dict[str, Any]], held_out: set[str]) -> None:
    for r in rows:
        mark = " [held-out]" if r["corpus"] in held_out else ""
        print(
            f"{r['corpus']:<12} seed {r['seed']}{mark}: recall {r['recall']:.3f} precision {r['precision']:.3f} "
            f"strict {r['precision_strict']:.3f} at 6th {r['at_sixth']:.3f} (early {r['early']}, late {r['late']}) "
            f"delay p50/p90 {r['delay_after_sixth_min_p50']}/{r['delay_after_sixth_min_p90']} min "
            f"dup {r['duplicates']} merged {r['merged']} · deciding message: {r['exact']}/{r['moments']} exact, "
            f"{r['strays']} strays, {r['missing']} missing · {r['window_cpu_s']} CPU-s"
        )
        for k in ("missed", "false_positive_problems", "merged_details", "stray_details"):
            if r[k]:
                print(f"    {k}: {r[k]}")
    if rows:
        mean = {k: sum(r[k] for r in rows) / len(rows) for k in SCORE_KEYS}
        print(
            "mean: "
            + ", ".join(f"{k} {v:.3f}" for k, v in mean.items())
            + f", objective {objective(rows):.3f}"
        )


def _grid(specs: list[str]) -> list[list[str]]:
    """``name=v1,v2`` specs -> every combination as a list of ``name=value`` overrides."""
    import itertools

    axes = []
    for spec in specs:
        name, _, values = spec.partition("=")
        axes.append([f"{name}={v}" for v in values.split(",") if v])
    return [list(combo) for combo in itertools.product(*axes)] if axes else [[]]


def rotate(folders: list[Path], specs: list[str], base: list[str]) -> dict[str, Any]:
    """The three-author protocol: for each corpus, choose the grid point that scores best on the
    OTHER corpora (every seed) and report it on the held-out one."""
    points = _grid(specs)
    table: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for i, point in enumerate(points):
        params = _params([*base, *point])
        for folder in folders:
            table[(i, folder.name)] = [measure(folder, seed, params) for seed in _seeds(folder)]
    out: dict[str, Any] = {"points": [" ".join(p) or "(defaults)" for p in points], "rotations": []}
    for held in folders:
        train = [f.name for f in folders if f != held]
        best = max(
            range(len(points)),
            key=lambda i: (objective([r for name in train for r in table[(i, name)]]), -i),
        )
        out["rotations"].append(
            {
                "held_out": held.name,
                "chosen_on": train,
                "chosen": out["points"][best],
                "train_objective": round(objective([r for name in train for r in table[(best, name)]]), 4),
                "held_out_objective": round(objective(table[(best, held.name)]), 4),
                "held_out_rows": table[(best, held.name)],
            }
        )
    return out


def run(argv: list[str] | None = None) -> int:
    from sirene.bench._data import data_dir
    from sirene.similarity.window import HELD_OUT

    parser = argparse.ArgumentParser(prog="sirene bench window", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", type=Path, default=None, help="folder with stream-N.jsonl (default: detect_de)"
    )
    parser.add_argument("--seed", type=int, action="append", help="seed(s) (default: every stream)")
    parser.add_argument(
        "--all",
        action="store_true",
        help="every German corpus and seed in one table; rows whose numbers are held-out numbers "
        "(defaults chosen on the other corpora, see similarity.window.HELD_OUT) are marked [held-out]",
    )
    parser.add_argument(
        "--rotate",
        action="append",
        default=None,
        metavar="NAME=V1,V2",
        help="the three-author protocol over a grid of WindowParams values: for each corpus, the grid point "
        "best on the other two, reported on it (repeat for more axes)",
    )
    parser.add_argument("--param", action="append", default=[], help="WindowParams override, name=value")
    parser.add_argument("--json", action="store_true", help="last line: one JSON object")
    args = parser.parse_args(argv or [])
    try:
        params = _params(args.param)
        if args.rotate:
            for point in _grid(args.rotate):
                _params(point)
    except (ValueError, TypeError) as exc:
        print(f"sirene bench window: {exc}", file=sys.stderr)
        return 2
    if args.all or args.rotate:
        folders = [data_dir() / name for name in CORPORA]
    else:
        folders = [args.corpus or default_corpus()]
    missing = [str(f) for f in folders if not f.is_dir()]
    if missing:
        print(
            f"sirene bench window: corpus folder(s) {', '.join(missing)} not found (give --corpus DIR or set "
            "SIRENE_BENCH_DATA to the folder holding detect_de/, detect_de_b/, detect_de_c/)",
            file=sys.stderr,
        )
        return 2
    if args.rotate:
        result = rotate(folders, args.rotate, args.param)
        if args.json:
            print(json.dumps(result, default=str))
            return 0
        print(f"grid: {len(result['points'])} points")
        for rot in result["rotations"]:
            print(
                f"held out {rot['held_out']}: chosen on {'+'.join(rot['chosen_on'])}: {rot['chosen']} "
                f"(objective there {rot['train_objective']:.3f}, held out {rot['held_out_objective']:.3f})"
            )
            _print_rows(rot["held_out_rows"], {rot["held_out"]})
        return 0
    rows: list[dict[str, Any]] = []
    for folder in folders:
        seeds = args.seed or _seeds(folder)
        rows.extend(measure(folder, seed, params) for seed in seeds)
    held_out = {f.name for f in folders if f.name in HELD_OUT} if args.all else set()
    if args.json:
        print(
            json.dumps(
                {
                    "params": dataclasses.asdict(params),
                    "held_out_corpora": list(HELD_OUT),
                    "held_out": sorted(held_out),
                    "seeds": rows,
                },
                default=str,
            )
        )
        return 0
    _print_rows(rows, held_out)
    return 0
