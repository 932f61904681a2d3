"""The outbox for people: names instead of phone numbers and Slack ids, the spoken text of a call
instead of its TwiML, German kinds. Stored rows stay exactly what was (or would have been) sent."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_EMOJI_CODE = re.compile(r":([a-z0-9_+-]+):")
# Slack shows these shortcodes as emoji; so does the outbox (unknown ones stay as written).
EMOJI = {
    "rotating_light": "🚨",
    "information_source": "ℹ️",
    "white_check_mark": "✅",
    "clipboard": "📋",
    "warning": "⚠️",
    "telephone_receiver": "📞",
    "hourglass": "⏳",
}
_SAY = re.compile(r"<Say[^>]*>(.*?)</Say>", re.S)
_GATHER_HINT = re.compile(r"<Gather[^>]*>", re.S)


@dataclass(frozen=True)
class Row:
    message: Any
    kind: str
    recipient: str
    summary: str
    text: str

    @property
    def long(self) -> bool:
        return len(self.text) > 400


def kind_label(kind: str) -> str:
    return {
        "post": _("Slack post"),
        "update": _("Slack update"),
        "dm": _("Slack direct message"),
        "call": _("Phone call"),
        "reply": _("Reply to the customer"),
        "note": _("Private note"),
        "tag": _("Tag"),
    }.get(kind, kind)


def slack_text(text: str, by_slack: dict[str, str]) -> str:
    text = _MENTION.sub(lambda m: "@" + by_slack.get(m[1], m[1]), text)
    text = _EMOJI_CODE.sub(lambda m: EMOJI.get(m[1], m[0]), text)
    return _LINK.sub(lambda m: f"{m[2]} ({m[1]})", text)


def spoken_text(twiml: str) -> str:
    parts = [html.unescape(re.sub(r"\s+", " ", p)).strip() for p in _SAY.findall(twiml)]
    return " ".join(p for p in parts if p) or twiml


def rows(messages: list[Any], *, by_phone: dict[str, str], by_slack: dict[str, str]) -> list[Row]:
    """`by_phone`/`by_slack`: the escalation people's names (web/ passes them: helpdesk does not read
    escalation)."""
    out = []
    for m in messages:
        recipient = m.recipient
        if m.kind == "call":
            name = by_phone.get(m.recipient)
            recipient = f"{name} ({m.recipient})" if name else m.recipient
            text = spoken_text(m.body)
            summary = _("Call to %(who)s: %(text)s") % {"who": recipient, "text": text}
            out.append(Row(m, kind_label(m.kind), recipient, summary, text))
            continue
        if m.channel == "slack":
            if m.recipient in by_slack:
                recipient = by_slack[m.recipient]  # the id is in the full message, not the list
            text = slack_text(m.body, by_slack)
        else:
            text = m.body
        out.append(Row(m, kind_label(m.kind), recipient, "", text))
    return out
