"""What people read for stored keys: customer attribute names and values, sources, actor labels.

Stored data keeps its stable keys (`platform: mobile`); these labels are looked up with gettext at
display time, so the page speaks the viewer's language.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext


def attribute_label(key: str) -> str:
    labels = {
        "platform": _("Platform"),
        "device": _("Device"),
        "os": _("Operating system"),
        "browser": _("Browser"),
        "app_version": _("App version"),
        "club_member": _("Club member"),
        "plan": _("Plan"),
        "country": _("Country"),
        "language": _("Language"),
        "client": _("Used via"),
        "first_seen": _("First seen"),
        "action_before": _("Done just before"),
    }
    return labels.get(key, key.replace("_", " ").capitalize())


def attribute_value(key: str, value: Any) -> str:
    if isinstance(value, bool) or str(value).lower() in {"true", "false"}:
        return _("yes") if str(value).lower() == "true" else _("no")
    text = str(value)
    if key == "platform":
        return {"mobile": _("mobile"), "desktop": _("desktop")}.get(text, text)
    if key == "client":
        return {"app": pgettext("used via", "app"), "web": pgettext("used via", "browser")}.get(text, text)
    return text


def attributes(values: dict[str, Any] | None) -> list[tuple[str, str]]:
    """A customer's attributes as (label, value) pairs, in a stable order."""
    order = ["platform", "client", "device", "os", "browser", "app_version", "club_member", "plan"]
    items = dict(values or {})
    keys = [k for k in order if k in items] + sorted(k for k in items if k not in order)
    return [(attribute_label(k), attribute_value(k, items[k])) for k in keys if items[k] not in (None, "")]


def source_label(source: str) -> str:
    return {
        "groove": _("Groove"),
        "web": _("web form"),
        "api": _("API"),
        "import": _("import"),
        "demo": _("demo data"),
    }.get(source, source)


def actor_label(label: str) -> str:
    """Who did it, for actors that are not users."""
    return {
        "": "sirene",
        "sirene": "sirene",
        "system": "sirene",
        "api": _("API"),
        "web": _("web form"),
        "import": _("import"),
        "groove": _("Groove"),
        "demo": _("demo data"),
        "slack": _("Slack"),
        "phone": _("phone"),
    }.get(label, label)


def channel_label(channel: str) -> str:
    return {
        "email": _("e-mail"),
        "web": _("web form"),
        "chat": _("chat"),
        "phone": _("phone"),
        "facebook": _("Facebook"),
    }.get(channel, channel)


def received_via(source: str, external_id: str, channel: str) -> str:
    """Where a case came from, for people: "Groove-Ticket #5004 · E-Mail" (no internal ids)."""
    if source == "groove":
        origin = _("Groove ticket #%(n)s") % {"n": external_id}
    else:
        origin = source_label(source)
    return f"{origin} · {channel_label(channel)}" if channel else origin
