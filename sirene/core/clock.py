"""The one clock. Everything that needs "now" asks here, so tests (and the escalation preview)
can move time without sleeping."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    frozen = _frozen
    if frozen is not None:
        return frozen
    return dt.datetime.now(dt.UTC)


def set_now(value: dt.datetime | None) -> None:
    """Freeze the clock at `value` (timezone-aware) or unfreeze it with None."""
    global _frozen
    if value is not None and value.tzinfo is None:
        raise ValueError("the clock needs a timezone-aware datetime")
    with _lock:
        _frozen = value


def advance(**delta: float) -> dt.datetime:
    """Move a frozen clock forward, e.g. advance(minutes=15)."""
    global _frozen
    with _lock:
        if _frozen is None:
            raise RuntimeError("advance() needs a frozen clock (set_now first)")
        _frozen = _frozen + dt.timedelta(**delta)
        return _frozen


@contextmanager
def frozen(at: dt.datetime) -> Iterator[None]:
    previous = _frozen
    set_now(at)
    try:
        yield
    finally:
        set_now(previous)
