"""`sirene bench detect`: the 6th distinct customer with the same problem opens exactly one incident?

Default corpus: `detect_de` (German support mail with the truth per message, see its README), found
like every bench dataset: `$SIRENE_BENCH_DATA/detect_de` or `../shared/data/detect_de` next to the
repository; `--corpus DIR` names another folder holding `stream-N.jsonl` + `problems-N.json`.

What runs (the real path, on a throwaway database of the configured engine): every message goes
through `flows.intake.report_case` exactly as the API calls it (the `truth` field stripped), which
embeds it with the real encoder and runs knowledge + detection in its own transaction; sirene's
clock is moved to each message's `at`; after every message the worker loop (`worker.loop.run_once`)
runs, and a responder resolves each incident 24 simulated hours after it opened.

Scores (definitions of the corpus's score.py, re-implemented here so the bench never imports from
../shared): recall, precision, at_sixth (opened exactly by the message that made it the 6th distinct
customer) with early/late counts, duplicates, merged, thread_named/thread_planted (planted threads
named in the brief at open), none_right/none_total, early-warning lead (median minutes before the
incident), p99 of the deciding report's intake (ms) and reports/s through intake + analysis +
detection (one worker, sum of per-message intake times). With `--json` the LAST line is one JSON
object (the per-seed results under "seeds", their mean at the top level, the worst seed's
at_sixth/recall/precision as `min_*`).

The older synthetic stream from banking77/hwu64/xsid_de is the second table (`--datasets`, or
always in the table output unless `--no-datasets`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from sirene.bench._data import data_dir

H24 = dt.timedelta(hours=24)
CLUSTER_KINDS = {"burst", "near_miss", "small", "recurring", "spike"}
SYNONYMS = {
    "email_group": "email_domain",
    "email_provider": "email_domain",
    "provider": "email_domain",
    "domain": "email_domain",
    "browser": "browser_family",
    "club": "club_member",
    "os": "platform",
}
RESOLVE_AFTER = dt.timedelta(hours=24)


def default_corpus() -> Path:
    return data_dir() / "detect_de"


def _at(s: str) -> dt.datetime:
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def load(folder: Path, seed: int) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    with (folder / f"stream-{seed}.jsonl").open(encoding="utf-8") as f:
        stream = [json.loads(line) for line in f if line.strip()]
    with (folder / f"problems-{seed}.json").open(encoding="utf-8") as f:
        problems = {p["id"]: p for p in json.load(f)["problems"]}
    return stream, problems


# --- scoring (the corpus's definitions) -----------------------------------------------------------


def thread_ok(named: Any, truth: Any) -> bool:
    if not truth:
        return not named or named in ("none", "keine")
    if not isinstance(named, dict):
        return False
    name = str(named.get("attribute"))
    attr = SYNONYMS.get(name, name)
    vals = named.get("values") or []
    if attr != truth["attribute"] or not vals:
        return False
    if attr == "email_domain":
        return all(
            str(v).lower() in truth["values"] or "gmx" in str(v).lower() or "web.de" in str(v).lower()
            for v in vals
        )
    return {str(v).lower() for v in vals} <= {str(v).lower() for v in truth["values"]}


def score(
    stream: list[dict[str, Any]], problems: dict[str, dict[str, Any]], incidents: list[dict[str, Any]]
) -> dict[str, Any]:
    by_id = {m["external_id"]: m for m in stream}
    order = {m["external_id"]: i for i, m in enumerate(stream)}
    per_problem: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in stream:
        per_problem[m["truth"]["problem"]].append(m)
    must = [p for p in problems.values() if p["must_open"]]
    rows: list[dict[str, Any]] = []
    for inc in incidents:
        ids = [i for i in dict.fromkeys([*inc.get("messages", []), inc["opened_by"]]) if i in by_id]
        linked = [by_id[i] for i in ids]
        helga = sum(1 for m in linked if m["truth"]["kind"] == "helga")
        cust: dict[str, set[str]] = defaultdict(set)
        for m in linked:
            if m["truth"]["kind"] != "helga":
                cust[m["truth"]["problem"]].add(m["customer"]["email"].lower())
        opener = by_id[inc["opened_by"]]["truth"]["problem"]
        problem = max(cust, key=lambda p: (len(cust[p]), p == opener)) if cust else opener
        clusters = [p for p, cs in cust.items() if problems[p]["kind"] in CLUSTER_KINDS and len(cs) >= 2]
        rows.append(
            {
                "incident": inc,
                "problem": problem,
                "helga": helga,
                # precision_strict: an incident holding 2+ customers of another problem is wrong
                "strays": sorted(p for p, cs in cust.items() if p != problem and len(cs) >= 2),
                "merged": len(clusters) >= 2,
                "merged_with": sorted(p for p in clusters if p != problem),
                "pos": order[inc["opened_by"]],
            }
        )
    rows.sort(key=lambda r: r["pos"])
    first: dict[str, dict[str, Any]] = {}
    tp: list[dict[str, Any]] = []
    fp: list[dict[str, Any]] = []
    dup: list[dict[str, Any]] = []
    for r in rows:
        p = problems[r["problem"]]
        if not p["must_open"]:
            fp.append(r)
        elif r["problem"] in first:
            dup.append(r)
        else:
            first[r["problem"]] = r
            tp.append(r)
    timing: Counter[str] = Counter()
    off: Counter[int] = Counter()
    delays: list[float] = []
    for r in tp:
        p = problems[r["problem"]]
        want, got = order[p["opens_at"]["external_id"]], r["pos"]
        t = _at(by_id[r["incident"]["opened_by"]]["at"])
        # minutes from the 6th distinct customer's report to the incident (0 when early or exact)
        sixth = _at(by_id[p["opens_at"]["external_id"]]["at"])
        delays.append(max(0.0, (t - sixth).total_seconds() / 60.0))
        seen = {
            m["customer"]["email"].lower()
            for m in per_problem[r["problem"]]
            if m["truth"]["kind"] != "helga"
            and t - H24 < _at(m["at"]) <= t
            and order[m["external_id"]] <= got
        }
        off[len(seen) - 6] += 1
        timing["exact" if got == want else ("early" if got < want else "late")] += 1
    planted = [r for r in tp if problems[r["problem"]]["thread"]]
    unplanted = [r for r in tp if not problems[r["problem"]]["thread"]]
    leads = [
        r["incident"]["warning_lead_min"] for r in tp if r["incident"].get("warning_lead_min") is not None
    ]
    return {
        "must_open": len(must),
        "incidents": len(rows),
        "recall": len(tp) / len(must) if must else 1.0,
        "precision": len(tp) / len(rows) if rows else 1.0,
        "precision_strict": sum(1 for r in tp if not r["strays"]) / len(rows) if rows else 1.0,
        "delay_after_sixth_min_p50": _pct(delays, 50),
        "delay_after_sixth_min_p90": _pct(delays, 90),
        "at_sixth": timing["exact"] / len(tp) if tp else 0.0,
        "early": timing["early"],
        "late": timing["late"],
        "customers_at_open_minus_6": dict(sorted(off.items())),
        "duplicates": len(dup),
        "merged": sum(1 for r in rows if r["merged"]),
        "false_positive": len(fp),
        "helga_linked": sum(r["helga"] for r in rows),
        "thread_planted": len(planted),
        "thread_named": sum(
            thread_ok(r["incident"].get("thread"), problems[r["problem"]]["thread"]) for r in planted
        ),
        "none_total": len(unplanted),
        "none_right": sum(thread_ok(r["incident"].get("thread"), None) for r in unplanted),
        "early_warning_lead_min": round(statistics.median(leads), 1) if leads else None,
        "early_warnings_before_incident": len(leads),
        "missed": sorted(p["id"] for p in must if p["id"] not in first),
        "false_positive_problems": sorted({r["problem"] for r in fp}),
        "duplicate_problems": sorted({r["problem"] for r in dup}),
        "merged_details": [[r["problem"], r["merged_with"]] for r in rows if r["merged"]],
        "stray_details": [[r["problem"], r["strays"]] for r in rows if r["strays"]],
        "wrong_threads": [
            [r["problem"], r["incident"].get("thread")]
            for r in tp
            if not thread_ok(r["incident"].get("thread"), problems[r["problem"]]["thread"])
        ],
        "timing_details": {
            r["problem"]: order[r["incident"]["opened_by"]]
            - order[problems[r["problem"]]["opens_at"]["external_id"]]
            for r in tp
            if r["incident"]["opened_by"] != problems[r["problem"]]["opens_at"]["external_id"]
        },
    }


def _pct(values: list[float], q: float) -> float | None:
    """The q-th percentile (linear interpolation), rounded to 0.1; None without values."""
    if not values:
        return None
    return round(float(np.percentile(np.array(values), q)), 1)


# --- replay ---------------------------------------------------------------------------------------


def _intake_data(m: dict[str, Any]) -> Any:
    from sirene.cases import services

    c = m.get("customer") or {}
    return services.IntakeData(
        source=m["source"],
        external_id=m["external_id"],
        subject=m.get("subject") or "",
        body=m.get("body") or "",
        customer=services.CustomerData(
            email=c.get("email"),
            external_id=None,
            name=c.get("name") or "",
            attributes=c.get("attributes") or {},
        ),
        tags=list(m.get("tags") or []),
        category=None,
        channel="email",
        received_at=_at(m["at"]),
        raw_payload={k: v for k, v in m.items() if k != "truth"},
    )


def _thread_of(brief: dict[str, Any]) -> dict[str, Any] | None:
    thread = brief.get("thread")
    if not thread:
        return None
    return {"attribute": thread["attribute"], "values": list(thread["values"])}


def replay(stream: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run the stream through sirene; returns (incidents in score.py's format, timings)."""
    from sirene.core import clock
    from sirene.detection import store as detection
    from sirene.flows import incidents as incident_flows
    from sirene.flows import intake as intake_flow
    from sirene.incidents import tasks
    from sirene.incidents.models import Incident, IncidentStatus
    from sirene.similarity import default_encoder
    from sirene.worker import loop

    detection.reset()
    default_encoder().encode(["Aufwärmen: das Modell lädt einmal."])  # a running worker has it loaded
    tasks.warm_up()
    opened: dict[int, dict[str, Any]] = {}
    works: list[float] = []
    cpu: list[float] = []
    deciding: list[float] = []
    ticks: list[float] = []
    for m in stream:
        at = _at(m["at"])
        clock.set_now(at)
        for stale in Incident.objects.exclude(status=IncidentStatus.RESOLVED).filter(
            opened_at__lt=at - RESOLVE_AFTER
        ):
            incident_flows.resolve(stale, resolution="bench: resolved by the responder")
        before = Incident.objects.order_by("-id").values_list("id", flat=True).first() or 0
        t0, c0 = time.perf_counter(), time.process_time()
        intake_flow.report_case(_intake_data(m), actor_label="api")
        work = time.perf_counter() - t0
        cpu.append(time.process_time() - c0)
        works.append(work)
        for incident in Incident.objects.filter(pk__gt=before, origin="auto"):
            deciding.append(work)
            opened[incident.pk] = {"opened_by": m["external_id"], "thread": _thread_of(incident.brief)}
        t1 = time.perf_counter()
        loop.run_once()
        ticks.append(time.perf_counter() - t1)
    clock.set_now(None)
    out = []
    for pk, info in sorted(opened.items()):
        incident = Incident.objects.get(pk=pk)
        messages = list(incident.cases.values_list("external_id", flat=True))
        lead = None
        warning = incident.early_warnings.order_by("raised_at").first()
        if warning is not None:
            lead = round((incident.opened_at - warning.raised_at).total_seconds() / 60.0, 1)
        out.append({**info, "messages": messages, "warning_lead_min": lead})
    from sirene.incidents.models import EarlyWarning

    interval = 0.01  # arrivals at 100 reports/s through one worker
    finish, queued = 0.0, []
    for i, w in enumerate(works):
        finish = max(i * interval, finish) + w
        queued.append(finish - i * interval)
    timing = {
        "p50_ms": float(np.percentile(np.array(works) * 1000, 50)),
        "p99_all_ms": float(np.percentile(np.array(works) * 1000, 99)),
        "p99_ms": float(np.percentile(np.array(deciding) * 1000, 99)) if deciding else None,
        "max_deciding_ms": max(deciding) * 1000 if deciding else None,
        "reports_per_s": len(works) / sum(works) if works else 0.0,
        # The same per CPU second of this process: on a shared machine the wall clock also counts
        # the time other processes held the cores.
        "reports_per_cpu_s": len(cpu) / sum(cpu) if cpu and sum(cpu) else 0.0,
        "queued_at_100_per_s_p99_ms": float(np.percentile(np.array(queued) * 1000, 99)),
        "worker_tick_ms_mean": float(np.mean(ticks) * 1000) if ticks else 0.0,
        "early_warnings": EarlyWarning.objects.count(),
        "early_warnings_without_incident": EarlyWarning.objects.filter(incident__isnull=True).count(),
    }
    return out, timing


def run_seed(folder: Path, seed: int) -> dict[str, Any]:
    from django.db import connection

    stream, problems = load(folder, seed)
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        incidents, timing = replay([{k: v for k, v in m.items() if k != "truth"} for m in stream])
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    result = score(stream, problems, incidents)
    result.update(timing)
    result["seed"] = seed
    result["messages"] = len(stream)
    return result


MEAN_KEYS = (
    "recall",
    "precision",
    "precision_strict",
    "delay_after_sixth_min_p50",
    "delay_after_sixth_min_p90",
    "at_sixth",
    "duplicates",
    "merged",
    "false_positive",
    "thread_named",
    "thread_planted",
    "none_right",
    "none_total",
    "p99_ms",
    "reports_per_s",
    "reports_per_cpu_s",
)


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    if len(results) == 1:
        return results[0]
    out: dict[str, Any] = {}
    for key in MEAN_KEYS:
        values = [r[key] for r in results if r.get(key) is not None]
        out[key] = round(statistics.mean(values), 4) if values else None
    leads = [r["early_warning_lead_min"] for r in results if r.get("early_warning_lead_min") is not None]
    out["early_warning_lead_min"] = round(statistics.median(leads), 1) if leads else None
    for key in ("recall", "precision", "at_sixth"):
        out[f"min_{key}"] = min(r[key] for r in results)
    out["p99_ms"] = max(r["p99_ms"] or 0 for r in results)
    out["reports_per_s"] = min(r["reports_per_s"] for r in results)
    out["seeds"] = {f"{r.get('corpus', '')}:{r['seed']}".lstrip(":"): r for r in results}
    return out


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def _table(results: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title="incident detection (targets: recall ≥ 0.99, precision_strict ≥ 0.95, 6th ≥ 90 %, "
        "delay p90 ≤ 5 min)"
    )
    for col in (
        "seed",
        "recall",
        "precision (strict)",
        "delay p50/p90 min",
        "at 6th (early/late)",
        "dup",
        "merged",
        "false",
        "thread named",
        "none right",
        "EW lead min",
        "p99 ms",
        "reports/s (cpu)",
    ):
        table.add_column(col)
    for r in results:
        table.add_row(
            f"{r.get('corpus', '')} {r['seed']}{' [held-out]' if r.get('held_out') else ''}".strip(),
            f"{r['recall']:.3f}",
            f"{r['precision']:.3f} ({r['precision_strict']:.3f})",
            f"{_num(r['delay_after_sixth_min_p50'])}/{_num(r['delay_after_sixth_min_p90'])}",
            f"{r['at_sixth']:.0%} ({r['early']}/{r['late']})",
            str(r["duplicates"]),
            str(r["merged"]),
            str(r["false_positive"]),
            f"{r['thread_named']}/{r['thread_planted']}",
            f"{r['none_right']}/{r['none_total']}",
            "–" if r["early_warning_lead_min"] is None else f"{r['early_warning_lead_min']:.0f}",
            "–" if r["p99_ms"] is None else f"{r['p99_ms']:.0f}",
            f"{r['reports_per_s']:.0f} ({r['reports_per_cpu_s']:.0f})",
        )
    Console(width=170).print(table)
    for r in results:
        problems = [
            ("missed", r["missed"]),
            ("false", r["false_positive_problems"]),
            ("dup", r["duplicate_problems"]),
            ("merged", r["merged_details"]),
            ("strays", r["stray_details"]),
            ("thread", r["wrong_threads"]),
            ("off-6th", r["timing_details"]),
        ]
        shown = "; ".join(f"{k}: {v}" for k, v in problems if v)
        if shown:
            print(f"seed {r['seed']}: {shown}")


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sirene bench detect", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", type=Path, default=None, help="folder with stream-N.jsonl (default: detect_de)"
    )
    parser.add_argument("--seed", type=int, action="append", help="seed(s) to replay (default: every stream)")
    parser.add_argument(
        "--all",
        action="store_true",
        help="every German corpus (detect_de, detect_de_b, detect_de_c) and seed in one table; held-out rows marked",
    )
    parser.add_argument("--json", action="store_true", help="last line: one JSON object")
    parser.add_argument("--datasets", action="store_true", help="also the banking77/hwu64/xsid_de table")
    parser.add_argument("--no-datasets", action="store_true", help="table output without that second table")
    parser.add_argument("--quick", action="store_true", help="the datasets table on its small stream")
    args = parser.parse_args(argv or [])
    from sirene.similarity.window import HELD_OUT

    folders = (
        [data_dir() / name for name in ("detect_de", "detect_de_b", "detect_de_c")]
        if args.all
        else [args.corpus or default_corpus()]
    )
    for folder in folders:
        if not folder.is_dir():
            print(
                f"sirene bench detect: corpus folder {folder} not found. Give --corpus DIR (a folder with "
                "stream-N.jsonl and problems-N.json) or set SIRENE_BENCH_DATA to the folder holding "
                "detect_de/, detect_de_b/ and detect_de_c/.",
                file=sys.stderr,
            )
            return 2
        if not list(folder.glob("stream-*.jsonl")):
            print(f"sirene bench detect: no stream-N.jsonl in {folder}", file=sys.stderr)
            return 2
    t0 = time.perf_counter()
    results = []
    for folder in folders:
        seeds = args.seed or sorted(int(p.stem.split("-")[1]) for p in folder.glob("stream-*.jsonl"))
        for seed in seeds:
            result = run_seed(folder, seed)
            result["corpus"] = folder.name if args.all else ""
            result["held_out"] = args.all and folder.name in HELD_OUT
            results.append(result)
    summary = summarise(results)
    summary["corpus"] = ", ".join(str(f) for f in folders)
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    datasets = None
    if args.datasets or (not args.json and not args.no_datasets):
        from sirene.bench import detect_datasets

        datasets = detect_datasets.measure(args.quick)
    if args.json:
        if datasets is not None:
            summary["datasets"] = datasets
        print(json.dumps(summary, default=str))
        return 0
    _table(results)
    print(f"{summary['seconds']} s")
    if datasets is not None:
        detect_datasets.print_table(datasets)
    return 0
