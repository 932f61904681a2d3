"""Test-wide guards and fixtures.

- No network: any outbound connection to a non-loopback address fails loudly (fake servers run on 127.0.0.1).
- The one clock is unfrozen after every test; the detector's in-memory window is emptied.
- Personas: an agent, a lead and an admin, plus an API token.
- A fresh clone: the bench data sets (../shared/data, $SIRENE_BENCH_DATA) are hidden from every test;
  a test ships the small data it needs.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_local(address: Any) -> bool:
    if isinstance(address, (str, bytes)):
        return True  # unix socket (PostgreSQL's local socket)
    host = address[0]
    if host in {"localhost", ""}:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if not _is_local(address):
        raise RuntimeError(f"tests must not reach the network (tried to connect to {address!r})")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    if not _is_local(address):
        raise RuntimeError(f"tests must not reach the network (tried to connect to {address!r})")
    return _real_connect_ex(self, address)


# A clone has nothing beside it: no test may read the bench data sets (a folder that never exists).
os.environ["SIRENE_BENCH_DATA"] = os.path.join(tempfile.gettempdir(), "sirene-tests-have-no-bench-data")

setattr(socket.socket, "connect", _guarded_connect)  # noqa: B010 (mypy refuses a plain assignment)
setattr(socket.socket, "connect_ex", _guarded_connect_ex)  # noqa: B010


@pytest.fixture(autouse=True)
def _reset_clock() -> Iterator[None]:
    from sirene.core import clock

    yield
    clock.set_now(None)


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    """No test inherits another's cached values (login failures live in the database now: django-axes)."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _reset_detection() -> Iterator[None]:
    """Each test starts with an empty detection window (its database is rolled back, ids reused)."""
    from sirene.detection import store as detection

    detection.reset()
    yield
    detection.reset()


@pytest.fixture
def agent(db: Any) -> Any:
    from sirene.accounts.models import Role, User

    user = User.objects.create_user(
        "anna", "anna@example.com", "agent-pass-123", role=Role.AGENT, first_name="Anna"
    )
    return user


@pytest.fixture
def lead(db: Any) -> Any:
    from sirene.accounts.models import Role, User

    return User.objects.create_user(
        "tara", "tara@example.com", "lead-pass-123", role=Role.LEAD, first_name="Tara"
    )


@pytest.fixture
def admin_user(db: Any) -> Any:
    from sirene.accounts.models import Role, User

    return User.objects.create_superuser("admin", "admin@example.com", "admin-pass-123", role=Role.ADMIN)


@pytest.fixture
def api_token(agent: Any) -> str:
    from sirene.accounts.models import ApiToken

    _token, raw = ApiToken.issue(agent, name="tests")
    return raw


@pytest.fixture
def api(client: Any, api_token: str) -> Any:
    """A Django test client that sends the (agent's) Bearer token and JSON."""
    return _api_client(client, api_token)


@pytest.fixture
def lead_api(client: Any, lead: Any) -> Any:
    """Like `api`, with a lead's token (status updates, resolve, delay notices: see accounts.permissions)."""
    from sirene.accounts.models import ApiToken

    return _api_client(client, ApiToken.issue(lead, name="tests")[1])


def _api_client(client: Any, api_token: str) -> Any:
    class Api:
        def __init__(self) -> None:
            self.client = client
            self.headers = {"Authorization": f"Bearer {api_token}"}

        def get(self, path: str, **params: Any) -> Any:
            return self.client.get(path, params, headers=self.headers)

        def post(self, path: str, data: Any = None, raw: bytes | str | None = None) -> Any:
            import json

            body = raw if raw is not None else json.dumps(data if data is not None else {})
            return self.client.post(path, body, content_type="application/json", headers=self.headers)

    return Api()


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def browser_page(live_server: Any) -> Iterator[Any]:
    """A Playwright page in Debian's chromium (no browser download), pointed at the live server.

    Without chromium the test is skipped locally; CI sets SIRENE_REQUIRE_BROWSER=1 so it fails instead.
    """
    import os

    if not os.path.exists(CHROMIUM):
        if os.environ.get("SIRENE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing but SIRENE_REQUIRE_BROWSER=1 (install Debian's chromium)")
        pytest.skip(f"{CHROMIUM} is not installed")
    # Playwright's sync API refuses to run inside a running event loop; Django's ORM must still be
    # callable from the test body.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        context = browser.new_context(base_url=live_server.url, locale="de-DE")
        page = context.new_page()
        page.set_default_timeout(15000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def login(page: Any, username: str, password: str) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


@pytest.fixture(scope="session", autouse=True)
def _close_stray_postgres_sessions(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """The session-scoped live server keeps its thread's connection to the test database until after
    pytest-django drops that database, which then fails ("being accessed by other users") and leaves it
    behind. End those sessions first (teardown runs before django_db_setup's)."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(scope="session", autouse=True)
def _remove_sqlite_test_sidecars() -> Iterator[None]:
    """The SQLite test database is a WAL file (settings): Django deletes the file, not its -wal/-shm."""
    yield
    import glob
    import os

    from django.conf import settings

    name = str(settings.DATABASES["default"].get("TEST", {}).get("NAME") or "")
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") and name:
        for path in glob.glob(f"{glob.escape(name)}-*"):
            os.remove(path)
