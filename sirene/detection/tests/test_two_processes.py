"""Two processes, one problem: three customers report through the API of `sirene serve` (analysed in the
web process), three through a Groove webhook that `sirene worker` turns into cases (analysed in the worker
process). Each process keeps its own window; the sixth customer opens exactly one incident with all six.

Real processes on the test database (committed rows, `transaction=True`), the fake Groove API over HTTP,
the real encoder in both processes. About a minute: both processes load the encoder once.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.db import connection

from sirene.accounts.models import ApiToken
from sirene.cases.models import Case
from sirene.helpdesk.tests.conftest import SECRET, fixture_json
from sirene.incidents.models import Incident
from sirene.incidents.tests.conftest import LOGIN_REPORTS
from sirene.integrations.fakes.groove import FakeGroove

WAIT = 180.0  # seconds for a process to start and for a report to be analysed on a loaded machine


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgresql://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _until(what: str, done: Callable[[], bool], procs: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if done():
            return
        for p in procs:
            assert p.poll() is None, f"{p.args!r} exited with {p.returncode} while waiting for {what}"
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def groove() -> Iterator[FakeGroove]:
    fake = FakeGroove().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def processes(groove: FakeGroove, tmp_path: Path) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    port = _free_port()
    env = {
        **os.environ,
        "SIRENE_DATABASE_URL": _database_url(),
        "SIRENE_DB_CONN_MAX_AGE": "0",
        "SIRENE_GROOVE_TOKEN": groove.token,
        "SIRENE_GROOVE_API_URL": groove.url,
        "SIRENE_GROOVE_WEBHOOK_SECRET": SECRET,
        "SIRENE_VAR_DIR": str(tmp_path),
        "SIRENE_LOG_LEVEL": "WARNING",
    }
    sirene = [sys.executable, "-m", "sirene.cli"]
    logs = [(tmp_path / f"{name}.log").open("wb") for name in ("serve", "worker")]
    procs = [
        subprocess.Popen(
            [*sirene, "serve", "--port", str(port), "--threads", "4"],
            env=env,
            stdout=logs[0],
            stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            [*sirene, "worker", "--lane", "background", "--poll", "0.2"],
            env=env,
            stdout=logs[1],
            stderr=subprocess.STDOUT,
        ),
    ]
    try:
        yield f"http://127.0.0.1:{port}", procs
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for log in logs:
            log.close()


@pytest.mark.django_db(transaction=True)
def test_three_customers_through_serve_and_three_through_the_worker_open_one_incident(
    agent: Any, groove: FakeGroove, processes: tuple[str, list[subprocess.Popen[bytes]]]
) -> None:
    base, procs = processes
    token = ApiToken.issue(agent, name="two-processes")[1]

    def up() -> bool:
        try:
            # any answer means the server is up (health is 503 while lanes this test does not run lag)
            return httpx.get(f"{base}/api/v1/health", timeout=2).status_code in (200, 503)
        except httpx.HTTPError:
            return False

    _until("sirene serve", up, procs)
    with httpx.Client(base_url=base, timeout=WAIT) as web:
        for i, (subject, body) in enumerate(LOGIN_REPORTS):
            email = f"kundin{i}@example.org"
            if i % 2 == 0:  # the API: analysed inside the request, in the web process
                response = web.post(
                    "/api/v1/cases",
                    headers={"Authorization": f"Bearer {token}"},
                    json={
                        "source": "api",
                        "external_id": f"api-{i}",
                        "subject": subject,
                        "body": body,
                        "customer": {"email": email},
                        "tags": ["technik"],
                    },
                )
                assert response.status_code in (200, 201), response.text
                done = {"source": "api", "external_id": f"api-{i}"}
            else:  # Groove: the webhook is stored by the web process, the worker makes the case
                number = 100 + i
                stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
                groove.add_ticket(
                    number, email=email, title=subject, text=body, tags=["technik"], created_at=stamp
                )
                hook = fixture_json("ticket_tagged")
                hook.update(number=number, href=f"http://api.groovehq.com/v1/tickets/{number}", title=subject)
                response = web.post(
                    f"/hooks/groove/{SECRET}",
                    content=json.dumps(hook),
                    headers={"X-Groove-Event": "ticket_tagged", "Content-Type": "application/json"},
                )
                assert response.status_code == 202, response.text
                done = {"source": "groove", "external_id": str(number)}
            _until(
                f"report {i} analysed",
                lambda done=done: Case.objects.filter(**done, analysed_at__isnull=False).exists(),  # type: ignore[misc]
                procs,
            )
            if i < 5:
                assert Incident.objects.count() == 0, f"opened at customer {i + 1}"
    reports = list(Case.objects.values_list("source", "received_at", "subject", "body", "tags", "encoder"))
    assert Incident.objects.count() == 1, reports
    incident = Incident.objects.get()
    assert incident.customers_affected == 6
    assert sorted(incident.cases.values_list("source", flat=True)) == ["api"] * 3 + ["groove"] * 3
