"""Login throttling across two real `sirene serve` processes on one database (review finding 5): failures
are counted per (user name, client address) pair in the database, so both processes see one count; the
real user from another address and every other user behind a busy address still log in."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


def _database_url() -> str:
    conf = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite://{conf['NAME']}"
    auth = conf["USER"] + (f":{conf['PASSWORD']}" if conf.get("PASSWORD") else "")
    return f"postgresql://{auth}@{conf['HOST'] or '127.0.0.1'}:{conf['PORT'] or 5432}/{conf['NAME']}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120  # start-up on a busy machine; not a speed assertion
    while time.monotonic() < deadline:
        assert proc.poll() is None, "sirene serve exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"sirene serve did not listen on {port}")


@pytest.fixture
def two_servers(tmp_path: Path) -> Iterator[list[int]]:
    sirene = str(Path(sys.executable).with_name("sirene"))
    env = {
        **os.environ,
        "SIRENE_DATABASE_URL": _database_url(),
        "SIRENE_DB_CONN_MAX_AGE": "0",
        "SIRENE_BEHIND_HTTPS_PROXY": "true",  # the test plays the proxy: X-Forwarded-For names the client
        "SIRENE_SECURE_COOKIES": "false",
    }
    ports = [_free_port(), _free_port()]
    procs = [
        subprocess.Popen(
            [sirene, "serve", "--port", str(port), "--threads", "2"],
            env=env,
            stdout=(tmp_path / f"serve-{port}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for port in ports
    ]
    try:
        for port, proc in zip(ports, procs, strict=True):
            _wait_listening(port, proc)
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


def _login(port: int, username: str, password: str, client: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/login/", headers={"X-Forwarded-For": client})
    page = conn.getresponse()
    page.read()
    token = re.search(r"csrftoken=([^;]+)", page.getheader("Set-Cookie") or "")
    assert token is not None
    conn.request(
        "POST",
        "/login/",
        body=f"csrfmiddlewaretoken={token.group(1)}&username={username}&password={password}",
        headers={
            "Cookie": f"csrftoken={token.group(1)}",
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Forwarded-For": client,
        },
    )
    answer = conn.getresponse()
    answer.read()
    conn.close()
    return answer.status


def test_failures_are_counted_per_name_and_address_across_two_web_processes(
    two_servers: list[int], agent: Any, lead: Any
) -> None:
    one, two = two_servers
    attacker = "203.0.113.5"
    # Five wrong passwords for anna from one address, alternating between the two processes: one count.
    statuses = [_login((one, two)[i % 2], "anna", "wrong", attacker) for i in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    assert _login(two, "anna", "agent-pass-123", attacker) == 429
    assert _login(one, "anna", "agent-pass-123", attacker) == 429
    # The real anna, from her own address, is not locked out by the attacker.
    assert _login(two, "anna", "agent-pass-123", "198.51.100.20") == 302

    # An office NAT: 25 failures with made-up names from one address lock nobody else behind it.
    office = "192.0.2.44"
    assert {_login((one, two)[i % 2], f"nobody{i}", "x", office) for i in range(25)} == {200}
    assert _login(one, "tara", "lead-pass-123", office) == 302

    from axes.models import AccessAttempt  # type: ignore[import-untyped]

    # One row for the pair, shared by both processes; the two refused tries count too (they extend its window).
    assert AccessAttempt.objects.filter(username="anna", ip_address=attacker).get().failures_since_start == 7
