"""`sirene bench escalation`: many concurrent escalation runs, several worker processes, kills.

Each scenario gets its own database (created and dropped here: a PostgreSQL database on the server of
SIRENE_DATABASE_URL / SIRENE_TEST_POSTGRES_URL, or a temporary SQLite file), N runs whose starts are
spread over a window, and W worker processes that only run the escalation tick. Integrations are
unconfigured, so every side effect lands in the outbox, where duplicates and losses are counted:
each run must produce exactly one Slack post, one task message and one call.

Measured: lateness of every side effect (started sending − due), p50/p99/max; side effects per second
over the span and per busy second (the throughput a worker sustains);
duplicates and lost actions, also in a chaos scenario where workers are SIGKILLed and restarted at
random (a killed worker's runs wait for its lease to expire, so lateness there is expected to grow).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

STEPS_PER_RUN = 3  # slack post, task message, call
WAIT_MINUTES = 0.1  # the wait-for-ack step: 6 s


# --- roles running inside a subprocess with the bench database -------------------------------


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sirene.config.settings")
    import django

    django.setup()


def _setup(n: int, start_in: float, window: float) -> None:
    _django()
    import datetime as dt

    from sirene.core import clock
    from sirene.escalation.models import Run
    from sirene.incidents.models import Incident

    t0 = clock.now() + dt.timedelta(seconds=start_in)
    incidents = Incident.objects.bulk_create([Incident(title=f"bench {i}", opened_at=t0) for i in range(n)])
    runs = []
    for i, incident in enumerate(incidents):
        due = t0 + dt.timedelta(seconds=window * i / max(1, n))
        key = str(i + 1)
        snapshot = {
            "name": "bench",
            "people": {key: {"name": f"P{i}", "slack_user_id": f"U{i:08d}", "phone": f"+49155{i:07d}"}},
            "steps": [
                {"kind": "slack_post", "channel": "#bench", "mentions": [key]},
                {"kind": "wait_ack", "minutes": WAIT_MINUTES},
                {"kind": "task", "person": key, "title": "check", "text": "…"},
                {"kind": "call", "person": key, "attempts": 1, "gap_minutes": 0, "ring_seconds": 30},
            ],
        }
        runs.append(
            Run(incident=incident, snapshot=snapshot, step_started_at=due, started_at=due, next_action_at=due)
        )
    Run.objects.bulk_create(runs, batch_size=500)
    print(json.dumps({"t0": t0.timestamp()}))


def _worker() -> None:
    _django()
    from django.db import close_old_connections

    from sirene.escalation import tasks

    while True:
        try:
            did = tasks.tick()
        except Exception as exc:  # e.g. a lock timeout: the run stays due and is retried
            print(f"worker error: {exc}", file=sys.stderr)
            did = 0
        close_old_connections()
        if not did:
            time.sleep(0.02)


def _measure() -> None:
    _django()
    from django.db.models import Count

    from sirene.escalation.models import Attempt, AttemptStatus, Run
    from sirene.integrations.models import OutboxMessage

    n = Run.objects.count()
    sent = Attempt.objects.filter(sending_at__isnull=False).exclude(status=AttemptStatus.PENDING)
    stamps = [(a.due_at, a.sending_at) for a in sent.only("sending_at", "due_at") if a.sending_at is not None]
    late = sorted((sending - due).total_seconds() for due, sending in stamps)
    # Outbox rows per recipient and kind: each run owns a unique Slack id / phone / metadata.
    posts = OutboxMessage.objects.filter(kind="post", recipient="#bench").values_list("payload", flat=True)
    post_counts: dict[str, int] = {}
    for payload in posts:
        incident = str(((payload.get("metadata") or {}).get("event_payload") or {}).get("incident_id", ""))
        if incident:  # the siren (thread replies announcing a call carry no incident id)
            post_counts[incident] = post_counts.get(incident, 0) + 1
    dms = dict(OutboxMessage.objects.filter(kind="dm").values_list("recipient").annotate(c=Count("id")))
    calls = dict(OutboxMessage.objects.filter(kind="call").values_list("recipient").annotate(c=Count("id")))
    delivered = len(post_counts) + len(dms) + len(calls)
    duplicates = sum(c - 1 for c in [*post_counts.values(), *dms.values(), *calls.values()])
    sending_times = sorted(sending.timestamp() for _, sending in stamps)
    first_due = min((due for due, _ in stamps), default=None)
    last_sent = max((sending for _, sending in stamps), default=None)
    span = (last_sent - first_due).total_seconds() if first_due and last_sent else 0.0
    print(
        json.dumps(
            {
                "runs": n,
                "expected": n * STEPS_PER_RUN,
                "delivered": delivered,
                "duplicates": duplicates,
                "lost": n * STEPS_PER_RUN - delivered,
                "late": late,
                "span": span,
                "busy_s": _busy_seconds(sending_times),
                "stuck_sending": Attempt.objects.filter(status=AttemptStatus.SENDING).count(),
                # Siren delay (issue 22): the run's start (the incident opening) → its Slack post sent.
                "siren": _siren_delays(),
            }
        )
    )


def _siren_delays() -> list[float]:
    """Seconds from each run's start (the incident opening) to its siren recorded as sent (conservative:
    a post adopted after a kill counts from when sirene knew it was out)."""
    from sirene.escalation.models import Attempt, AttemptStatus

    delays = []
    for attempt in Attempt.objects.filter(kind="slack_post", status=AttemptStatus.SENT).select_related("run"):
        posted = attempt.sent_at or attempt.sending_at
        if posted is not None:
            delays.append((posted - attempt.run.started_at).total_seconds())
    return sorted(delays)


def _busy_seconds(times: list[float], idle_gap: float = 0.25) -> float:
    """Seconds the workers were busy sending: gaps between consecutive sends longer than `idle_gap` are
    waiting for work (runs not yet due), not work. Steps / busy seconds is the throughput a worker
    sustains, independent of how fast the runs arrive."""
    return sum(b - a for a, b in zip(times, times[1:], strict=False) if b - a <= idle_gap)


# --- the orchestrating parent ------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def _pg_server_url() -> str:
    url = os.environ.get("SIRENE_DATABASE_URL", "")
    if not url.startswith("postgres"):
        url = os.environ.get("SIRENE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    return url


def _pg_admin(url: str, sql: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(
        (parts.scheme.replace("postgresql", "postgresql"), parts.netloc, "/postgres", parts.query, "")
    )
    with psycopg.connect(admin.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(sql)


class _Database:
    """A private database per scenario, cloned from a migrated template (migrating is the slow part)."""

    _templates: dict[str, str] = {}

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.name = f"sirene_bench_escalation_{os.getpid()}_{random.randint(0, 99999)}"
        if backend == "postgresql":
            self.server = _pg_server_url()
            template = self._template()
            _pg_admin(self.server, f'CREATE DATABASE "{self.name}" TEMPLATE "{template}"')
            parts = urlsplit(self.server)
            self.url = urlunsplit((parts.scheme, parts.netloc, f"/{self.name}", parts.query, ""))
        else:
            import shutil

            self.dir = tempfile.mkdtemp(prefix="sirene-bench-")
            shutil.copy(self._template(), Path(self.dir) / "bench.sqlite3")
            self.url = f"sqlite:///{Path(self.dir) / 'bench.sqlite3'}"

    def _template(self) -> str:
        if self.backend in self._templates:
            return self._templates[self.backend]
        if self.backend == "postgresql":
            name = f"sirene_bench_escalation_tmpl_{os.getpid()}"
            _pg_admin(self.server, f'CREATE DATABASE "{name}"')
            parts = urlsplit(self.server)
            url = urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
            ref = name
        else:
            path = Path(tempfile.mkdtemp(prefix="sirene-bench-tmpl-")) / "template.sqlite3"
            url, ref = f"sqlite:///{path}", str(path)
        subprocess.run(
            [sys.executable, "-m", "sirene.bench.escalation", "--role=migrate"],
            env=_env(url, 3.0),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self._templates[self.backend] = ref
        return ref

    def drop(self) -> None:
        if self.backend == "postgresql":
            _pg_admin(self.server, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        else:
            import shutil

            shutil.rmtree(self.dir, ignore_errors=True)

    @classmethod
    def drop_templates(cls) -> None:
        import shutil

        for backend, ref in list(cls._templates.items()):
            if backend == "postgresql":
                _pg_admin(_pg_server_url(), f'DROP DATABASE IF EXISTS "{ref}" WITH (FORCE)')
            else:
                shutil.rmtree(Path(ref).parent, ignore_errors=True)
        cls._templates.clear()


def _env(url: str, lease: float) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIRENE_SLACK_TOKEN", "SIRENE_TWILIO_"))}
    env.update(
        SIRENE_DATABASE_URL=url,
        SIRENE_WORKER_LEASE_SECONDS=str(lease),
        SIRENE_LOG_LEVEL="ERROR",
        DJANGO_SETTINGS_MODULE="sirene.config.settings",
    )
    return env


def _role(role: str, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sirene.bench.escalation", f"--role={role}", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def scenario(
    backend: str,
    workers: int,
    runs: int,
    window: float,
    *,
    chaos: bool,
    lease: float,
    kill_every: float | None = None,
) -> dict[str, Any]:
    db = _Database(backend)
    try:
        env = _env(db.url, lease)
        if kill_every:
            # The crash loop of issue 22: the default escalation lease, not the bench's short one.
            env["SIRENE_WORKER_LEASE_SECONDS"] = "30"
        setup = _role("setup", env, f"--n={runs}", f"--start-in={2.5 + 0.3 * workers}", f"--window={window}")
        out, _ = setup.communicate(timeout=300)
        t0 = json.loads(out.strip().splitlines()[-1])["t0"]
        procs = [_role("worker", env) for _ in range(workers)]
        kills = 0
        expected_end = t0 + window + WAIT_MINUTES * 60 + 2
        # Generous drain time: "lost" must mean never delivered, not "not yet" on a loaded machine.
        deadline = expected_end + 120
        rng = random.Random(5)
        next_kill = t0 + (kill_every or rng.uniform(2.0, 5.0))
        while time.time() < deadline:
            time.sleep(0.25)
            if kill_every and time.time() >= next_kill and time.time() < expected_end:
                # Every `kill_every` seconds one worker (in turn) is SIGKILLed and started again.
                victim = kills % len(procs)
                procs[victim].send_signal(signal.SIGKILL)
                procs[victim].wait()
                procs[victim] = _role("worker", env)
                kills += 1
                next_kill += kill_every
            elif chaos and time.time() >= next_kill and time.time() < expected_end:
                victim = rng.randrange(len(procs))
                procs[victim].send_signal(signal.SIGKILL)
                procs[victim].wait()
                procs[victim] = _role("worker", env)
                kills += 1
                next_kill = time.time() + rng.uniform(2.0, 5.0)
            if time.time() > expected_end and _done(db, runs):
                break
        for p in procs:
            p.send_signal(signal.SIGKILL)
            p.wait()
        measure = _role("measure", env)
        out, _ = measure.communicate(timeout=300)
        data = json.loads(out.strip().splitlines()[-1])
    finally:
        db.drop()
    late = data.pop("late")
    siren = data.pop("siren")
    return {
        "siren_p50_s": round(_pct(siren, 0.5), 2),
        "siren_p99_s": round(_pct(siren, 0.99), 2),
        "siren_max_s": round(siren[-1], 2) if siren else float("nan"),
        "sirens": len(siren),
        "sirens_over_60s": sum(1 for v in siren if v > 60),
        "backend": backend,
        "workers": workers,
        "chaos": chaos,
        "kills": kills,
        "runs": data["runs"],
        "steps": len(late),
        "p50_s": round(_pct(late, 0.5), 4),
        "p99_s": round(_pct(late, 0.99), 4),
        "max_s": round(late[-1], 4) if late else float("nan"),
        "steps_per_s": round(len(late) / data["span"], 1) if data["span"] else 0.0,
        "busy_steps_per_s": round(len(late) / data["busy_s"], 1) if data["busy_s"] else 0.0,
        "duplicates": data["duplicates"],
        "lost": data["lost"],
        "stuck_sending": data["stuck_sending"],
        # The machine's 1-minute load average when the scenario ended (other processes included).
        "load_1m": round(os.getloadavg()[0], 2),
    }


def _done(db: _Database, runs: int) -> bool:
    """Polled every few hundred ms with a plain connection: no Django process per check."""
    sql = (
        "SELECT count(*) FROM escalation_attempt WHERE status IN ('sent', 'failed')"
        " AND kind IN ('slack_post', 'task', 'call')"
    )
    if db.backend == "postgresql":
        import psycopg

        with psycopg.connect(db.url.replace("postgres://", "postgresql://")) as conn:
            row = conn.execute(sql).fetchone()
    else:
        import sqlite3

        lite = sqlite3.connect(db.url.removeprefix("sqlite:///"), timeout=20)
        try:
            row = lite.execute(sql).fetchone()
        finally:
            lite.close()
    return bool(row and int(row[0]) >= runs * STEPS_PER_RUN)


def _count() -> None:
    _django()
    from sirene.escalation.models import Attempt

    print(Attempt.objects.filter(status__in=["sent", "failed"]).count())


def _kill_loop(args: argparse.Namespace) -> int:
    runs = args.runs or 60
    window = args.window if args.window is not None else 60.0
    stores = ["sqlite"] if args.no_postgres else ["sqlite", "postgresql"]
    results = []
    for backend in stores:
        for workers in (1, 2):
            if not args.json:
                print(f"… {backend} × {workers} worker(s), one killed every 10 s: {runs} runs", flush=True)
            results.append(
                scenario(backend, workers, runs, window, chaos=True, lease=args.lease, kill_every=10.0)
            )
    if args.json:
        print(json.dumps({"runs": runs, "window_s": window, "kill_every_s": 10, "results": results}, indent=2))
        return 0
    print("store       workers kills sirens  siren p50 s  p99 s  max s  >60 s  dup lost")
    for r in results:
        print(
            f"{r['backend']:<11} {r['workers']:>7} {r['kills']:>5} {r['sirens']:>6} {r['siren_p50_s']:>10.2f}"
            f" {r['siren_p99_s']:>6.2f} {r['siren_max_s']:>6.2f} {r['sirens_over_60s']:>6} {r['duplicates']:>4}"
            f" {r['lost']:>4}"
        )
    return 0


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="sirene bench escalation", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs and scenarios (< 90 s)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--window", type=float, default=None, help="seconds over which the runs start")
    parser.add_argument(
        "--lease", type=float, default=3.0, help="worker lease seconds (takeover after a kill)"
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--kill-loop",
        action="store_true",
        help="issue 22: 1 and 2 workers, one SIGKILLed every 10 s; reports the siren delay (open → post)",
    )
    args = parser.parse_args(argv)
    if args.kill_loop:
        return _kill_loop(args)
    runs = args.runs or (100 if args.quick else 1000)
    window = args.window if args.window is not None else (8.0 if args.quick else 60.0)
    # 1 and 4 workers × both stores × without and with SIGKILLs (--quick: 1 worker, no kills).
    stores = ["sqlite"] if args.no_postgres else ["postgresql", "sqlite"]
    plan: list[tuple[str, int, bool]] = [
        (store, workers, chaos)
        for store in stores
        for workers in ((1,) if args.quick else (1, 4))
        for chaos in ((False,) if args.quick else (False, True))
    ]
    results = []
    for backend, workers, chaos in plan:
        if not args.json:
            print(
                f"… {backend} × {workers} worker(s){' with SIGKILLs' if chaos else ''}: {runs} runs",
                flush=True,
            )
        results.append(scenario(backend, workers, runs, window, chaos=chaos, lease=args.lease))
    if args.json:
        print(
            json.dumps(
                {"runs": runs, "window_s": window, "lease_s": args.lease, "results": results}, indent=2
            )
        )
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(
            title=f"escalation: {runs} runs starting within {window:.0f} s, 3 side effects each (outbox)"
        )
        for col in (
            "store",
            "workers",
            "kills",
            "steps",
            "p50 late s",
            "p99 late s",
            "max late s",
            "steps/s",
            "busy steps/s",
            "dup",
            "lost",
            "load",
        ):
            table.add_column(col, justify="right")
        for r in results:
            table.add_row(
                r["backend"],
                str(r["workers"]),
                str(r["kills"]) if r["chaos"] else "—",
                str(r["steps"]),
                f"{r['p50_s']:.3f}",
                f"{r['p99_s']:.3f}",
                f"{r['max_s']:.3f}",
                f"{r['steps_per_s']:.0f}",
                f"{r['busy_steps_per_s']:.0f}",
                str(r["duplicates"]),
                str(r["lost"]),
                f"{r['load_1m']:.1f}",
            )
        Console(width=150).print(table)
        print("targets: p99 lateness <= 1 s (without kills), 0 duplicates, 0 lost")
        print("steps/s: over the whole span (capped by how fast runs arrive); busy steps/s: while sending")
    failed = any(r["duplicates"] or r["lost"] for r in results)
    return 1 if failed else 0


def _main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--role", required=True)
    parser.add_argument("--n", type=int, default=0)
    parser.add_argument("--start-in", type=float, default=2.0, dest="start_in")
    parser.add_argument("--window", type=float, default=10.0)
    args = parser.parse_args()
    if args.role == "setup":
        _setup(args.n, args.start_in, args.window)
    elif args.role == "migrate":
        _django()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    elif args.role == "worker":
        _worker()
    elif args.role == "measure":
        _measure()
    elif args.role == "count":
        _count()


if __name__ == "__main__":
    _main()
