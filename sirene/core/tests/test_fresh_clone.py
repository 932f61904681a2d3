"""A clone with nothing beside it: `make test` makes its PostgreSQL database, and says why when it cannot."""

from __future__ import annotations

import os
import socket
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

from sirene.core import testdb


def _server_url() -> str | None:
    for var in ("SIRENE_DATABASE_URL", "SIRENE_TEST_POSTGRES_URL"):
        url = os.environ.get(var, "")
        if url.startswith(("postgres://", "postgresql://")):
            return url
    return None


def test_fresh_clone_an_absent_database_is_created_and_then_found() -> None:
    url = _server_url()
    if url is None:
        pytest.skip("needs a PostgreSQL server (SIRENE_DATABASE_URL or SIRENE_TEST_POSTGRES_URL)")
    import psycopg

    name = f"sirene_fresh_{uuid.uuid4().hex[:10]}"
    target = urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    try:
        code, message = testdb.ensure(target)
        assert (code, message) == (0, f"PostgreSQL test database {name} was absent: created")
        assert testdb.ensure(target)[0] == 0
        psycopg.connect(target, connect_timeout=3).close()
    finally:
        maintenance = urlunsplit(urlsplit(url)._replace(path="/postgres"))
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_fresh_clone_no_server_is_said_loudly(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert testdb.main([f"postgresql://postgres@127.0.0.1:{port}/sirene_test"]) == testdb.UNREACHABLE
    assert f"PostgreSQL does not answer at postgresql://postgres@127.0.0.1:{port}/sirene_test" in (
        capsys.readouterr().err
    )
