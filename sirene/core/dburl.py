"""Turn `SIRENE_DATABASE_URL` into a Django DATABASES entry (SQLite default, PostgreSQL by URL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sirene.core.env import ConfigError


def sqlite_database(path: Path, conn_max_age: int = 60) -> dict[str, Any]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        # Persistent like PostgreSQL's: closing the last connection checkpoints and removes the WAL,
        # and the next one's first commit restarts it with a sync, so a worker that reopened the
        # file after every step paid a sync per stored report.
        "CONN_MAX_AGE": conn_max_age,
        # WAL lets readers continue while the worker writes; the busy timeout makes writers wait
        # for each other instead of failing with "database is locked".
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
        },
    }


def parse_database_url(url: str, base_dir: Path, conn_max_age: int = 60) -> dict[str, Any]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in {"sqlite", "sqlite3"}:
        raw = unquote(parts.path)
        path = Path(raw[1:] if raw.startswith("//") else raw) if raw else base_dir / "var" / "sirene.sqlite3"
        return sqlite_database(path if path.is_absolute() else base_dir / path, conn_max_age)
    if scheme in {"postgres", "postgresql", "pgsql"}:
        options: dict[str, Any] = {}
        for key, values in parse_qs(parts.query).items():
            options[key] = values[-1]
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")) or "sirene",
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "OPTIONS": options,
            # Persistent connections save a round trip per request; tests set 0 so no thread holds one open.
            "CONN_MAX_AGE": conn_max_age,
        }
    raise ConfigError(
        f"SIRENE_DATABASE_URL has an unsupported scheme {scheme!r} (use sqlite:// or postgresql://)"
    )
