"""Reply templates: German texts with {placeholders}, editable in the UI, defaults kept here."""

from __future__ import annotations

import string
from typing import Any

from django.db import transaction

from sirene.accounts.models import User
from sirene.core import clock
from sirene.helpdesk.models import ReplyKind, ReplyTemplate
from sirene.preferences.voice import SIGNATURE_DU, SIGNATURE_SIE, say, voice

SIGNATURE = SIGNATURE_SIE

# One voice for every customer text (SIRENE_CUSTOMER_VOICE: "sie", the default, or "du"): holding
# reply, delay notice, resolution, the single-case ready reply and the Facebook group reply.
DEFAULTS_SIE: dict[str, str] = {
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
DEFAULTS_DU: dict[str, str] = {
    ReplyKind.HOLDING: (
        "{greeting}\n\nvielen Dank für deine Nachricht. Wir haben dein Anliegen an unser Technik-Team gegeben "
        "und melden uns zeitnah bei dir, sobald wir mehr wissen.\n\n" + SIGNATURE_DU
    ),
    ReplyKind.DELAY: (
        "{greeting}\n\nwir möchten dich auf dem Laufenden halten: Unser Technik-Team arbeitet weiterhin an deinem "
        "Anliegen „{subject}“. Die Lösung dauert leider etwas länger als erhofft – wir haben es nicht "
        "vergessen und melden uns, sobald es behoben ist.\n\nVielen Dank für deine Geduld!\n\n" + SIGNATURE_DU
    ),
    ReplyKind.RESOLUTION: (
        "{greeting}\n\ngute Nachrichten: Das Problem „{subject}“ ist behoben.\n\n{resolution}\n\n"
        "Sollte noch etwas nicht funktionieren, antworte einfach auf diese Nachricht.\n\n" + SIGNATURE_DU
    ),
    ReplyKind.NOTE: "sirene-Technikfall #{case_id}: {case_url}",
}
# Kept under its old name: the templates page and older tests read it.
DEFAULTS = DEFAULTS_SIE


def defaults() -> dict[str, str]:
    return DEFAULTS_DU if voice() == "du" else DEFAULTS_SIE


def default_customer_text(incident: Any) -> str:
    """The prefilled customer text for the resolution (the lead edits it before sending)."""
    what = incident.customer_title or "die Störung"
    return say(
        f"Die Ursache für „{what}“ ist gefunden und behoben, alles funktioniert wieder. Falls es bei Ihnen "
        "noch hakt, laden Sie die Seite bitte einmal neu bzw. schließen und öffnen Sie die App.",
        f"Die Ursache für „{what}“ ist gefunden und behoben, alles funktioniert wieder. Falls es bei dir "
        "noch hakt, lade die Seite bitte einmal neu bzw. schließe und öffne die App.",
    )


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
    """The team's own template when they wrote one; else the built-in text in the configured voice
    (a stored row that is just a built-in default follows the voice setting too)."""
    row = ReplyTemplate.objects.filter(kind=kind).first()
    if row is not None and row.body not in (DEFAULTS_SIE[kind], DEFAULTS_DU[kind]):
        return row.body
    return defaults()[kind]


def render(kind: str, values: dict[str, Any], *, text: str | None = None) -> str:
    """The reply of `kind` for these values (`text`: the template, when the caller already read it)."""
    text = template_text(kind) if text is None else text
    try:
        return text.format_map({name: values.get(name, "") for name in PLACEHOLDERS})
    except (KeyError, ValueError, IndexError):
        # A template broken outside the UI must not stop replies: fall back to the built-in text.
        return defaults()[kind].format_map({name: values.get(name, "") for name in PLACEHOLDERS})


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
