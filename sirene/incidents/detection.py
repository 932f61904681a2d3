"""Incident detection: the 6th distinct customer with the same problem opens exactly one incident.

For every new technical report (inside its own intake transaction, see `assign_and_evaluate`):

1. The report joins the in-memory window of this worker (`sirene.similarity.window.Window`): the
   reports of the last days, synced from the database by id (reports other workers stored are read
   in on the next report), each linked to the reports it is close to.
2. Its problem is decided time-locally: `Window.problem_of` returns the reports of the counting
   window that are the same problem (a chain of near reports; two problems nearer to their own kind
   stay two; error codes, distinctive words, negations, the agents' groups and confirmed known
   problems taken into account). Long-lived ProblemGroups play no part in the count, so an everyday
   question's group can neither absorb a burst nor raise its bar.
3. When one of those reports belongs to a live incident, the report (and any report of the
   problem not linked yet: a fragment) joins that incident: one live incident per problem.
4. Otherwise the rule of `rules.py` counts the problem's distinct customers in the window (reports
   already answered by a resolved incident do not count again); at the threshold + 1-th an incident
   opens with exactly those reports, in a new ProblemGroup of its own (the problem's history from
   now on: agents move, merge and split there as before).
5. ★ Early warning: a problem not seen for QUIET_DAYS that reaches EARLY_CUSTOMERS distinct customers
   within EARLY_MINUTES gets one `EarlyWarning` (incident list, one quiet line to the internal
   channel via the worker tick, nobody paged). When the incident opens, the warning points to it.

Only reports that are technical count: a report carrying helpdesk tags but not the tech tag
(settings.TECH_TAG) is a question, not a technical problem (untagged reports count).
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import Q

from sirene.cases.attributes import extract_error_codes
from sirene.cases.models import Case
from sirene.core import clock
from sirene.incidents import events, grouping, rules, services
from sirene.incidents.models import EarlyWarning, GroupMembership, Incident, IncidentStatus, ProblemGroup
from sirene.integrations import posts
from sirene.integrations.slack import escape
from sirene.preferences import services as preferences
from sirene.similarity.window import DEFAULT_WINDOW, Window, WindowReport, report_terms

log = logging.getLogger(__name__)

EARLY_CUSTOMERS = int(os.environ.get("SIRENE_EARLY_WARNING_CUSTOMERS", "3"))
EARLY_MINUTES = float(os.environ.get("SIRENE_EARLY_WARNING_MINUTES", "60"))
QUIET_DAYS = float(os.environ.get("SIRENE_EARLY_WARNING_QUIET_DAYS", "14"))
# Memberships an agent made: these groups are the team's corrections (same group links, different
# groups never do). DETECTED is the detector's own move into an incident's group, not a correction.
AGENT_HOW = (GroupMembership.How.MOVED, GroupMembership.How.MERGED, GroupMembership.How.SPLIT)


@dataclass
class Detection:
    incident: Incident | None = None
    opened: bool = False
    customers: int = 0
    cases: list[int] = field(default_factory=list)
    rule: rules.Rule | None = None
    warning: EarlyWarning | None = None


@dataclass
class _State:
    db: str
    window: Window
    last_id: int = 0
    category: dict[int, str] = field(default_factory=dict)


_state: _State | None = None


def reset() -> None:
    """Forget the in-memory window and caches (tests, the bench and a new database)."""
    from sirene.incidents import grouping

    global _state
    _state = None
    grouping.clear_cache()
    rules.clear_cache()


def is_technical(tags: list[str] | None) -> bool:
    tags = tags or []
    return not tags or settings.TECH_TAG.strip().lstrip("#").lower() in tags


def _ts(value: Any) -> float:
    return float(value.timestamp())


def keep_hours() -> float:
    return max(rules.max_window_hours(), QUIET_DAYS * 24.0)


def _label(how: str | None, group_id: int | None) -> str:
    return f"g{group_id}" if how in AGENT_HOW and group_id else ""


def _known(how: str | None, key: str | None) -> str:
    return key or "" if how in (GroupMembership.How.KNOWN_PROBLEM, GroupMembership.How.NEW) else ""


def _report_rows(qs: Any) -> Any:
    return (
        qs.filter(embedding__isnull=False)
        .order_by("id")
        .values_list(
            "id",
            "received_at",
            "embedding",
            "clean_text",
            "subject",
            "body",
            "tags",
            "category",
            "customer__email",
            "customer__external_id",
            "problem_membership__how",
            "problem_membership__group_id",
            "problem_membership__group__known_problem_key",
        )
    )


def _sync(now: Any) -> _State:
    """The window of this process, brought up to date with the database."""
    global _state
    db = f"{connection.alias}:{connection.settings_dict.get('NAME')}"
    since = now - timedelta(hours=keep_hours())
    if _state is None or _state.db != db:
        _state = _State(db=db, window=Window(DEFAULT_WINDOW, horizon=rules.max_window_hours() * 3600.0))
        rows = list(_report_rows(Case.objects.filter(received_at__gte=since)))
    else:
        rows = list(_report_rows(Case.objects.filter(pk__gt=_state.last_id)))
    state = _state
    tech = settings.TECH_TAG.strip().lstrip("#").lower()
    for pk, received, emb, clean, subject, body, tags, category, email, ext, how, gid, known in rows:
        state.last_id = max(state.last_id, pk)
        if received < since or not is_technical(tags) or not emb:
            continue
        vector = np.frombuffer(bytes(emb), dtype=np.float32)
        if not np.any(vector):
            continue
        state.window.add(
            WindowReport(
                key=pk,
                at=_ts(received),
                identity=f"email:{email}" if email else f"ext:{ext}",
                vector=vector.copy(),
                terms=report_terms(clean or f"{subject}\n{body}"),
                codes=frozenset(extract_error_codes(f"{subject}\n\n{body}")),
                group=_label(how, gid),
                known=_known(how, known),
                tags=frozenset(t for t in (tags or []) if t != tech),
            )
        )
        state.category[pk] = category
    gone = state.window.evict(_ts(since))
    if gone:
        state.category = {k: v for k, v in state.category.items() if k in state.window}
    return state


def regrouped(case_ids: list[int]) -> None:
    """Agents moved, merged or split these cases: relink them in this process's window."""
    if _state is None:
        return
    rows = GroupMembership.objects.filter(case_id__in=case_ids).values_list(
        "case_id", "how", "group_id", "group__known_problem_key"
    )
    for case_id, how, gid, known in rows:
        _state.window.regroup(case_id, _label(how, gid), _known(how, known))


def _majority(values: list[str], default: str = "") -> str:
    values = [v for v in values if v]
    if not values:
        return default
    return Counter(values).most_common(1)[0][0]


# (case id, incident id, resolved) of the incidents holding some reports.
_Links = list[tuple[int, int, bool]]


def _links(case_ids: list[int]) -> _Links:
    """Every incident link of these reports, in one read (`_live_incident`, `_answered`, `_join`)."""
    through = Incident.cases.through
    return [
        (case_id, incident_id, status == IncidentStatus.RESOLVED)
        for case_id, incident_id, status in through.objects.filter(case_id__in=case_ids).values_list(
            "case_id", "incident_id", "incident__status"
        )
    ]


def _live_incident(case_ids: list[int], links: _Links | None = None) -> Incident | None:
    """The live incident holding most of these reports (one live incident per problem)."""
    if links is None:
        through = Incident.cases.through
        hits = Counter(
            through.objects.filter(case_id__in=case_ids)
            .exclude(incident__status=IncidentStatus.RESOLVED)
            .values_list("incident_id", flat=True)
        )
    else:
        wanted = set(case_ids)
        hits = Counter(i for c, i, resolved in links if not resolved and c in wanted)
    if not hits:
        return None
    best = max(hits.items(), key=lambda kv: (kv[1], -kv[0]))[0]
    return Incident.objects.select_related("group").get(pk=best)


def _answered(case_ids: list[int], links: _Links | None = None) -> set[int]:
    """Reports a resolved incident already answered: they never open a second one."""
    if links is not None:
        wanted = set(case_ids)
        return {c for c, _i, resolved in links if resolved and c in wanted}
    through = Incident.cases.through
    return set(
        through.objects.filter(case_id__in=case_ids, incident__status=IncidentStatus.RESOLVED).values_list(
            "case_id", flat=True
        )
    )


def problem_rule(state: _State, members: list[int]) -> tuple[rules.Rule, str, str]:
    """(rule, category, known problem) of a problem: category follows its reports' majority, a
    known problem most of them are confirmed to wins."""
    window = state.window
    known = _majority([window.reports[k].known for k in members])
    category = _majority([state.category.get(k, "") for k in members], "other")
    return rules.rule_for(category, known), category, known


def detect(case: Case) -> Detection:
    """Decide the new report's problem; join its live incident or open one (caller's transaction)."""
    if not is_technical(case.tags) or not case.embedding:
        return Detection()
    now = clock.now()
    state = _sync(now)
    window = state.window
    if case.pk not in window:
        return Detection()
    widest = rules.max_window_hours()
    members = window.problem_of(case.pk, _ts(now - timedelta(hours=widest)))
    links = _links(members)
    live = _live_incident(members, links)
    if live is not None:
        _join(live, case, members, links)
        return Detection(incident=live, customers=live.customers_affected, cases=members)
    rule, category, known = problem_rule(state, members)
    start = _ts(now - timedelta(hours=rule.window_hours))
    counted = [k for k in members if window.reports[k].at > start]  # the window is (t - h, t]
    answered = _answered(counted, links)
    counted = [k for k in counted if k not in answered]
    customers = window.customers(counted)
    decision = rules.decide(len(customers), rule)
    result = Detection(customers=len(customers), cases=counted, rule=rule)
    if decision.fire:
        # Workers deciding on overlapping reports serialise on their history groups' rows.
        gids = sorted(
            set(GroupMembership.objects.filter(case_id__in=counted).values_list("group_id", flat=True))
        )
        list(ProblemGroup.objects.select_for_update().filter(pk__in=gids).order_by("pk"))
        live = _live_incident(counted)
        if live is not None:  # another worker opened it meanwhile
            _join(live, case, members)
            return Detection(incident=live, customers=live.customers_affected, cases=members, rule=rule)
        result.incident = services.open_detected(
            counted, category=category, known_problem=known, rule=rule, reason=decision.reason
        )
        result.opened = True
        _link_warnings(result.incident, counted)
        return result
    if rule.pages and len(customers) >= EARLY_CUSTOMERS:
        result.warning = _early_warning(state, counted, category, now)
    return result


def _join(incident: Incident, case: Case, members: list[int], links: _Links | None = None) -> None:
    """The report joins the problem's live incident, with any fragment of it not linked yet."""
    if links is None:
        linked = set(
            Incident.cases.through.objects.filter(incident=incident).values_list("case_id", flat=True)
        )
    else:  # only whether members are linked matters
        linked = {c for c, i, _resolved in links if i == incident.pk}
    answered = _answered(members, links)
    missing = [k for k in members if k not in linked and k not in answered and k != case.pk]
    services.join_detected(incident, [case.pk, *missing])


def _early_warning(state: _State, counted: list[int], category: str, now: Any) -> EarlyWarning | None:
    window = state.window
    recent_start = _ts(now - timedelta(minutes=EARLY_MINUTES))
    recent = [k for k in counted if window.reports[k].at >= recent_start]
    if len(window.customers(recent)) < EARLY_CUSTOMERS:
        return None
    if EarlyWarning.objects.filter(cases__in=counted).exists():
        return None  # one warning per problem
    first = min(window.reports[k].at for k in counted)
    if window.similar_before(counted, _ts(now - timedelta(days=QUIET_DAYS)), first):
        return None  # seen in the last QUIET_DAYS: not a new problem
    case = Case.objects.filter(pk=counted[0]).only("subject", "clean_text", "body").first()
    example = ""
    if case is not None:
        example = " ".join((case.clean_text or case.body or case.subject).split())[:240]
    warning = EarlyWarning.objects.create(
        raised_at=now,
        customers=len(window.customers(counted)),
        minutes=EARLY_MINUTES,
        example=example,
        category=category,
    )
    # The window is memory: a case deleted since it was counted must not be linked.
    warning.cases.add(*Case.objects.filter(pk__in=counted).values_list("pk", flat=True))
    log.info("early warning %s: %s customers", warning.pk, warning.customers)
    return warning


def _link_warnings(incident: Incident, counted: list[int]) -> None:
    warnings = list(EarlyWarning.objects.filter(cases__in=counted, incident__isnull=True).distinct())
    for warning in warnings:
        EarlyWarning.objects.filter(pk=warning.pk).update(incident=incident)
        lead = (incident.opened_at - warning.raised_at).total_seconds()
        events.record(incident, "early_warning", warning=warning.pk, lead_seconds=round(lead))


def quiet_line(warning: EarlyWarning) -> str:
    """The one line the internal channel gets for an early warning (German, no mentions)."""
    example = " ".join(warning.example.split())
    if len(example) > 160:
        example = example[:160].rsplit(" ", 1)[0].rstrip(",;:.-–") + " …"  # cut at a word, never mid-word
    return (
        f"☆ Vorwarnung: {warning.customers} Kund:innen innerhalb von {warning.minutes:g} min "
        f"mit einem neuen Problem (Kategorie {warning.get_category_display()}): „{escape(example)}“ "
        "– noch keine Störung, niemand wird alarmiert."
    )


def post_pending_warnings(limit: int = 20) -> int:
    """Worker step: queue each new early warning once for the internal channel (no paging); the chat
    lane posts it on core/jobs (tries, backoff, dead state: `integrations.posts`)."""
    done = 0
    for warning in EarlyWarning.objects.filter(posted_at__isnull=True).order_by("raised_at")[:limit]:
        channel = preferences.get("slack_status_channel")  # the internal channel, as the docs say
        posts.enqueue(f"early_warning:{warning.pk}", channel, quiet_line(warning))
        done += EarlyWarning.objects.filter(pk=warning.pk, posted_at__isnull=True).update(posted_at=clock.now())
    return done


def live_warnings(limit: int = 20) -> list[EarlyWarning]:
    """Early warnings of the last day without an incident yet (the incident list shows them)."""
    since = clock.now() - timedelta(hours=24)
    return list(
        EarlyWarning.objects.filter(Q(raised_at__gte=since) & Q(incident__isnull=True)).order_by(
            "-raised_at"
        )[:limit]
    )


def assign_and_evaluate(case: Case, *, known_problem: str = "") -> services.Evaluation:
    """Put a new case into its problem group and check the rule (the intake flow, inside its transaction).

    `known_problem`: the key of the known problem the knowledge base is sure of (see
    `knowledge.services.match`), the strongest grouping signal; "" when there is none.
    """
    grouping.assign(case, known=known_problem)
    found = detect(case)
    return services.Evaluation(found.incident, opened=found.opened)
