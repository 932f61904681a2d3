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
    from sirene.similarity.window import report_terms

    tech = settings.TECH_TAG.strip().lstrip("#").lower()
    excluded = {normalise_tag(t) for t in settings.EXCLUDE_TAGS}
    out: list[dict[str, Any]] = []
    for m in stream:
        tags = [normalise_tag(t) for t in m.get("tags") or []]
        if excluded & set(tags) or (tags and tech not in tags):
            continue
        subject, body = m.get("subject") or "", m.get("body") or ""
        clean = clean_report(subject, body)
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


def run(argv: list[str] | None = None) -> int:
    from sirene.similarity.window import DEFAULT_WINDOW

    parser = argparse.ArgumentParser(prog="sirene bench window", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", type=Path, default=None, help="folder with stream-N.jsonl (default: detect_de)"
    )
    parser.add_argument("--seed", type=int, action="append", help="seed(s) (default: every stream)")
    parser.add_argument("--param", action="append", default=[], help="WindowParams override, name=value")
    parser.add_argument("--json", action="store_true", help="last line: one JSON object")
    args = parser.parse_args(argv or [])
    folder = args.corpus or default_corpus()
    if not folder.is_dir():
        print(f"sirene bench window: corpus folder {folder} not found (give --corpus DIR)", file=sys.stderr)
        return 2
    overrides: dict[str, Any] = {}
    for item in args.param:
        name, _, value = item.partition("=")
        if not hasattr(DEFAULT_WINDOW, name) or not value:
            print(f"sirene bench window: --param {item!r}: not a WindowParams field=value", file=sys.stderr)
            return 2
        overrides[name] = type(getattr(DEFAULT_WINDOW, name))(value)
    params = dataclasses.replace(DEFAULT_WINDOW, **overrides)
    seeds = args.seed or sorted(int(p.stem.split("-")[1]) for p in folder.glob("stream-*.jsonl"))
    results = []
    for seed in seeds:
        stream, problems = load(folder, seed)
        out = replay(_reports(stream), params, problems)
        scored = score(stream, problems, out["incidents"])
        keep = ("recall", "precision", "at_sixth", "early", "late", "duplicates", "merged", "false_positive")
        row = {
            "seed": seed,
            **{k: scored[k] for k in keep},
            **out["moments"],
            "window_cpu_s": out["window_cpu_s"],
        }
        row.update({k: scored[k] for k in ("missed", "false_positive_problems", "merged_details")})
        results.append(row)
    if args.json:
        print(json.dumps({"params": dataclasses.asdict(params), "seeds": results}, default=str))
        return 0
    for r in results:
        print(
            f"seed {r['seed']}: recall {r['recall']:.3f} precision {r['precision']:.3f} at 6th {r['at_sixth']:.3f} "
            f"(early {r['early']}, late {r['late']}) dup {r['duplicates']} merged {r['merged']} · deciding message: "
            f"{r['exact']}/{r['moments']} exact, {r['strays']} strays, {r['missing']} missing · {r['window_cpu_s']} CPU-s"
        )
        for k in ("missed", "false_positive_problems", "merged_details"):
            if r[k]:
                print(f"    {k}: {r[k]}")
    return 0
