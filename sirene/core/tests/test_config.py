from __future__ import annotations

from pathlib import Path

import pytest

from sirene.core import clock
from sirene.core.dburl import parse_database_url
from sirene.core.env import ConfigError, env_bool, env_int, env_list, env_secret


def test_postgres_urls_become_django_settings() -> None:
    db = parse_database_url(
        "postgresql://sirene:s%40cret@db.internal:5433/sirene?sslmode=require", Path("/srv")
    )
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "sirene",
        "s@cret",
        "db.internal",
        "5433",
        "sirene",
    )
    assert db["OPTIONS"] == {"sslmode": "require"}


def test_sqlite_urls_are_relative_to_the_base_dir(tmp_path: Path) -> None:
    db = parse_database_url("sqlite:///data/x.sqlite3", tmp_path)
    assert db["NAME"] == "/data/x.sqlite3"
    db = parse_database_url("sqlite://", tmp_path)
    assert db["NAME"] == str(tmp_path / "var" / "sirene.sqlite3")
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]


def test_unknown_database_schemes_are_refused() -> None:
    with pytest.raises(ConfigError, match="mysql"):
        parse_database_url("mysql://x", Path("/"))


def test_typed_env_helpers_name_the_bad_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("X_BOOL", "vielleicht")
    with pytest.raises(ConfigError, match="X_BOOL"):
        env_bool("X_BOOL")
    monkeypatch.setenv("X_INT", "zwölf")
    with pytest.raises(ConfigError, match="X_INT"):
        env_int("X_INT", 1)
    monkeypatch.setenv("X_LIST", " helga, #anwenderfehler ,")
    assert env_list("X_LIST") == ["helga", "#anwenderfehler"]
    secret = tmp_path / "token"
    secret.write_text("xoxb-123\n")
    monkeypatch.setenv("X_SECRET_FILE", str(secret))
    assert env_secret("X_SECRET") == "xoxb-123"


def test_the_clock_can_be_frozen_and_moved() -> None:
    import datetime as dt

    start = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)
    clock.set_now(start)
    assert clock.advance(minutes=15) == start + dt.timedelta(minutes=15)
    clock.set_now(None)
    assert clock.now() > start
