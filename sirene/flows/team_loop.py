"""The team in the loop, across domains (issue 18): the team's yes/no to "Gleiches Problem wie …?",
the one-click split of a near miss, and "Störung eröffnen" by hand.

Each answer is a group change in `incidents` (`team_loop.bind_problem` / a move / a split), then the
detector's window is told (`detection.store.regrouped`) and the report is decided again
(`detection.decide.decide`, applied by `flows.detection.apply`): an agent's yes can be the customer that opens the incident. An incident that
opens here starts its escalation run in the same transaction, as every incident does.

`answer_same_problem` is the one entry for every yes/no, whoever asks: the case page, the early
warning, the API, and sirene's own proposals (source "proposal": a report of an everyday question
that would join a live incident waits for this yes).
"""

from __future__ import annotations

from collections import Counter

from django.db import transaction

from sirene.accounts.models import User
from sirene.cases.models import Case
from sirene.detection import decide as decider
from sirene.detection import store
from sirene.escalation import services as escalation
from sirene.flows import detection as flows_detection
from sirene.flows import incidents as incident_flows
from sirene.incidents import events as incident_events
from sirene.incidents import grouping, team_loop
from sirene.incidents import services as incidents
from sirene.incidents.models import (
    GroupMembership,
    Incident,
    IncidentStatus,
    ProblemGroup,
    SameProblemAnswer,
)

# The detector is reached through these two functions only.


def _relink(case_ids: list[int]) -> None:
    """Tell the detector's window which reports the team regrouped (after the commit; a decision
    inside this transaction already sees the agents' memberships through the store's sync)."""
    store.regrouped(case_ids)


def _redecide(case: Case) -> Incident | None:
    """The detection re-evaluation after the team changed what belongs together."""
    found = flows_detection.apply(decider.decide(Case.objects.select_related("customer").get(pk=case.pk)))
    if found.opened and found.incident is not None:
        escalation.start_run(found.incident)
    return found.incident


def _keep_apart(case: Case, user: User | None) -> list[int]:
    """The report goes into an agent-made group of its own (a split): it never links to the
    reports of another agent-made group. Returns the ids to relink."""
    membership = GroupMembership.objects.filter(case=case).first()
    if membership is None:
        membership = grouping.assign(case)
    group = ProblemGroup.objects.get(pk=membership.group_id)
    if group.memberships.count() > 1:
        incident_flows.split_group(group, [case], user=user)
    else:
        GroupMembership.objects.filter(pk=membership.pk).update(how=GroupMembership.How.SPLIT)
    return [case.pk]


@transaction.atomic
def answer_same_problem(
    case: Case,
    *,
    same: bool,
    group: ProblemGroup | None = None,
    incident: Incident | None = None,
    user: User | None = None,
    source: str = SameProblemAnswer.Source.CASE,
    also: list[Case] | None = None,
) -> SameProblemAnswer:
    """The team's answer: is `case` the same problem as `group` / `incident` (its group)?

    yes: the problem's recent reports (and `also`, e.g. an early warning's) become one agent-made
    group, the case moves into it (and into the live incident); then detection decides the case
    again, so the agent's yes can open the incident. no: the case goes into a group of its own and
    the problem's reports into theirs: the window never links the two. Recorded either way."""
    if incident is not None and group is None:
        group = incident.group
    if group is None and incident is None:
        raise incidents.IncidentError("group", "names no problem to compare with")
    if group is not None and group.merged_into_id is not None:
        group = ProblemGroup.objects.get(pk=group.merged_into_id)
    if incident is None and group is not None:
        incident = incidents.live_incident(group)
    wanted = SameProblemAnswer.Answer.YES if same else SameProblemAnswer.Answer.NO
    earlier = SameProblemAnswer.objects.filter(case=case)
    earlier = earlier.filter(group=group) if group is not None else earlier.filter(incident=incident)
    before = earlier.order_by("-at", "-id").first()
    if before is not None and before.answer == wanted:
        return before  # the same answer again (a double click, a repeated delivery): nothing changes
    problem_ids: list[int] = []
    if group is not None:
        problem_ids = team_loop.bind_problem(group, also)
        _relink(problem_ids)
    if same:
        if group is not None:
            incident_flows.move_case(case, group, user=user)
        if incident is not None and incident.status != IncidentStatus.RESOLVED:
            incidents.attach_case(incident, case, user=user)
        opened = _redecide(case)
        if incident is None and opened is not None:
            incident = opened
    else:
        if incident is not None and incident.cases.filter(pk=case.pk).exists():
            incident.cases.remove(case)
            incident_events.record(incident, "case_removed", case_id=case.pk)
        _relink(_keep_apart(case, user))
    answer = team_loop.record(
        answer=wanted,
        case=case,
        group=group,
        incident=incident,
        user=user,
        source=source,
        case_ids=problem_ids,
    )
    if incident is not None:
        incident_events.record(
            incident,
            "team_answer",
            actor=user,
            answer=answer.answer,
            case_id=case.pk,
            source=source,
            answer_id=answer.pk,
        )
    return answer


@transaction.atomic
def note_possible_split(incident: Incident, part_a: list[int], part_b: list[int]) -> Incident:
    """The detector's borderline split (`incidents.services.note_possible_split`), and the siren post
    rewritten when it was already sent (before the escalation starts there is nothing to rewrite)."""
    noted = incidents.note_possible_split(incident, part_a, part_b)
    escalation.rewrite_siren(noted)
    return noted


@transaction.atomic
def split_near_miss(incident: Incident, *, user: User | None = None) -> ProblemGroup:
    """One click on „Aufteilen“: the smaller part of the noted near miss leaves the incident's group
    (and the incident) into a group of its own; both sides become agent-made groups, so the window
    keeps them apart from now on. Recorded as the team's split."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    parts = team_loop.split_parts(incident)
    if not parts:
        raise incidents.IncidentError("possible_split", "there is no open near miss to split")
    if incident.group is None:
        raise incidents.IncidentError("group", f"INC-{incident.pk} has no problem group to split")
    group = incident.group
    team_loop.bind_problem(group)
    smaller = list(Case.objects.filter(pk__in=parts[1].case_ids, problem_membership__group=group))
    if not smaller:
        raise incidents.IncidentError("possible_split", "the smaller part is no longer in the incident's group")
    raw = (incident.brief or {}).get("possible_split") or []
    # (split_group relinks both sides in the detector's window, with the labels bound above)
    new = incident_flows.split_group(group, smaller, user=user)
    answer = team_loop.record(
        answer=SameProblemAnswer.Answer.SPLIT,
        case=None,
        group=new,
        incident=incident,
        user=user,
        source=SameProblemAnswer.Source.INCIDENT,
        case_ids=list(raw[1].get("case_ids") or []) if len(raw) == 2 else [c.pk for c in smaller],
    )
    incident_events.record(
        incident, "team_answer", actor=user, answer=answer.answer, group_id=new.pk, cases=[c.pk for c in smaller]
    )
    escalation.rewrite_siren(Incident.objects.get(pk=incident.pk))  # the post loses its near-miss line
    return new


@transaction.atomic
def keep_near_miss(incident: Incident, *, user: User | None = None) -> SameProblemAnswer:
    """„Ein Problem“: the team says the noted near miss is one problem; the hint goes away."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    raw = (incident.brief or {}).get("possible_split") or []
    if len(raw) != 2 or not team_loop.split_parts(incident):
        raise incidents.IncidentError("possible_split", "there is no open near miss")
    if incident.group is not None:
        _relink(team_loop.bind_problem(incident.group))
    answer = team_loop.record(
        answer=SameProblemAnswer.Answer.YES,
        case=None,
        group=incident.group,
        incident=incident,
        user=user,
        source=SameProblemAnswer.Source.INCIDENT,
        case_ids=list(raw[1].get("case_ids") or []),
    )
    incident_events.record(incident, "team_answer", actor=user, answer=answer.answer, near_miss=True)
    escalation.rewrite_siren(incident)  # the post loses its near-miss line
    return answer


# --- "Störung eröffnen" by hand -----------------------------------------------------------------


def _title(cases: list[Case]) -> str:
    return grouping.group_title(cases[0]) if cases else ""


def _category(cases: list[Case]) -> str:
    return Counter(c.category for c in cases).most_common(1)[0][0]


@transaction.atomic
def open_for_cases(cases: list[Case], *, user: User | None, title: str = "") -> Incident:
    """An agent raises the alarm for these reports (case page, bulk action of the list)."""
    if not cases:
        raise incidents.IncidentError("ids", "names no case")
    cases = sorted(cases, key=lambda c: (c.received_at, c.pk))
    return incident_flows.open_incident(
        title=(title.strip() or _title(cases))[:300],
        category=_category(cases),
        opened_by=user,
        origin="manual",
        cases=cases,
    )


@transaction.atomic
def open_for_group(group: ProblemGroup, *, user: User | None, title: str = "") -> Incident:
    """An agent raises the alarm for a problem group: its reports of the counting window (all of
    them when none is recent) with the group; one live incident per group still holds."""
    group = ProblemGroup.objects.select_for_update().get(pk=group.pk)
    if group.merged_into_id is not None:
        raise incidents.IncidentError("group", f"G-{group.pk} was merged into G-{group.merged_into_id}")
    live = incidents.live_incident(group)
    if live is not None:
        raise incidents.IncidentError("group", f"G-{group.pk} already has INC-{live.pk}")
    ids = list(team_loop.problem_members(group).values_list("case_id", flat=True))
    if not ids:
        ids = list(group.memberships.order_by("-received_at").values_list("case_id", flat=True)[:50])
    cases = list(Case.objects.filter(pk__in=ids).select_related("customer").order_by("received_at", "id"))
    if not cases:
        raise incidents.IncidentError("group", f"G-{group.pk} has no reports")
    return incident_flows.open_incident(
        title=(title.strip() or group.title or _title(cases))[:300],
        category=group.category,
        opened_by=user,
        origin="manual",
        cases=cases,
        group=group,
    )
