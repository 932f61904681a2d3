"""The decision for a new technical report: read-only, returns a `Decision` (`flows.detection` applies it).

1. The report's problem is decided time-locally: `Window.problem_of` returns the reports of the
   counting window that are the same problem (a chain of near reports; two problems nearer to their
   own kind stay two; error codes, distinctive words, negations, the agents' groups and confirmed
   known problems taken into account). Long-lived ProblemGroups play no part in the count.
2. When one of those reports belongs to a live incident, the report (and any report of the problem
   not linked yet: a fragment) joins that incident: one live incident per problem. A report that
   is an everyday question (`everyday`: nearer to its own kind in the days before the window than to
   any of the incident's reports) does not join: it is proposed ("Gleiches Problem wie …?", see
   `proposals`), and only a person's yes links it.
3. Otherwise the rule of `incidents.rules` counts the problem's distinct customers in the window
   (reports already answered by a resolved incident, or proposed to it, do not count again); at the threshold + 1-th
   the decision says fire, with exactly those reports.
4. Early warning: a problem not seen for QUIET_DAYS that reaches EARLY_CUSTOMERS distinct customers
   within EARLY_MINUTES gets one `EarlyWarning` (nobody paged).

Only technical reports count: a report carrying helpdesk tags but not the tech tag
(settings.TECH_TAG) is a question, not a technical problem (untagged reports count).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from sirene.cases.models import Case
from sirene.core import clock
from sirene.detection.models import Proposal
from sirene.detection.params import EARLY_CUSTOMERS, EARLY_MINUTES, QUIET_DAYS
from sirene.detection.store import STORE, View, is_technical, ts
from sirene.incidents import rules
from sirene.incidents.models import EarlyWarning, Incident, IncidentStatus
from sirene.similarity.window import Window


@dataclass(frozen=True)
class WarningDraft:
    """An early warning to raise: the problem's counted reports and its distinct customers."""

    cases: tuple[int, ...]
    customers: int
    category: str
    minutes: float


@dataclass(frozen=True)
class Decision:
    """What the detector decided for one report; nothing is written until it is applied."""

    case_id: int
    # The report's problem in the widest counting window (oldest first), and the part of it the
    # rule counts (inside the rule's window, not answered by a resolved incident).
    members: tuple[int, ...] = ()
    counted: tuple[int, ...] = ()
    customers: int = 0
    rule: rules.Rule | None = None
    category: str = ""
    known: str = ""
    reason: str = ""
    fire: bool = False
    # The problem's live incident, the reports that join it now, and the everyday reports that
    # would have joined it and are only proposed.
    incident: int | None = None
    joins: tuple[int, ...] = ()
    proposed: tuple[int, ...] = ()
    warning: WarningDraft | None = None
    # "möglicherweise zwei Probleme": the two candidate problems of `members` (larger first) when
    # the window kept them together against their words (`similarity.window.Window.problem`).
    parts: tuple[tuple[int, ...], tuple[int, ...]] | None = None


# (case id, incident id, resolved) of the incidents holding some reports.
Links = list[tuple[int, int, bool]]


def links(case_ids: list[int] | tuple[int, ...]) -> Links:
    """Every incident link of these reports, in one read."""
    through = Incident.cases.through
    return [
        (case_id, incident_id, status == IncidentStatus.RESOLVED)
        for case_id, incident_id, status in through.objects.filter(case_id__in=case_ids).values_list(
            "case_id", "incident_id", "incident__status"
        )
    ]


def live_incident(case_ids: list[int] | tuple[int, ...], found: Links | None = None) -> int | None:
    """The live incident holding most of these reports (one live incident per problem)."""
    wanted = set(case_ids)
    hits = Counter(
        i for c, i, resolved in (links(case_ids) if found is None else found) if not resolved and c in wanted
    )
    if not hits:
        return None
    return max(hits.items(), key=lambda kv: (kv[1], -kv[0]))[0]


def answered(case_ids: list[int] | tuple[int, ...], found: Links) -> set[int]:
    """Reports a resolved incident already answered: they never open a second one."""
    wanted = set(case_ids)
    return {c for c, _i, resolved in found if resolved and c in wanted}


def proposed_to_resolved(case_ids: list[int]) -> set[int]:
    """Everyday reports that were proposed to an incident now resolved (and nobody said "a different
    problem"): they belonged to that problem's time and do not count for a new incident either."""
    return set(
        Proposal.objects.filter(case_id__in=case_ids, incident__status=IncidentStatus.RESOLVED)
        .exclude(answer=Proposal.Answer.NO)
        .values_list("case_id", flat=True)
    )


def not_linked(incident_id: int, members: list[int] | tuple[int, ...], found: Links) -> list[int]:
    """The problem's reports the incident does not hold yet (and no resolved incident answered)."""
    linked = {c for c, i, _resolved in found if i == incident_id}
    done = answered(members, found)
    return [k for k in members if k not in linked and k not in done]


def everyday(window: Window, key: int, incident_reports: list[int]) -> bool:
    """An everyday question: the report's kin (its look-alikes in the days before the window, see
    `WindowReport.kin`) is nearer than every report of the live incident it would join."""
    report = window.reports[key]
    others = [window.reports[k].vector for k in incident_reports if k != key and k in window]
    if report.kin < 0 or not others:
        return False  # no history before the window: nothing says it is an everyday question
    nearest = float(np.max(np.stack(others) @ report.vector))
    return report.kin > nearest


def _majority(values: list[str], default: str = "") -> str:
    values = [v for v in values if v]
    if not values:
        return default
    return Counter(values).most_common(1)[0][0]


def problem_rule(view: View, members: list[int]) -> tuple[rules.Rule, str, str]:
    """(rule, category, known problem) of a problem: category follows its reports' majority, a
    known problem most of them are confirmed to wins."""
    window = view.window
    known = _majority([window.reports[k].known for k in members])
    category = _majority([view.category.get(k, "") for k in members], "other")
    return rules.rule_for(category, known), category, known


def decide(case: Case) -> Decision:
    """Decide the new report's problem (inside the report's transaction, which sees the report)."""
    if not is_technical(case.tags) or not case.embedding:
        return Decision(case.pk)
    now = clock.now()
    with STORE.lock:
        view = STORE.sync(now, case.encoder)
        if case.pk not in view.window:
            return Decision(case.pk)
        return _decide(view, case.pk, now)


def _decide(view: View, key: int, now: datetime) -> Decision:
    window = view.window
    widest = rules.max_window_hours()
    problem = window.problem(key, ts(now - timedelta(hours=widest)))
    members = problem.members
    parts = (tuple(problem.parts[0]), tuple(problem.parts[1])) if problem.parts else None
    found = links(members)
    live = live_incident(members, found)
    if live is not None:
        held = {c for c, i, _resolved in found if i == live}
        new = [key, *(k for k in not_linked(live, members, found) if k != key)]
        proposed = [k for k in new if everyday(window, k, [m for m in members if m in held])]
        return Decision(
            key,
            members=tuple(members),
            incident=live,
            joins=tuple(k for k in new if k not in proposed),
            proposed=tuple(proposed),
        )
    rule, category, known = problem_rule(view, members)
    start = ts(now - timedelta(hours=rule.window_hours))
    counted = [k for k in members if window.reports[k].at > start]  # the window is (t - h, t]
    done = answered(counted, found) | proposed_to_resolved(counted)
    counted = [k for k in counted if k not in done]
    customers = window.customers(counted)
    verdict = rules.decide(len(customers), rule)
    warning = None
    if not verdict.fire and rule.pages and len(customers) >= EARLY_CUSTOMERS:
        warning = _early_warning(window, counted, category, now)
    return Decision(
        key,
        members=tuple(members),
        counted=tuple(counted),
        customers=len(customers),
        rule=rule,
        category=category,
        known=known,
        reason=verdict.reason,
        fire=verdict.fire,
        warning=warning,
        parts=parts,
    )


def _early_warning(window: Window, counted: list[int], category: str, now: datetime) -> WarningDraft | None:
    recent_start = ts(now - timedelta(minutes=EARLY_MINUTES))
    recent = [k for k in counted if window.reports[k].at >= recent_start]
    if len(window.customers(recent)) < EARLY_CUSTOMERS:
        return None
    if EarlyWarning.objects.filter(cases__in=counted).exists():
        return None  # one warning per problem
    first = min(window.reports[k].at for k in counted)
    if window.similar_before(counted, ts(now - timedelta(days=QUIET_DAYS)), first):
        return None  # seen in the last QUIET_DAYS: not a new problem
    return WarningDraft(
        cases=tuple(counted),
        customers=len(window.customers(counted)),
        category=category,
        minutes=EARLY_MINUTES,
    )
