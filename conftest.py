"""Test-wide guards and fixtures.

- No network: any outbound connection to a non-loopback address fails loudly (fake servers run on 127.0.0.1).
- The one clock is unfrozen after every test.
- Personas: an agent, a lead and an admin, plus an API token.
"""

from __future__ import annotations

import ipaddress
import socket
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


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _reset_clock() -> Iterator[None]:
    from sirene.core import clock

    yield
    clock.set_now(None)


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
    """A Django test client that sends the Bearer token and JSON."""

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
