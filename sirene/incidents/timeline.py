"""An incident's timeline as sentences in the viewer's language.

Events are stored as kind + named parameters (`incidents.events.record`); the sentence is made by the
kind's renderer with gettext when the page is rendered. Rows from before that change (no "v" in their
data) are still read from their stored message by the patterns below.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sirene.cases.labels import actor_label
from sirene.incidents import events
from sirene.incidents.models import IncidentEvent


@dataclass(frozen=True)
class Line:
    text: str
    detail: str
    who: str
    event: IncidentEvent

    @property
    def at(self) -> Any:
        return self.event.at

    @property
    def kind(self) -> str:
        return self.event.kind


def kind_label(kind: str) -> str:
    """The event kind as a word (filters, exports)."""
    return {
        "opened": _("Opened"),
        "rule": _("Rule"),
        "case_joined": _("Case joined"),
        "case_removed": _("Case removed"),
        "acknowledged": _("Acknowledged"),
        "resolved": _("Resolved"),
        "brief_changed": _("Brief updated"),
        "status_update": _("Status update"),
        "test_check": _("Test-account check"),
        "group_merged": _("Groups merged"),
        "group_split": _("Group split"),
        "customer_replies": _("Customer replies"),
        "delay_notice": _("Delay notice"),
        "delay_reminder": _("Reminder"),
        "escalation": _("Escalation"),
        "escalation_error": _("Escalation error"),
        "no_takeover": _("No takeover"),
        "cases_solved": _("Cases solved"),
        "renamed": _("Title changed"),
        "published": _("Published on the status page"),
        "unpublished": _("Removed from the status page"),
        "also_notified": _("Also notified"),
        "reopened": _("Reopened"),
        "possible_split": _("possibly two problems"),
        "team_answer": _("Team answer"),
        "early_warning": _("Early warning"),
    }.get(kind, kind)


def _via(via: str) -> str:
    return {"web": _("in sirene"), "slack": _("in Slack"), "phone": _("by phone")}.get(via, via)


def _rule(event: IncidentEvent) -> str:
    data = event.data or {}
    customers = data.get("customers_in_window")
    hours = data.get("window_hours")
    required = data.get("required") or (data.get("threshold", 0) + 1 if data.get("threshold") is not None else None)
    if customers is None or hours is None or required is None:
        return _("Detection rule fired: %(reason)s") % {"reason": event.message}
    text = ngettext(
        "%(n)s customer within %(hours)s h reported the same problem (alert from %(required)s)",
        "%(n)s customers within %(hours)s h reported the same problem (alert from %(required)s)",
        int(customers),
    ) % {"n": customers, "hours": number_format(float(hours), 0 if float(hours).is_integer() else 1), "required": required}
    if data.get("known_recurring"):
        text += " · " + _("a recurring problem: the alert needs more customers than usual")
    return text


Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]
_ESCALATION: list[Rule] = [
    (re.compile(r"Eskalation gestartet: (?P<p>.*)"), lambda m: _("Escalation started: policy “%(p)s”") % m),
    (re.compile(r"Anruf bei (?P<who>.+?) \((?P<n>\d+)/(?P<of>\d+)\)"), lambda m: _("Calling %(who)s (%(n)s of %(of)s)") % m),
    (
        re.compile(r"Anruf bei (?P<who>.+?): nicht angenommen \((?P<why>.*)\)"),
        lambda m: _("Call to %(who)s not answered (%(why)s)") % m,
    ),
    (re.compile(r"Aufgabe für (?P<who>.+?): (?P<t>.*)", re.S), lambda m: _("Task for %(who)s: %(t)s") % m),
    (re.compile(r"Aufgabe erledigt: (?P<t>.*)", re.S), lambda m: _("Task done: %(t)s") % m),
    (
        re.compile(r"(?P<who>.+?) übersprungen \((?P<why>\w+)\)"),
        lambda m: _("%(who)s skipped (%(why)s)") % {"who": m["who"], "why": _skip_reason(m["why"])},
    ),
    (
        re.compile(r"Eskalation beendet: alle Schritte ausgeführt, niemand hat übernommen\."),
        lambda m: _("Escalation ended: all steps done, nobody took over."),
    ),
    (re.compile(r"Slack-Nachricht in (?P<c>\S+) gesendet"), lambda m: _("Slack message sent to %(c)s") % m),
]


def _skip_reason(reason: str) -> str:
    return {"absent": _("absent"), "no_phone": _("no phone number"), "no_slack": _("no Slack id")}.get(reason, reason)


def _escalation(message: str) -> str:
    for pattern, sentence in _ESCALATION:
        m = pattern.fullmatch(message.strip())
        if m:
            return sentence(m)
    return message


_REPLIES = re.compile(
    r"Resolution reply queued for (?P<q>\d+) ticket\(s\); (?P<w>\d+) linked case\(s\) have no helpdesk ticket"
)
_DELAY = re.compile(r"Delay notice queued for (?P<q>\d+) ticket\(s\)")
_REMINDER = re.compile(r"Unsolved for over (?P<h>[\d.,]+) h: owner reminded \((?P<via>.*)\)")
_JOINED = re.compile(r"#(?P<id>\d+) (?P<who>\S+): (?P<subject>.*)", re.S)
_BRIEF = re.compile(r"common thread: (?P<t>.*); error codes: (?P<c>.*)")


def describe(event: IncidentEvent) -> tuple[str, str]:
    kind, message, data = event.kind, event.message or "", event.data or {}
    rendered = events.render(kind, data)
    if rendered is not None:
        return rendered
    # A row written before events were stored as data (no "v"): read from its stored message below.
    after = _after_siren(event)  # ★ issue 21: its events are data, worded here
    if after is not None:
        return after
    if kind == "opened":
        origin = data.get("origin")
        if origin == "auto":
            return _("Incident opened automatically"), message
        return _("Incident opened"), message
    if kind == "rule":
        return _rule(event), ""
    if kind == "case_joined":
        m = _JOINED.fullmatch(message)
        if m:
            return _("Case #%(id)s joined (%(who)s)") % {"id": m["id"], "who": m["who"]}, m["subject"]
        return _("A case joined"), message
    if kind == "case_removed":
        m = re.fullmatch(r"#(?P<id>\d+) → G-(?P<g>\d+)", message)
        if m:
            return _("Case #%(id)s moved out to problem group G-%(g)s") % m, ""
        return _("A case was removed"), message
    if kind == "acknowledged":
        m = re.fullmatch(r"(?P<who>.+) \((?P<via>\w+)\)", message)
        if m:
            return _("Acknowledged by %(who)s (%(via)s)") % {"who": m["who"], "via": _via(m["via"])}, ""
        return _("Acknowledged"), message
    if kind == "resolved":
        return _("Resolved"), message
    if kind == "status_update":
        return _("Status update posted"), message
    if kind == "test_check":
        return _("Checked in the test account"), message
    if kind == "brief_changed":
        m = _BRIEF.fullmatch(message)
        if m:
            return _("Brief updated – common thread: %(t)s; error codes: %(c)s") % m, ""
        return _("Brief updated"), message
    if kind == "group_merged":
        return _("Problem groups merged: %(what)s") % {"what": message}, ""
    if kind == "group_split":
        m = re.fullmatch(r"(?P<n>\d+) cases → G-(?P<g>\d+)", message)
        if m:
            return ngettext(
                "%(n)s case split off into problem group G-%(g)s",
                "%(n)s cases split off into problem group G-%(g)s",
                int(m["n"]),
            ) % {"n": m["n"], "g": m["g"]}, ""
        return _("Problem group split"), message
    if kind == "customer_replies":
        queued = data.get("queued")
        without = data.get("without_ticket")
        m = _REPLIES.fullmatch(message)
        if m:
            queued, without = int(m["q"]), int(m["w"])
        if queued is not None and without is not None:
            text = ngettext(
                "Resolution reply queued for %(n)s customer ticket",
                "Resolution reply queued for %(n)s customer tickets",
                int(queued),
            ) % {"n": queued}
            if without:
                text += "; " + ngettext(
                    "%(n)s linked case has no helpdesk ticket: write to this customer by hand",
                    "%(n)s linked cases have no helpdesk ticket: write to these customers by hand",
                    int(without),
                ) % {"n": without}
            return text, ""
        return _("Customer replies"), message
    if kind == "delay_notice":
        m = _DELAY.fullmatch(message)
        if m:
            return ngettext(
                "Delay notice queued for %(n)s ticket", "Delay notice queued for %(n)s tickets", int(m["q"])
            ) % {"n": m["q"]}, ""
        return _("Delay notice"), message
    if kind == "delay_reminder":
        m = _REMINDER.fullmatch(message)
        if m:
            return _("Unsolved for over %(h)s h: owner reminded (%(via)s)") % m, ""
        return _("Reminder"), message
    if kind == "no_takeover":
        return _no_takeover(data), ""
    if kind == "escalation" and data.get("what"):
        return _escalation_step(data), ""
    if kind == "escalation":
        return _escalation(message), ""
    if kind == "escalation_error":
        return _("Escalation step failed"), message
    if kind == "cases_solved" and isinstance(data.get("cases"), int):
        n = data["cases"]
        return ngettext(
            "%(n)s linked case marked as solved", "%(n)s linked cases marked as solved", n
        ) % {"n": n}, ""
    if kind == "renamed":
        return _("Title changed"), message
    if kind in ("published", "unpublished"):
        return kind_label(kind), message
    if kind in ("possible_split", "team_answer"):  # issue 18: the team in the loop
        from sirene.incidents.team_loop import describe_event

        return describe_event(event), ""
    return kind_label(kind), message


def _no_takeover(data: dict[str, Any]) -> str:
    """An old row (issue 22, before the version): its data has the renderer's keys."""
    return (events.render("no_takeover", {**data, "v": events.VERSION}) or ("", ""))[0]


def _escalation_step(data: dict[str, Any]) -> str:
    """An old row of issue 22 (what + params, no version): the renderer reads `what` as the step."""
    if data.get("what") == "nobody_reacted":
        return _("Nobody reacted: the lead was told and the channel got a final line")
    rendered = events.render("escalation", {**data, "v": events.VERSION, "step": data.get("what")})
    return rendered[0] if rendered else kind_label("escalation")


def who(event: IncidentEvent) -> str:
    if event.actor is not None:
        return str(event.actor.display_name())
    return actor_label(event.actor_label)


def lines(events: Any) -> list[Line]:
    out = []
    for event in events:
        text, detail = describe(event)
        out.append(Line(text=text, detail=detail, who=who(event), event=event))
    return out


# -- ★ after the siren (issue 21): sweep at resolve, fix rolled out, reopened --------------------


def _after_siren(event: IncidentEvent) -> tuple[str, str] | None:
    """Old rows of issue 21 (no version): their data has the renderers' keys."""
    kind, data = event.kind, event.data or {}
    if kind == "also_notified" and isinstance(data.get("case_ids"), list):
        return events.render(kind, {**data, "v": events.VERSION})
    if kind == "status_update" and data.get("fix_deployed"):
        return _("Status update posted – the fix is rolled out"), event.message or ""
    if kind == "reopened":
        return events.render(kind, {**data, "v": events.VERSION})
    return None
