"""Reply templates: German texts with {placeholders}, editable in the UI, defaults kept here."""

from __future__ import annotations

import string
from typing import Any

from django.db import transaction

from sirene.accounts.models import User
from sirene.core import clock
from sirene.helpdesk.models import ReplyKind, ReplyTemplate

SIGNATURE = "Viele Grüße\nIhr Support-Team"

DEFAULTS: dict[str, str] = {
    ReplyKind.HOLDING: (
        "{greeting}\n\nvielen Dank für Ihre Nachricht. Wir haben Ihr Anliegen an unser Technik-Team gegeben "
        "und melden uns zeitnah bei Ihnen, sobald wir mehr wissen.\n\n" + SIGNATURE
    ),
    ReplyKind.DELAY: (
        "{greeting}\n\nwir möchten Sie auf dem Laufenden halten: Unser Technik-Team arbeitet weiterhin an Ihrem "
        "Anliegen „{subject}“. Die Lösung dauert leider etwas länger als erhofft – wir haben es nicht "
        "vergessen und melden uns, sobald es behoben ist.\n\nVielen Dank für Ihre Geduld!\n\n" + SIGNATURE
    ),
    ReplyKind.RESOLUTION: (
        "{greeting}\n\ngute Nachrichten: Das Problem „{subject}“ ist behoben.\n\n{resolution}\n\n"
        "Sollte noch etwas nicht funktionieren, antworten Sie einfach auf diese Nachricht.\n\n" + SIGNATURE
    ),
    ReplyKind.NOTE: "sirene-Technikfall #{case_id}: {case_url}",
}

# Every placeholder a template may use; anything else is refused when a template is saved.
PLACEHOLDERS: dict[str, str] = {
    "greeting": "Hallo Anna, / Hallo,",
    "customer_name": "Anna Beispiel",
    "ticket_number": "4711",
    "subject": "Lektion lässt sich nicht öffnen",
    "case_id": "12",
    "case_url": "https://sirene.example/cases/12/",
    "incident_title": "Login schlägt fehl",
    "resolution": "Wir haben den Fehler behoben; bitte melden Sie sich neu an.",
}


class TemplateError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def placeholders_in(text: str) -> list[str]:
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TemplateError(
            "body", f"braces do not match ({exc}); write {{{{ and }}}} for literal braces"
        ) from None
    return [name for _literal, name, _spec, _conv in parsed if name is not None]


def validate(text: str) -> None:
    if not text.strip():
        raise TemplateError("body", "must not be empty")
    for name in placeholders_in(text):
        if name not in PLACEHOLDERS:
            allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise TemplateError("body", f"unknown placeholder {{{name}}}; allowed: {allowed}")


def template_text(kind: str) -> str:
    row = ReplyTemplate.objects.filter(kind=kind).first()
    return row.body if row is not None else DEFAULTS[kind]


def render(kind: str, values: dict[str, Any], *, text: str | None = None) -> str:
    """The reply of `kind` for these values (`text`: the template, when the caller already read it)."""
    text = template_text(kind) if text is None else text
    try:
        return text.format_map({name: values.get(name, "") for name in PLACEHOLDERS})
    except (KeyError, ValueError, IndexError):
        # A template broken outside the UI must not stop replies: fall back to the built-in text.
        return DEFAULTS[kind].format_map({name: values.get(name, "") for name in PLACEHOLDERS})


@transaction.atomic
def save_template(kind: str, body: str, *, user: User | None) -> ReplyTemplate:
    if kind not in ReplyKind.values:
        raise TemplateError("kind", f"{kind!r} is not one of: {', '.join(ReplyKind.values)}")
    body = body.replace("\r\n", "\n").strip()
    validate(body)
    row, _ = ReplyTemplate.objects.update_or_create(
        kind=kind, defaults={"body": body, "updated_at": clock.now(), "updated_by": user}
    )
    return row


def ensure_defaults() -> int:
    created = 0
    for kind, body in DEFAULTS.items():
        _row, was_created = ReplyTemplate.objects.get_or_create(kind=kind, defaults={"body": body})
        created += int(was_created)
    return created
