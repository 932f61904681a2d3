"""Replace an erased customer's address and name in any stored text or JSON, and find where they remain.

`sweep` is the net under every targeted step of an erasure: it looks into every text and JSON column of
every table sirene's apps (and Django's admin log) keep, so a column added later by another part of
sirene is covered without being listed here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connection, models

# Tables that hold the team's own people and accounts, never customers: a customer's name that
# happens to be a colleague's must not rename the colleague.
SKIP_MODELS = frozenset(
    {
        "auth.permission",
        "auth.group",
        "contenttypes.contenttype",
        "sessions.session",
        "accounts.user",
        "accounts.apitoken",
        "escalation.person",
        "escalation.absence",
        "escalation.policy",
        "escalation.step",
        "core.lanebeat",
        "privacy.erasure",
        "privacy.retentionschedule",
    }
)
TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


@dataclass(frozen=True)
class Needles:
    """What to replace: address spellings → the pseudonym label, the full name → "[gelöscht]"."""

    addresses: tuple[str, ...]
    label: str
    name: re.Pattern[str] | None
    name_text: str = ""

    def text(self, value: str) -> str:
        out = value
        for form in self.addresses:
            if form and form in out.lower():
                out = re.sub(re.escape(form), self.label, out, flags=re.IGNORECASE)
        if self.name is not None:
            out = self.name.sub("[gelöscht]", out)
        return out

    def deep(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.deep(v) for v in value]
        if isinstance(value, dict):
            return {self.text(str(k)): self.deep(v) for k, v in value.items()}
        return value

    def patterns(self) -> list[str]:
        """Lower-cased LIKE patterns (a pre-filter; the exact replacement happens in Python)."""
        found = [f"%{a}%" for a in self.addresses if a]
        if self.name_text:
            found.append(f"%{self.name_text.lower()}%")
        return found

    def found_in(self, value: Any) -> bool:
        return bool(self.deep(value) != value)


def _columns(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, TEXT_FIELDS) and not f.primary_key and not isinstance(f, models.BinaryField)
    ]


def swept_models() -> Iterable[type[models.Model]]:
    for model in apps.get_models():
        if model._meta.label_lower in SKIP_MODELS or model._meta.proxy or not model._meta.managed:
            continue
        if _columns(model):
            yield model


def sweep(needles: Needles) -> dict[str, int]:
    """Replace every remaining occurrence; returns rows changed per table (empty: nothing was left)."""
    changed: dict[str, int] = {}
    patterns = needles.patterns()
    if not patterns:
        return changed
    qn = connection.ops.quote_name
    for model in swept_models():
        columns = _columns(model)
        table = qn(model._meta.db_table)
        where = " OR ".join(
            f"LOWER(CAST({qn(f.column)} AS TEXT)) LIKE %s" for f in columns for _ in patterns
        )
        params = [p for _ in columns for p in patterns]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {qn(model._meta.pk.column)} FROM {table} WHERE {where}", params)
            ids = [row[0] for row in cursor.fetchall()]
        n = 0
        for obj in model._default_manager.filter(pk__in=ids):
            values = {}
            for f in columns:
                current = getattr(obj, f.attname)
                new = needles.deep(current) if isinstance(f, models.JSONField) else (
                    needles.text(current) if isinstance(current, str) else current
                )
                if new != current:
                    if isinstance(f, models.CharField) and isinstance(new, str) and f.max_length:
                        new = new[: f.max_length]
                    values[f.attname] = new
            if values:
                model._default_manager.filter(pk=obj.pk).update(**values)
                n += 1
        if n:
            changed[model._meta.label_lower] = n
    return changed
