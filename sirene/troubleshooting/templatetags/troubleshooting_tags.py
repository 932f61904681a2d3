"""Template helpers for the workspace: the read model carries ISO timestamps (shared with the API)."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def when(value: str | dt.datetime | None) -> str:
    """ISO timestamp → local "dd.mm.YYYY HH:MM"; empty stays empty."""
    if not value:
        return ""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if timezone.is_naive(moment):
        return moment.strftime("%d.%m.%Y %H:%M")
    return timezone.localtime(moment).strftime("%d.%m.%Y %H:%M")


@register.filter
def kb(value: int | None) -> str:
    if value is None:
        return ""
    return f"{value / 1024:.1f} KB" if value < 1024 * 1024 else f"{value / 1024 / 1024:.1f} MB"
