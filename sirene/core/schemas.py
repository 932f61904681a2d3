"""Shared pieces of the API's response models (django-ninja `Schema`s).

`IsoDateTime` keeps the wire format the API has always had (`datetime.isoformat()`, e.g.
`2024-03-05T10:00:00.123456+00:00`), where ninja's encoder would shorten it to milliseconds and `Z`.
`ErrorOut` is the one error body: `{"error": ..., "field": ...}` (422s also list every field in `errors`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Schema
from pydantic import PlainSerializer, WithJsonSchema


def _iso(value: dt.datetime) -> str:
    return value.isoformat()


IsoDateTime = Annotated[
    dt.datetime,
    PlainSerializer(_iso, return_type=str, when_used="always"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class FieldMessage(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    """Every 4xx answer: a readable message, and the input field it is about (null when none)."""

    error: str
    field: str | None = None
    errors: list[FieldMessage] | None = None


def responses(ok: Any, *codes: int, status: int = 200) -> dict[int, Any]:
    """`response=` for an operation: its success model plus the shared error body for 401, 422 and
    each code in `codes` (403, 404, 409, 413)."""
    out: dict[int, Any] = {status: ok, 401: ErrorOut, 422: ErrorOut}
    for code in codes:
        out[code] = ErrorOut
    return out
