"""Reply templates: German texts with {placeholders}, editable in the UI, defaults kept here."""

from __future__ import annotations

import string
from typing import Any

from django.db import transaction

from sirene.accounts.models import User
from sirene.core import clock
from sirene.helpdesk.models import ReplyKind, ReplyTemplate
from sirene.preferences.voice import DU, SIGNATURE_DU, SIGNATURE_SIE, in_voice, voice

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


def defaults(which: str | None = None) -> dict[str, str]:
    return DEFAULTS_DU if (which or voice()) == DU else DEFAULTS_SIE


# The prefilled customer text for the resolution (the lead edits it before sending). The template already
# says which problem is fixed ("Das Problem „…“ ist behoben."), so this text does not repeat the title; it
# is stored with both forms of address and rendered per customer in their conversation's voice.
DEFAULT_CUSTOMER_TEXT = (
    "Die Ursache ist gefunden und behoben, alles funktioniert wieder. Falls es bei [Ihnen|dir] noch "
    "nicht klappt, [laden Sie|lade] die Seite bitte einmal neu; in der App [schließen Sie|schließe] sie "
    "bitte einmal ganz und [öffnen Sie|öffne] sie wieder (bzw. [aktualisieren Sie|aktualisiere] sie, "
    "falls der Store ein Update anbietet)."
)


def default_customer_text(incident: Any = None, which: str | None = None) -> str:
    """The prefilled customer text for the resolution; `which` None keeps both forms ("[Sie|du]")."""
    return DEFAULT_CUSTOMER_TEXT if which is None else in_voice(DEFAULT_CUSTOMER_TEXT, which)


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


def own_template(kind: str) -> str | None:
    """The team's own template of `kind`, or None when they use the built-in one (a stored row that is
    just a built-in default follows the voice too)."""
    row = ReplyTemplate.objects.filter(kind=kind).first()
    if row is not None and row.body not in (DEFAULTS_SIE[kind], DEFAULTS_DU[kind]):
        return row.body
    return None


def template_text(kind: str, which: str | None = None) -> str:
    """The team's own template when they wrote one; else the built-in text in `which` voice (default:
    the team's). A team template may carry both forms as "[Sie-Form|du-Form]"."""
    own = own_template(kind)
    if own is not None:
        return own
    return defaults(which)[kind]


def render(kind: str, values: dict[str, Any], *, text: str | None = None, which: str | None = None) -> str:
    """The reply of `kind` for these values in `which` voice (`text`: the template, when the caller
    already read it). Every "[Sie-Form|du-Form]" in the template and in the values is resolved."""
    which = which or voice()
    text = template_text(kind, which) if text is None else text
    filled = {name: in_voice(str(values.get(name, "")), which) for name in PLACEHOLDERS}
    try:
        return in_voice(text.format_map(filled), which)
    except (KeyError, ValueError, IndexError):
        # A template broken outside the UI must not stop replies: fall back to the built-in text.
        return defaults(which)[kind].format_map(filled)


@transaction.atomic
def save_template(kind: str, body: str, *, user: User | None) -> ReplyTemplate:
    if kind not in DEFAULTS:
        raise TemplateError("kind", f"{kind!r} is not one of: {', '.join(DEFAULTS)}")
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
