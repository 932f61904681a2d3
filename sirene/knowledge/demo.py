"""`sirene demo`: load the German starter set of known problems (idempotent: updates by key)."""

from __future__ import annotations

from typing import Any

from sirene.knowledge.transfer import import_starter_set


def load(stdout: Any) -> None:
    result = import_starter_set()
    stdout.write(
        f"known problems: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
    )
