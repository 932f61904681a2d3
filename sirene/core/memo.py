"""Reads shared by several parts of one page, done once per page.

The case page is composed of panels from several domains, and several of them show the same facts
(the suggestions, similar cases, articles the customer read, the customer's tickets). Each panel
asks its own question; inside `page_scope()` a function decorated with `@per_page` answers each
distinct question once and hands every caller its own copy. Outside a scope (API calls, services,
the worker) the decorator does nothing, so no write can ever see a stale read.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_cache: ContextVar[dict[tuple[Any, ...], Any] | None] = ContextVar("sirene_page_memo", default=None)


@contextmanager
def page_scope() -> Iterator[None]:
    """Reads inside this block (one page render, no writes) are shared between the panels."""
    token = _cache.set({})
    try:
        yield
    finally:
        _cache.reset(token)


def _key_of(value: Any) -> Any:
    pk = getattr(value, "pk", None)
    if pk is not None:
        return (type(value).__name__, pk)
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    raise TypeError(f"per_page: cannot use {type(value).__name__} as a key")


def per_page(fn: Callable[P, R]) -> Callable[P, R]:
    """Answer once per page scope; the arguments must be model rows or plain values."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        cache = _cache.get()
        if cache is None:
            return fn(*args, **kwargs)
        try:
            key = (
                fn.__module__,
                fn.__qualname__,
                tuple(_key_of(a) for a in args),
                tuple(sorted((k, _key_of(v)) for k, v in kwargs.items())),
            )
        except TypeError:
            return fn(*args, **kwargs)
        if key not in cache:
            cache[key] = fn(*args, **kwargs)
        return copy.deepcopy(cache[key])  # type: ignore[no-any-return]

    return wrapper
