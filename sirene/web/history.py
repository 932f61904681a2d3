"""A case's history as sentences in the viewer's language ("Status von Neu auf In Bearbeitung geändert").

Events are stored as kind + field/old/new + data, with a technical message for the log. They are turned
into sentences here, with gettext, when a page is rendered: the language follows the viewer, not the
writer. Rows written before there was structured data are read from their (English, technical)
message by the patterns below, so old histories read the same way.

It lives in `web/` (the composition root) because events of several domains are described here (the
workspace's stages, known problems, helpdesk replies); the case page gets it with `{% case_history %}`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from sirene.cases import history as case_reads
from sirene.cases.labels import actor_label, attribute_label, attribute_value, source_label
from sirene.cases.models import Case, CaseEvent, Category, Reproduced, Status
from sirene.troubleshooting.models import ConversionResult, Stage, StageState


@dataclass(frozen=True)
class Line:
    """One history entry: the sentence, an optional longer text (a note, a reply), who and when."""

    text: str
    detail: str
    who: str
    event: CaseEvent

    @property
    def at(self) -> Any:
        return self.event.at

    @property
    def kind(self) -> str:
        return self.event.kind


def _choice(choices: type[Any], value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or "–"


def _stage_label(stage: str) -> str:
    return _choice(Stage, stage)


def _state_label(state: str) -> str:
    return _choice(StageState, state)


def _changed(event: CaseEvent) -> tuple[str, str]:
    field, old, new = event.field, event.old_value, event.new_value
    if field == "status":
        if not old:
            return _("Status set to %(new)s") % {"new": _choice(Status, new)}, ""
        return _("Status changed from %(old)s to %(new)s") % {
            "old": _choice(Status, old),
            "new": _choice(Status, new),
        }, ""
    if field == "owner":
        if not new:
            return _("%(old)s no longer owns the case") % {"old": old}, ""
        if not old:
            return _("%(new)s now owns the case") % {"new": new}, ""
        return _("Case handed over from %(old)s to %(new)s") % {"old": old, "new": new}, ""
    if field == "category":
        return _("Category changed from %(old)s to %(new)s") % {
            "old": _choice(Category, old),
            "new": _choice(Category, new),
        }, ""
    if field == "reproduced":
        return _("Reproduced in the test account: %(new)s") % {"new": _choice(Reproduced, new)}, ""
    if field == "reproduced_note":
        return _("Test-account note saved"), new
    if field == "solution":
        return _("Solution recorded"), new
    if field.startswith("customer."):
        key = field.split(".", 1)[1]
        return _("Customer detail %(label)s: %(value)s") % {
            "label": attribute_label(key),
            "value": attribute_value(key, new) if new else "–",
        }, ""
    if field.startswith("answer."):
        key = field.split(".", 1)[1]
        return _("Customer's answer saved – %(label)s: %(value)s") % {
            "label": attribute_label(key),
            "value": new or "–",
        }, ""
    if field.startswith("stage:"):
        return _("Step “%(stage)s”: %(state)s") % {
            "stage": _stage_label(field.split(":", 1)[1]),
            "state": _state_label(new),
        }, event.message
    return _("%(field)s changed from %(old)s to %(new)s") % {
        "field": field,
        "old": old or "–",
        "new": new or "–",
    }, ""


_REPRO_FIELDS = {
    "repro_steps": lambda: _("steps"),
    "repro_environment": lambda: _("environment"),
    "repro_test_account_result": lambda: _("test-account result"),
}


def _repro(m: re.Match[str]) -> str:
    names = [_REPRO_FIELDS.get(n.strip(), lambda n=n: n.strip())() for n in m["fields"].split(",")]
    return _("Reproduction saved (%(fields)s)") % {"fields": ", ".join(names)}


def _reply_sent(m: re.Match[str]) -> str:
    where = m["where"]
    outbox = re.match(r"outbox \(Groove #(?P<n>\d+)\)", where)
    if outbox:
        return _("%(what)s written to the outbox (Groove ticket #%(n)s)") % {"what": m["label"], "n": outbox["n"]}
    return _("%(what)s sent via %(where)s") % {"what": m["label"], "where": where}


# (pattern on the stored message, sentence). A sentence is a gettext call made at display time.
Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]
_MESSAGES: list[Rule] = [
    (re.compile(r"Known problem confirmed: (?P<t>.*)", re.S), lambda m: _("Known problem confirmed: %(t)s") % m),
    (re.compile(r"Known problem rejected: (?P<t>.*)", re.S), lambda m: _("Known problem rejected: %(t)s") % m),
    (
        re.compile(r"Holding reply queued for Groove ticket #(?P<n>\d+)"),
        lambda m: _("Holding reply queued for Groove ticket #%(n)s") % m,
    ),
    (re.compile(r"Delay notice queued for the customer"), lambda m: _("Delay notice queued for the customer")),
    (
        re.compile(r"Private note linking to this case posted to (?P<w>.*)"),
        lambda m: _("Private note with a link to this case posted (%(w)s)") % m,
    ),
    (
        re.compile(r"Open question unsolved for over (?P<h>[\d.,]+) h: owner reminded \((?P<via>.*)\)"),
        lambda m: _("Open question unsolved for over %(h)s h: owner reminded (%(via)s)") % m,
    ),
    (
        re.compile(r"Groove ticket #(?P<n>\d+) was closed while the case is still open.*"),
        lambda m: _("Groove ticket #%(n)s was closed while the case is still open: check whether the tech problem is solved") % m,
    ),
    (re.compile(r"Groove ticket #(?P<n>\d+) was closed"), lambda m: _("Groove ticket #%(n)s was closed") % m),
    (
        re.compile(r"problem group G-(?P<a>\d+) → G-(?P<b>\d+)"),
        lambda m: _("Moved from problem group G-%(a)s to G-%(b)s") % m,
    ),
    (re.compile(r"reproduction: (?P<fields>.*)"), _repro),
    (re.compile(r"customer data erased"), lambda m: _("The customer's data was erased (GDPR); their texts read “[gelöscht]”")),
    (re.compile(r"documentation generated"), lambda m: _("Final documentation generated from the steps")),
    (re.compile(r"documentation edited"), lambda m: _("Final documentation edited")),
    (
        re.compile(r"follow-up on (?P<when>\d\d\.\d\d\.\d{4} \d\d:\d\d):? ?(?P<detail>.*)", re.S),
        lambda m: _("Follow-up with the customer scheduled for %(when)s") % m,
    ),
    (re.compile(r"follow-up done:? ?(?P<detail>.*)", re.S), lambda m: _("Follow-up done")),
    (re.compile(r"follow-up with the customer"), lambda m: _("Follow-up with the customer")),
    (
        re.compile(r"backup #(?P<n>\d+) sha256 (?P<sum>\w+)"),
        lambda m: _("Data backup #%(n)s stored (checksum %(short)s…)") % {"n": m["n"], "short": m["sum"][:12]},
    ),
    (re.compile(r"backup #(?P<n>\d+): (?P<w>.*)"), lambda m: _("Data backup #%(n)s recorded: %(w)s") % m),
    (re.compile(r"restored backup #(?P<n>\d+):? ?(?P<detail>.*)", re.S), lambda m: _("Data backup #%(n)s restored") % m),
    (
        re.compile(r"snapshot (?P<kind>\w+) #(?P<n>\d+) \((?P<size>\d+) bytes\)"),
        lambda m: _("Project snapshot #%(n)s stored (%(kb)s KB)")
        % {"n": m["n"], "kb": number_format(int(m["size"]) / 1024, 1)},
    ),
    (
        re.compile(r"(?P<action>.+): (?P<result>success|partial|failed) \(backup #(?P<n>\d+)\)"),
        lambda m: _("Conversion “%(action)s”: %(result)s (backup #%(n)s)")
        % {"action": m["action"], "result": _conversion(m["result"]), "n": m["n"]},
    ),
    (re.compile(r"linked to #(?P<n>\d+)"), lambda m: _("Linked with case #%(n)s") % m),
    (re.compile(r"unlinked from #(?P<n>\d+)"), lambda m: _("Link with case #%(n)s removed") % m),
    (re.compile(r"customer already read: (?P<t>.*)"), lambda m: _("Customer already read: %(t)s") % m),
    (
        re.compile(r"known problem #(?P<n>\d+) created from the documentation"),
        lambda m: _("Known problem #%(n)s created from the documentation") % m,
    ),
    (re.compile(r"forwarded to tech"), lambda m: _("Forwarded to tech (the owner stays the contact)")),
    (re.compile(r"customer contacted"), lambda m: _("Customer contacted")),
    (re.compile(r"(?P<label>.+?) sent via (?P<where>.+)"), _reply_sent),
]
# Messages that carry a long text after the first line: the text is the detail, not the sentence.
_CUSTOMER_REPLIED = re.compile(r"Customer replied in Groove(?P<solved> \(the case is already solved\))?:\n(?P<body>.*)", re.S)


def _conversion(result: str) -> str:
    return _choice(ConversionResult, result)


def _from_message(message: str) -> tuple[str, str] | None:
    for pattern, sentence in _MESSAGES:
        m = pattern.fullmatch(message.strip())
        if m:
            return sentence(m), (m.groupdict().get("detail") or "").strip()
    return None


def _created(event: CaseEvent, case: Case) -> str:
    if case.source == "groove":
        return _("Case created from Groove ticket #%(n)s") % {"n": case.external_id}
    if case.source == "web":
        return _("Case created by hand")
    return _("Case created (source: %(source)s)") % {"source": source_label(case.source)}


# Case events stored as data (data["v"] == 2, data["event"] names it, no message): the sentence is made
# here. Older rows are read from their message by the patterns above.
CASE_EVENTS: dict[str, Callable[[dict[str, Any]], str]] = {
    "holding_reply_queued": lambda d: _("Holding reply queued for Groove ticket #%(n)s") % {"n": d.get("ticket")},
    "delay_notice_queued": lambda d: _("Delay notice queued for the customer"),
    "case_reply_queued": lambda d: _("Ready reply queued for Groove ticket #%(n)s") % {"n": d.get("ticket")},
}


def describe(event: CaseEvent, case: Case) -> tuple[str, str]:
    """(sentence, detail) for one event."""
    kind = event.kind
    data = event.data or {}
    if data.get("v") == 2 and data.get("event") in CASE_EVENTS:
        return CASE_EVENTS[str(data["event"])](data), event.message or ""
    if kind == CaseEvent.Kind.CREATED:
        return _created(event, case), ""
    if kind == CaseEvent.Kind.CHANGED:
        return _changed(event)
    if kind == CaseEvent.Kind.DUPLICATE:
        return _("The same report was delivered again (nothing changed)"), ""
    message = event.message or ""
    if kind == CaseEvent.Kind.MESSAGE:
        replied = _CUSTOMER_REPLIED.fullmatch(message)
        if replied:
            if replied["solved"]:
                return _("The customer replied in Groove (the case is already solved)"), replied["body"]
            return _("The customer replied in Groove"), replied["body"]
    if event.field == "forwarded_to_tech":
        note = "" if message == "forwarded to tech" else message
        return _("Forwarded to tech (the owner stays the contact)"), note
    parsed = _from_message(message)
    if parsed is not None:
        return parsed
    if kind == CaseEvent.Kind.NOTE:
        return _("Note"), message
    if kind == CaseEvent.Kind.MESSAGE:
        return _("Message"), message
    return _("System"), message


def who(event: CaseEvent) -> str:
    if event.actor is not None:
        return str(event.actor.display_name())
    return actor_label(event.actor_label)


def lines(case: Case) -> list[Line]:
    out = []
    for event in case_reads.events(case):  # the page's one read of the events
        text, detail = describe(event, case)
        out.append(Line(text=text, detail=detail, who=who(event), event=event))
    return out
