"""`sirene bench load --rate R --seconds S`: HTTP intake under a steady load, on loopback only.

Starts `sirene serve` and one `sirene worker` on a throw-away database (a temporary SQLite file, or
`--database-url` of an empty PostgreSQL database made for this), then posts reports open-loop at R per
second for S seconds (a 503 is retried after Retry-After, at most 5 times, like a client) (bounded: R ≤ 500, S ≤ 120, 64 client connections, 30 s request timeout) and prints:

- achieved rate, answers by status (201 stored, 503 refused by the intake's bounded queue);
- API latency p50/p99 counted from when each report was due to its final answer (queueing, retries and
  the generator's own 64-connection pool count), and each single HTTP request's p99 (201s and 503s);
- the deciding report's incident p99: from when the report that made a planted burst open its
  incident was due to the incident's `opened_at`.

Reports: synthetic German support mail; every 10 s a burst of 6 customers reporting one problem (it must
open an incident), the rest single reports of distinct problems. Latency counts from when a report was
first due to its final answer, retries included. No network beyond 127.0.0.1; every process is stopped at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

MAX_RATE, MAX_SECONDS = 500.0, 120.0
BURST_EVERY = 10.0
PROBLEMS = [
    ("Fehler {code} beim Öffnen der Lektion", "Seit heute kommt beim Öffnen jeder Lektion Fehler {code}."),
    ("Video bleibt schwarz (Code {code})", "Das Video startet nicht, nur schwarzes Bild und Code {code}."),
    ("Login: Fehlermeldung {code}", "Ich kann mich nicht anmelden, es erscheint Fehler {code}."),
    ("Zahlung abgelehnt {code}", "Beim Bezahlen kommt Meldung {code}, Karte ist gültig."),
]
WORDS = (
    "Rechnung Adresse Kurs Zertifikat Passwort Newsletter Profilbild Sprache Untertitel Download "
    "Abo Kündigung Gutschein Termin Handbuch Export Drucker Browser Tablet Kalender"
).split()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _schedule(rate: float, seconds: float, run: str) -> list[tuple[float, dict[str, Any], str]]:
    """(due offset, report, burst id or "") for every report, deterministic for (rate, seconds)."""
    rng = np.random.default_rng(7)
    total = int(rate * seconds)
    plan: list[tuple[float, dict[str, Any], str]] = []
    burst_at = {int(t * rate) for t in np.arange(1.0, seconds, BURST_EVERY)}
    burst_no = 0
    i = 0
    while i < total:
        if i in burst_at and i + 6 <= total:
            title, body = PROBLEMS[burst_no % len(PROBLEMS)]
            code = f"E-{4000 + burst_no}"
            for k in range(6):
                report = _report(run, i, title.format(code=code), body.format(code=code), f"b{burst_no}k{k}")
                plan.append((i / rate, report, f"burst{burst_no}"))
                i += 1
            burst_no += 1
            continue
        words = " ".join(rng.choice(WORDS, size=4, replace=False))
        report = _report(run, i, f"Frage zu {words}", f"Hallo, ich habe eine Frage zu {words} (Nr. {i}).", f"s{i}")
        plan.append((i / rate, report, ""))
        i += 1
    return plan


def _report(run: str, i: int, subject: str, body: str, who: str) -> dict[str, Any]:
    return {
        "source": "loadbench",
        "external_id": f"{run}-{i}",
        "subject": subject,
        "body": body,
        "tags": ["technik"],
        "customer": {"email": f"{who}.{run}@example.de"},
    }


def _manage(env: dict[str, str], *args: str) -> str:
    sirene = str(Path(sys.executable).with_name("sirene"))
    done = subprocess.run([sirene, *args], env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"sirene {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def _post(url: str, token: str, report: dict[str, Any]) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(report).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (loopback only)
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def _incidents(url: str, run: str) -> list[tuple[dt.datetime, list[str]]]:
    """Each incident's opened_at and the external ids of its reports from this run."""
    sql = (
        "SELECT i.id, i.opened_at, c.external_id FROM incidents_incident i "
        "JOIN incidents_incident_cases ic ON ic.incident_id = i.id JOIN cases_case c ON c.id = ic.case_id "
        "WHERE c.external_id LIKE %s"
    )
    if url.startswith("sqlite"):
        conn: Any = sqlite3.connect(url.split("://", 1)[1])
        rows = conn.execute(sql.replace("%s", "?"), [f"{run}-%"]).fetchall()
    else:
        import psycopg

        conn = psycopg.connect(url)
        rows = conn.execute(sql, [f"{run}-%"]).fetchall()
    conn.close()
    found: dict[int, tuple[dt.datetime, list[str]]] = {}
    for pk, opened, ext in rows:
        if isinstance(opened, str):
            opened = dt.datetime.fromisoformat(opened)
        if opened.tzinfo is None:
            opened = opened.replace(tzinfo=dt.UTC)
        found.setdefault(pk, (opened, []))[1].append(ext)
    return list(found.values())


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sirene bench load", description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0, help=f"reports per second (≤ {MAX_RATE:.0f})")
    parser.add_argument("--seconds", type=float, default=30.0, help=f"how long to send (≤ {MAX_SECONDS:.0f})")
    parser.add_argument("--database-url", default="", help="an EMPTY database made for this (default: temp SQLite)")
    parser.add_argument("--settle", type=float, default=20.0, help="seconds to wait for the worker afterwards")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not (0 < args.rate <= MAX_RATE and 0 < args.seconds <= MAX_SECONDS):
        parser.error(f"--rate must be in (0, {MAX_RATE:.0f}] and --seconds in (0, {MAX_SECONDS:.0f}]")

    tmp = Path(tempfile.mkdtemp(prefix="sirene-load-"))
    url = args.database_url or f"sqlite://{tmp / 'load.sqlite3'}"
    env = {
        **os.environ,
        "SIRENE_DATABASE_URL": url,
        "SIRENE_VAR_DIR": str(tmp),
        "SIRENE_SLACK_TOKEN": "",
        "SIRENE_TWILIO_AUTH_TOKEN": "",
        "SIRENE_GROOVE_TOKEN": "",
    }
    _manage(env, "migrate", "--verbosity", "0")
    token = _manage(env, "createuser", "loadbench", "--role", "agent", "--token").strip().splitlines()[-1]
    port = _free_port()
    sirene = str(Path(sys.executable).with_name("sirene"))
    logs = [(tmp / name).open("wb") for name in ("serve.log", "worker.log")]
    procs = [
        subprocess.Popen([sirene, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=logs[0], stderr=subprocess.STDOUT),
        subprocess.Popen([sirene, "worker"], env=env, stdout=logs[1], stderr=subprocess.STDOUT),
    ]
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or procs[0].poll() is not None:
                    raise SystemExit(f"sirene serve did not start (log: {tmp / 'serve.log'})") from None
                time.sleep(0.2)
        endpoint = f"http://127.0.0.1:{port}/api/v1/cases"
        warm = _report("warm", 0, "Aufwärmen", "Aufwärmen des Servers", "warm")
        _post(endpoint, token, warm)  # the encoder loads on the first report, not during the run
        run_id = f"r{int(time.time())}"
        plan = _schedule(args.rate, args.seconds, run_id)
        results: list[tuple[float, float, int]] = [(0.0, 0.0, 0)] * len(plan)
        start = time.monotonic() + 0.5
        wall_start = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=0.5)

        refusals = [0]
        calls: list[tuple[float, int]] = []  # (seconds one HTTP request took, its status)

        def timed(report: dict[str, Any]) -> int:
            t0 = time.monotonic()
            status = _post(endpoint, token, report)
            calls.append((time.monotonic() - t0, status))
            return status

        def send(index: int) -> None:
            """One sender: a 503 is retried after its Retry-After (2 s), at most 5 times, as a client would."""
            due, report, _burst = plan[index]
            status = timed(report)
            for _ in range(5):
                if status != 503:
                    break
                refusals[0] += 1
                time.sleep(2.0)
                status = timed(report)
            results[index] = (due, time.monotonic() - start - due, status)

        with ThreadPoolExecutor(max_workers=64) as pool:
            for index, item in enumerate(plan):
                due = item[0]
                delay = start + due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(send, index)
        sent_for = time.monotonic() - start
        time.sleep(min(args.settle, 60.0))
        latencies = np.array([r[1] for r in results]) * 1000
        statuses: dict[str, int] = {}
        for r in results:
            statuses[str(r[2])] = statuses.get(str(r[2]), 0) + 1
        due_of = {report["external_id"]: due for due, report, _ in plan}
        burst_of = {report["external_id"]: burst for _, report, burst in plan if burst}
        decided = []
        for opened, externals in _incidents(url, run_id):
            bursts = {burst_of.get(e) for e in externals} - {None}
            if not bursts:
                continue
            deciding_due = max(due_of[e] for e in externals if e in due_of)
            decided.append((opened - wall_start).total_seconds() - deciding_due)
        planted = len({b for _, _, b in plan if b})
        stored = statuses.get("201", 0)
        out = {
            "store": "sqlite" if url.startswith("sqlite") else "postgresql",
            "offered_per_s": args.rate,
            "seconds": args.seconds,
            "reports": len(plan),
            "achieved_per_s": round(stored / max(sent_for, 1e-9), 1),
            "statuses": statuses,
            "refusals_503_retried": refusals[0],
            "api_p50_ms": round(float(np.percentile(latencies, 50)), 1),
            "api_p99_ms": round(float(np.percentile(latencies, 99)), 1),
            "request_p99_ms": round(float(np.percentile([c[0] for c in calls], 99)) * 1000, 1),
            "request_201_p99_ms": round(float(np.percentile([c[0] for c in calls if c[1] == 201] or [0.0], 99)) * 1000, 1),
            "request_503_p99_ms": round(float(np.percentile([c[0] for c in calls if c[1] == 503] or [0.0], 99)) * 1000, 1),
            "bursts_planted": planted,
            "burst_incidents": len(decided),
            "deciding_incident_p99_ms": round(float(np.percentile(np.array(decided) * 1000, 99)), 1) if decided else None,
        }
        if args.json:
            print(json.dumps(out))
        else:
            print(
                f"{out['store']}: offered {args.rate:.0f}/s for {args.seconds:.0f} s, stored {out['achieved_per_s']}/s, "
                f"final answers {statuses} after {refusals[0]} 503s retried; API p50 {out['api_p50_ms']} ms p99 {out['api_p99_ms']} ms; "
                f"burst incidents {len(decided)}/{planted}, deciding report → incident p99 {out['deciding_incident_p99_ms']} ms"
            )
        return 0
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()


if __name__ == "__main__":
    raise SystemExit(run())
