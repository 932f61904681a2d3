"""The escalation preview for people: "nach 15 min: Anruf bei Tara (1 von 2)" instead of the engine's
technical lines ("15:00 call Tara (1/2)", which read like clock times). Rendered with gettext, so the
preview speaks the viewer's language; the CLI keeps the engine's plain lines."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _

from sirene.escalation.engine import PreviewLine, RoutingLine


@dataclass(frozen=True)
class Line:
    offset: str
    text: str
    kind: str


def offset_label(seconds: float) -> str:
    total = int(round(seconds))
    if total <= 0:
        return _("at once")
    minutes, secs = divmod(total, 60)
    if secs and minutes:
        return _("after %(m)d min %(s)d s") % {"m": minutes, "s": secs}
    if minutes:
        return _("after %(m)d min") % {"m": minutes}
    return _("after %(s)d s") % {"s": secs}


def _reason(reason: str) -> str:
    return {
        "acknowledged": _("someone took over"),
        "exhausted": _("all steps done, nobody took over"),
        "resolved": _("the incident was resolved"),
        "absent": _("absent"),
        "off_hours": _("outside working hours and nobody on call"),
        "no_phone": _("no phone number"),
        "no_slack": _("no Slack id"),
    }.get(reason, reason)


_RULES: list[tuple[re.Pattern[str], object]] = [
    (
        re.compile(r"call (?P<who>.+) \((?P<n>\d+)/(?P<of>\d+)\) on call"),
        lambda m: _("Call %(who)s (%(n)s of %(of)s, on call)") % m,
    ),
    (re.compile(r"call (?P<who>.+) \((?P<n>\d+)/(?P<of>\d+)\)"), lambda m: _("Call %(who)s (%(n)s of %(of)s)") % m),
    (
        re.compile(r"repeat: round (?P<n>\d+)"),
        lambda m: _("Nobody reacted: the escalation starts again (round %(n)s)") % m,
    ),
    (
        re.compile(r"Slack post in (?P<c>\S+) → (?P<who>.*)"),
        lambda m: (_("Slack post in %(c)s mentioning %(who)s") % m) if m["who"] else _("Slack post in %(c)s") % m,
    ),
    (re.compile(r"task for (?P<who>.+?): (?P<t>.*)"), lambda m: _("Task for %(who)s: %(t)s") % m),
    (
        re.compile(r"skip (?P<who>.+) \((?P<why>\w+)\)"),
        lambda m: _("%(who)s is skipped (%(why)s)") % {"who": m["who"], "why": _reason(m["why"])},
    ),
    (re.compile(r"pressed 1"), lambda m: _("The call is answered: pressed 1 to take over")),
    (re.compile(r"Slack message updated: acknowledged"), lambda m: _("The Slack post is updated: taken over")),
    (re.compile(r"stop: (?P<why>\w*)"), lambda m: _("The escalation ends: %(why)s") % {"why": _reason(m["why"])}),
]


def describe(line: PreviewLine) -> Line:
    for pattern, sentence in _RULES:
        m = pattern.fullmatch(line.text)
        if m:
            return Line(offset_label(line.at), sentence(m), line.action)  # type: ignore[operator]
    return Line(offset_label(line.at), line.text, line.action)


def routing(lines: list[RoutingLine], name: Callable[[str | None], str | None]) -> list[str]:
    """The on-call preview: "Samstag 03:00 → Anruf bei Piwi (Rufbereitschaft)"."""
    out = []
    for line in lines:
        local = timezone.localtime(line.at)
        when = f"{WEEKDAYS[local.weekday()]} {local:%H:%M}"
        if line.person is None:
            why = _reason(line.reason)
            out.append(_("%(when)s → nobody is called (%(why)s)") % {"when": when, "why": why})
        elif line.on_call and line.instead_of:
            out.append(
                _("%(when)s → call %(who)s (on call, instead of %(instead)s)")
                % {"when": when, "who": name(line.person), "instead": name(line.instead_of)}
            )
        elif line.on_call:
            out.append(_("%(when)s → call %(who)s (on call)") % {"when": when, "who": name(line.person)})
        else:
            out.append(_("%(when)s → call %(who)s (working hours)") % {"when": when, "who": name(line.person)})
    return out


def lines(preview: list[PreviewLine]) -> list[Line]:
    return [describe(line) for line in preview]
