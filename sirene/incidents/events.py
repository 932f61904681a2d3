"""An incident's events as data (the Zulip way): a kind plus named parameters, never a sentence.

Writers call `record(incident, kind, **params)`; the sentence is made by the kind's renderer with gettext
when a page (or an export) shows it, so the English timeline is English and the German one German, and
rewording a sentence never breaks the other language. Stored rows carry `data["v"] == VERSION`; rows
written before this change have no version and are read by `timeline.describe`'s old patterns (the
fallback for old rows, kept until they age out).

Another app adds a kind with `@register("kind", example={...})` next to its writer; `EXAMPLES` lets the
language test render every kind in both languages. A parameter is data (a name, a number, a channel, a
text a person typed), never a sentence of ours.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sirene.accounts.models import User
from sirene.core import clock
from sirene.incidents.models import Incident, IncidentEvent, SameProblemAnswer

VERSION = 2
# (sentence, detail) in the active language, from the stored parameters.
Renderer = Callable[[dict[str, Any]], "tuple[str, str]"]

_RENDERERS: dict[str, Renderer] = {}
# kind → examples of parameters the code writes (one per variant), for the language test.
EXAMPLES: dict[str, list[dict[str, Any]]] = {}


def register(kind: str, *examples: dict[str, Any]) -> Callable[[Renderer], Renderer]:
    """Register the renderer of `kind` (with example parameters for the language test)."""

    def wrap(renderer: Renderer) -> Renderer:
        _RENDERERS[kind] = renderer
        EXAMPLES[kind] = [dict(e) for e in examples] or [{}]
        return renderer

    return wrap


def kinds() -> list[str]:
    return sorted(_RENDERERS)


def record(
    incident: Incident,
    kind: str,
    *,
    actor: User | None = None,
    actor_label: str = "",
    **params: Any,
) -> IncidentEvent:
    """Store one event of `kind` with its parameters (no prose: the renderer writes the sentence)."""
    if kind not in _RENDERERS:
        raise ValueError(f"unknown incident event kind {kind!r}: register a renderer in incidents.events")
    return IncidentEvent.objects.create(
        incident=incident,
        at=clock.now(),
        kind=kind,
        message="",
        actor=actor,
        actor_label=actor_label,
        data={"v": VERSION, **params},
    )


def render(kind: str, data: dict[str, Any]) -> tuple[str, str] | None:
    """The sentence and detail of a versioned event, or None for an old row (or an unknown kind)."""
    if data.get("v") != VERSION or kind not in _RENDERERS:
        return None
    return _RENDERERS[kind](data)


def _n(value: Any) -> str:
    number = float(value or 0)
    return number_format(number, 0 if number.is_integer() else 1)


# -- the incident's own kinds ---------------------------------------------------------------------------


@register("opened", {"origin": "auto", "title": "INC"}, {"origin": "manual", "title": "INC"})
def _opened(p: dict[str, Any]) -> tuple[str, str]:
    if p.get("origin") == "auto":
        return _("Incident opened automatically"), str(p.get("title") or "")
    return _("Incident opened"), str(p.get("title") or "")


@register("rule", {"customers": 6, "window_hours": 24, "required": 6}, {"customers": 7, "window_hours": 1.5, "required": 6, "known_recurring": True})
def _rule(p: dict[str, Any]) -> tuple[str, str]:
    customers = int(p.get("customers") or 0)
    text = ngettext(
        "%(n)s customer within %(hours)s h reported the same problem (alert from %(required)s)",
        "%(n)s customers within %(hours)s h reported the same problem (alert from %(required)s)",
        customers,
    ) % {"n": customers, "hours": _n(p.get("window_hours")), "required": p.get("required")}
    if p.get("known_recurring"):
        text += " · " + _("a recurring problem: the alert needs more customers than usual")
    return text, ""


@register("case_joined", {"case_id": 12, "customer": "anna@example.com", "subject": "502"})
def _case_joined(p: dict[str, Any]) -> tuple[str, str]:
    return _("Case #%(id)s joined (%(who)s)") % {"id": p.get("case_id"), "who": p.get("customer")}, str(
        p.get("subject") or ""
    )


@register("case_removed", {"case_id": 12, "group": 4}, {"case_id": 12})
def _case_removed(p: dict[str, Any]) -> tuple[str, str]:
    if p.get("group") is None:  # the team said "a different problem" (flows.team_loop): out of the incident
        return _("Case #%(id)s removed from the incident") % {"id": p.get("case_id")}, ""
    return _("Case #%(id)s moved out to problem group G-%(g)s") % {"id": p.get("case_id"), "g": p.get("group")}, ""


def via_words(via: str) -> str:
    return {
        "web": _("in sirene"),
        "slack": _("in Slack"),
        "phone": _("by phone"),
        "api": _("through the API"),
        "resolve": _("when resolving"),
    }.get(via, via)


@register("acknowledged", {"who": "Lea", "via": "web"}, {"who": "Lea", "via": "phone"})
def _acknowledged(p: dict[str, Any]) -> tuple[str, str]:
    return _("Acknowledged by %(who)s (%(via)s)") % {"who": p.get("who"), "via": via_words(str(p.get("via")))}, ""


@register("resolved", {"resolution": "lb-3"})
def _resolved(p: dict[str, Any]) -> tuple[str, str]:
    return _("Resolved"), str(p.get("resolution") or "")


@register("cases_solved", {"cases": 1}, {"cases": 6})
def _cases_solved(p: dict[str, Any]) -> tuple[str, str]:
    n = int(p.get("cases") or 0)
    return ngettext("%(n)s linked case marked as solved", "%(n)s linked cases marked as solved", n) % {"n": n}, ""


@register("brief_changed", {"thread": ["App 3.5.0"], "codes": ["502"]}, {"thread": [], "codes": []})
def _brief_changed(p: dict[str, Any]) -> tuple[str, str]:
    thread = ", ".join(str(t) for t in p.get("thread") or []) or "–"
    codes = ", ".join(str(c) for c in p.get("codes") or []) or "–"
    return _("Brief updated – common thread: %(t)s; error codes: %(c)s") % {"t": thread, "c": codes}, ""


@register("renamed", {"old": "A", "title": "B", "customer_title": "C"})
def _renamed(p: dict[str, Any]) -> tuple[str, str]:
    return _("Title changed: %(old)s → %(new)s (for customers: %(customers)s)") % {
        "old": p.get("old"),
        "new": p.get("title"),
        "customers": p.get("customer_title"),
    }, ""


@register("published", {"text": "INC"})
def _published(p: dict[str, Any]) -> tuple[str, str]:
    return _("Published on the status page"), str(p.get("text") or "")


@register("unpublished")
def _unpublished(p: dict[str, Any]) -> tuple[str, str]:
    return _("Removed from the status page"), ""


@register("test_check", {"value": "yes", "note": "INC"}, {"value": "no", "note": ""}, {"value": "not_tried"})
def _test_check(p: dict[str, Any]) -> tuple[str, str]:
    from sirene.cases.models import Reproduced

    value = str(p.get("value") or "")
    label = str(Reproduced(value).label) if value in Reproduced.values else value
    return _("Checked in the test account: reproduced – %(value)s") % {"value": label}, str(p.get("note") or "")


@register("group_merged", {"source": 3, "target": 4}, {"source": 3, "target": 4, "into_incident": 2})
def _group_merged(p: dict[str, Any]) -> tuple[str, str]:
    if p.get("into_incident"):
        return _("Problem group G-%(s)s merged into G-%(t)s (INC-%(i)s)") % {
            "s": p.get("source"), "t": p.get("target"), "i": p.get("into_incident")
        }, ""
    return _("Problem group G-%(s)s merged into G-%(t)s") % {"s": p.get("source"), "t": p.get("target")}, ""


@register("group_split", {"cases": 1, "group": 9}, {"cases": 3, "group": 9})
def _group_split(p: dict[str, Any]) -> tuple[str, str]:
    n = int(p.get("cases") or 0)
    return ngettext(
        "%(n)s case split off into problem group G-%(g)s",
        "%(n)s cases split off into problem group G-%(g)s",
        n,
    ) % {"n": n, "g": p.get("group")}, ""


@register("early_warning", {"warning": 1, "lead_seconds": 28}, {"warning": 1, "lead_seconds": 1500})
def _early_warning(p: dict[str, Any]) -> tuple[str, str]:
    seconds = int(p.get("lead_seconds") or 0)
    if seconds < 120:
        ahead = ngettext("%(n)s second", "%(n)s seconds", seconds) % {"n": seconds}
    else:
        minutes = round(seconds / 60)
        ahead = ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes}
    return _("Early warning EW-%(id)s came %(ahead)s before") % {"id": p.get("warning"), "ahead": ahead}, ""


# -- what the helpdesk and the escalation write into an incident's timeline -------------------------------


@register("customer_replies", {"queued": 6, "without_ticket": 0}, {"queued": 1, "without_ticket": 2})
def _customer_replies(p: dict[str, Any]) -> tuple[str, str]:
    queued, without = int(p.get("queued") or 0), int(p.get("without_ticket") or 0)
    text = ngettext(
        "Resolution reply queued for %(n)s customer ticket",
        "Resolution reply queued for %(n)s customer tickets",
        queued,
    ) % {"n": queued}
    if without:
        text += "; " + ngettext(
            "%(n)s linked case has no helpdesk ticket: write to this customer by hand",
            "%(n)s linked cases have no helpdesk ticket: write to these customers by hand",
            without,
        ) % {"n": without}
    return text, ""


@register("delay_notice", {"queued": 1}, {"queued": 4})
def _delay_notice(p: dict[str, Any]) -> tuple[str, str]:
    n = int(p.get("queued") or 0)
    return ngettext("Delay notice queued for %(n)s ticket", "Delay notice queued for %(n)s tickets", n) % {"n": n}, ""


@register("delay_reminder", {"hours": 24, "via": "slack"}, {"hours": 24, "via": "outbox"})
def _delay_reminder(p: dict[str, Any]) -> tuple[str, str]:
    via = {"slack": _("by Slack direct message"), "outbox": _("in the outbox")}.get(str(p.get("via")), p.get("via"))
    return _("Unsolved for over %(h)s h: owner reminded (%(via)s)") % {"h": _n(p.get("hours")), "via": via}, ""


@register("status_update", {"text": "INC"}, {"text": "INC", "fix_deployed": True})
def _status_update(p: dict[str, Any]) -> tuple[str, str]:
    if p.get("fix_deployed"):
        return _("Status update posted – the fix is rolled out"), str(p.get("text") or "")
    return _("Status update posted"), str(p.get("text") or "")


def _skip_reason(reason: str) -> str:
    return {"absent": _("absent"), "no_phone": _("no phone number"), "no_slack": _("no Slack id")}.get(
        reason, reason
    )


@register(
    "escalation",
    {"step": "started", "policy": "Standard"},
    {"step": "started", "policy": "Standard", "restarted": True},
    {"step": "on_call", "what": "on_call", "who": "Tara", "instead": "Lea"},
    {"step": "escalated_now", "what": "escalated_now", "who": "Lea"},
    {"step": "repeat", "what": "repeat", "cycle": 2},
    {"step": "passed_on", "what": "passed_on", "who": "Tara"},
    {"step": "tasks_closed", "what": "tasks_closed", "n": 3},
    {"step": "ended", "what": "nobody_reacted"},
    {"step": "call", "who": "Tara", "n": 1, "of": 2},
    {"step": "call_unanswered", "who": "Tara", "why": "487"},
    {"step": "task", "who": "Lea", "title": "Facebook", "note": "Lea"},
    {"step": "task", "who": "", "title": "Facebook", "note": ""},
    {"step": "task_done", "title": "Facebook", "not_needed": False},
    {"step": "task_done", "title": "Facebook", "not_needed": True},
    {"step": "skipped", "who": "Tara", "reason": "absent"},
    {"step": "reminder", "who": "Lea", "title": "Facebook"},
    {"step": "ended"},
    {"step": "slack_sent", "channel": "#support"},
)
def _escalation(p: dict[str, Any]) -> tuple[str, str]:
    step = p.get("step")
    who = str(p.get("who") or "")
    # issue 22's steps (their writers also keep "what", the key the rows carried before).
    if step == "escalated_now":
        return _("%(who)s escalated to the next step") % {"who": who}, ""
    if step == "passed_on":
        return _("%(who)s passed the call on to the next person") % {"who": who}, ""
    if step == "repeat":
        return _("Nobody reacted: the escalation starts again (round %(n)s)") % {"n": p.get("cycle", "")}, ""
    if step == "tasks_closed":
        return _("%(n)s open tasks closed because the incident was resolved") % {"n": p.get("n", "")}, ""
    if step == "on_call":
        return _("Outside working hours: calling %(who)s (on call) instead of %(instead)s") % {
            "who": who,
            "instead": p.get("instead", ""),
        }, ""
    if step == "started":
        return _("Escalation started: policy “%(p)s”") % {"p": p.get("policy")}, ""
    if step == "call":
        return _("Calling %(who)s (%(n)s of %(of)s)") % {"who": p.get("who"), "n": p.get("n"), "of": p.get("of")}, ""
    if step == "call_unanswered":
        return _("Call to %(who)s not answered (%(why)s)") % {"who": p.get("who"), "why": p.get("why")}, ""
    if step == "task":
        title = str(p.get("title") or "")
        if p.get("who"):
            return _("Task for %(who)s: %(t)s") % {"who": p.get("who"), "t": title}, str(p.get("note") or "")
        return _("Task: %(t)s") % {"t": title}, str(p.get("note") or "")
    if step == "task_done":
        if p.get("not_needed"):
            return _("Task not needed: %(t)s") % {"t": p.get("title")}, ""
        return _("Task done: %(t)s") % {"t": p.get("title")}, ""
    if step == "reminder":
        return _("Reminder to %(who)s: %(t)s") % {"who": p.get("who") or "–", "t": p.get("title")}, ""
    if step == "skipped":
        return _("%(who)s skipped (%(why)s)") % {"who": p.get("who") or "–", "why": _skip_reason(str(p.get("reason")))}, ""
    if step == "ended":
        return _("Escalation ended: all steps done, nobody took over."), ""
    if step == "slack_sent":
        return _("Slack message sent to %(c)s") % {"c": p.get("channel")}, ""
    return _("Escalation"), ""


@register("escalation_error", {"attempt": "slack_post", "error": "500"})
def _escalation_error(p: dict[str, Any]) -> tuple[str, str]:
    # The error is the integration's own (technical) text: a detail, not our sentence.
    return _("Escalation step failed"), f"{p.get('attempt')}: {p.get('error')}"


@register(
    "no_takeover",
    {"who": "Tara", "how": "reaction", "reaction": "eyes", "text": "", "reason": "reaction"},
    {"who": "Tara", "how": "reaction", "reaction": "white_check_mark", "text": "", "reason": "not_responder"},
    {"who": "Tara", "how": "reply", "reaction": "", "text": "ok", "reason": "not_responder"},
    {"who": "Tara", "how": "button", "reaction": "", "text": "", "reason": "not_responder"},
)
def _no_takeover(p: dict[str, Any]) -> tuple[str, str]:
    """Issue 22: a reaction, reply or click that did not stop the escalation."""
    who = str(p.get("who") or "?")
    if p.get("how") == "reaction":
        text = _("%(who)s reacted with :%(reaction)s:") % {"who": who, "reaction": p.get("reaction", "")}
    elif p.get("how") == "reply":
        text = _("%(who)s: “%(text)s”") % {"who": who, "text": p.get("text", "")}
    else:
        text = _("%(who)s clicked “I'm on it”") % {"who": who}
    if p.get("reason") == "reaction":
        return _("%(what)s – no takeover (not one of the takeover reactions)") % {"what": text}, ""
    return _("%(what)s – no takeover (not a responder of this incident)") % {"what": text}, ""


# -- ★ after the siren (issue 21): sweep at resolve, reopened --------------------------------------------


@register("also_notified", {"case_ids": [3]}, {"case_ids": [3, 4]})
def _also_notified(p: dict[str, Any]) -> tuple[str, str]:
    ids = list(p.get("case_ids") or [])
    return ngettext(
        "Also notified at resolve (looked like this problem): case %(ids)s",
        "Also notified at resolve (looked like this problem): cases %(ids)s",
        len(ids),
    ) % {"ids": ", ".join(f"#{i}" for i in ids)}, ""


@register("reopened", {"still_broken": 0}, {"still_broken": 1}, {"still_broken": 3}, {})
def _reopened(p: dict[str, Any]) -> tuple[str, str]:
    broken = p.get("still_broken")
    if isinstance(broken, int) and broken:
        return ngettext(
            "Reopened: %(n)s customer says it is still broken",
            "Reopened: %(n)s customers say it is still broken",
            broken,
        ) % {"n": broken}, ""
    return _("Reopened: the fix did not hold"), ""


# -- the team in the loop (issue 18): the detector's near miss and the team's answers ---------------------


@register("possible_split", {"parts": [[1, 2], [3]], "customers": [2, 1]}, {"parts": [], "customers": []})
def _possible_split(p: dict[str, Any]) -> tuple[str, str]:
    counts = list(p.get("customers") or [])
    if len(counts) == 2:
        return _("Possibly two problems: %(a)s and %(b)s customers") % {"a": counts[0], "b": counts[1]}, ""
    return _("possibly two problems"), ""


@register(
    "team_answer",
    {"answer": "yes", "case_id": 12, "source": "case", "answer_id": 1},
    {"answer": "no", "case_id": 12, "source": "warning", "answer_id": 2},
    {"answer": "split", "group_id": 9, "cases": [3, 4]},
    {"answer": "yes", "near_miss": True},
)
def _team_answer(p: dict[str, Any]) -> tuple[str, str]:
    answer = p.get("answer")
    if answer == SameProblemAnswer.Answer.SPLIT:
        return _("Team: split off %(n)s cases into problem group G-%(g)s") % {
            "n": len(p.get("cases") or []),
            "g": p.get("group_id"),
        }, ""
    if p.get("near_miss"):
        return _("Team: the possible split is one problem"), ""
    if answer == SameProblemAnswer.Answer.YES:
        return _("Team: case #%(case)s is the same problem") % {"case": p.get("case_id")}, ""
    if answer == SameProblemAnswer.Answer.NO:
        return _("Team: case #%(case)s is a different problem") % {"case": p.get("case_id")}, ""
    return _("Team answer"), ""
