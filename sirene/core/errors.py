"""The one "bad input" error: every domain's validation error subclasses `FieldError`.

`field` names the offending input (a dotted path for nested fields); the API turns any `FieldError`
into one 422 shape, `{"error": message, "field": field}`, and the web views show it beside the form.
"""

from __future__ import annotations


class FieldError(ValueError):
    """Bad input; `field` names the offending field (dotted path), `message` says what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
