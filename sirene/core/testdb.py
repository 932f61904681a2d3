"""`python -m sirene.core.testdb URL`: make the PostgreSQL test database of `make test` exist.

Exit 0: the database answers (created here if the server answered and it was absent).
Exit 3: the server does not answer (the caller decides whether the PostgreSQL leg is skipped or fails).
Exit 1: the server answers but the database could not be created (the message says why).
Every outcome prints one line, so a skipped leg is never silent.
"""

from __future__ import annotations

import sys
from urllib.parse import unquote, urlsplit, urlunsplit

UNREACHABLE = 3


def ensure(url: str) -> tuple[int, str]:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    if not name:
        return 1, f"{url}: no database name in the URL"
    try:
        psycopg.connect(url, connect_timeout=3).close()
        return 0, f"PostgreSQL test database {name} is there"
    except psycopg.OperationalError as exc:
        first_error = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    try:
        conn = psycopg.connect(maintenance, connect_timeout=3, autocommit=True)
    except psycopg.OperationalError:
        return UNREACHABLE, f"PostgreSQL does not answer at {url} ({first_error})"
    with conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            return 1, f"PostgreSQL answers, database {name} exists, but connecting failed: {first_error}"
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.Error as exc:
            return 1, f"PostgreSQL answers, database {name} is absent and could not be created: {exc}"
    return 0, f"PostgreSQL test database {name} was absent: created"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m sirene.core.testdb postgresql://user@host:port/dbname", file=sys.stderr)
        return 2
    code, message = ensure(args[0])
    print(message, file=sys.stderr if code else sys.stdout)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
