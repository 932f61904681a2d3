"""A new report's detection step (inside the intake flow's transaction): group it, decide, apply.

`detection.decide` reads and returns a `Decision`; this module applies it with the domains' writes:
join the live incident (`incidents.services.join_detected`), propose an everyday report
(`detection.proposals`), open the incident (`incidents.services.open_detected`) or raise an early
warning (`incidents.detection`). The escalation run of an opened incident is started by the caller
(`flows.intake.group_and_escalate`), in the same transaction.
"""

from __future__ import annotations

from sirene.cases.models import Case
from sirene.core import clock
from sirene.detection import decide as detector
from sirene.detection import proposals
from sirene.detection.decide import Decision
from sirene.incidents import detection as warnings
from sirene.incidents import grouping
from sirene.incidents import services as incidents
from sirene.incidents.models import GroupMembership, Incident, ProblemGroup


def assign_and_evaluate(case: Case, *, known_problem: str = "") -> incidents.Evaluation:
    """Put a new case into its problem group, decide its problem and apply the decision.

    `known_problem`: the key of the known problem the knowledge base is sure of (see
    `knowledge.services.match`), the strongest grouping signal; "" when there is none.
    """
    grouping.assign(case, known=known_problem)
    return apply(detector.decide(case))


def apply(decision: Decision) -> incidents.Evaluation:
    """Carry out a decision (caller's transaction); says whether it opened an incident."""
    if decision.incident is not None:
        incident = Incident.objects.select_related("group").get(pk=decision.incident)
        if decision.joins:
            incidents.join_detected(incident, list(decision.joins))
        for case_id in decision.proposed:
            proposals.propose(case_id, incident)
        # An everyday report only proposed is not part of the incident (yet).
        return incidents.Evaluation(incident if decision.case_id in decision.joins else None)
    if decision.fire:
        assert decision.rule is not None
        counted = list(decision.counted)
        # Workers deciding on overlapping reports serialise on their history groups' rows; the one
        # that comes second finds the incident the first opened and joins it.
        gids = sorted(
            set(GroupMembership.objects.filter(case_id__in=counted).values_list("group_id", flat=True))
        )
        list(ProblemGroup.objects.select_for_update().filter(pk__in=gids).order_by("pk"))
        live = detector.live_incident(counted)
        if live is not None:
            incident = Incident.objects.select_related("group").get(pk=live)
            found = detector.links(decision.members)
            rest = [k for k in detector.not_linked(live, decision.members, found) if k != decision.case_id]
            incidents.join_detected(incident, [decision.case_id, *rest])
            return incidents.Evaluation(incident)
        incident = incidents.open_detected(
            counted,
            category=decision.category,
            known_problem=decision.known,
            rule=decision.rule,
            reason=decision.reason,
        )
        warnings.link_warnings(incident, counted)
        if decision.parts is not None:
            # Both parts as far as they were counted (and so linked): the team decides with one click.
            inside = set(counted)
            part_a = [k for k in decision.parts[0] if k in inside]
            part_b = [k for k in decision.parts[1] if k in inside]
            if part_a and part_b:
                incidents.note_possible_split(incident, part_a, part_b)
        return incidents.Evaluation(incident, opened=True)
    if decision.warning is not None:
        draft = decision.warning
        warnings.raise_early_warning(
            list(draft.cases),
            customers=draft.customers,
            category=draft.category,
            minutes=draft.minutes,
            now=clock.now(),
        )
    return incidents.Evaluation(None)
