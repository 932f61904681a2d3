"""Proposed links: the everyday reports the detector asks about instead of linking them.

`propose` records one (idempotent), `proposals_for` lists a case's open ones for a live incident,
`answer` takes the person's yes or no: a yes links the report through the detector's own join
(`incidents.services.join_detected`), a no records that it is a different problem.
"""

from __future__ import annotations

from django.db import transaction

from sirene.accounts.models import User
from sirene.cases.models import Case
from sirene.core import clock
from sirene.detection.models import Proposal
from sirene.incidents import services as incidents
from sirene.incidents.models import Incident, IncidentStatus


def propose(case: Case | int, incident: Incident | int) -> Proposal:
    """Ask "Gleiches Problem wie …?" for this report and incident (once; a repeat changes nothing)."""
    case_id = case if isinstance(case, int) else case.pk
    incident_id = incident if isinstance(incident, int) else incident.pk
    proposal, _created = Proposal.objects.get_or_create(case_id=case_id, incident_id=incident_id)
    return proposal


def proposals_for(case: Case) -> list[Proposal]:
    """The case's unanswered proposals for incidents that are still live, newest first."""
    return list(
        Proposal.objects.filter(case=case, answer=Proposal.Answer.OPEN)
        .exclude(incident__status=IncidentStatus.RESOLVED)
        .select_related("incident")
        .order_by("-proposed_at", "-id")
    )


@transaction.atomic
def answer(proposal: Proposal, *, same: bool, user: User | None = None) -> Proposal:
    """The person's answer; a yes joins the report to the incident as the detector would have."""
    proposal = Proposal.objects.select_for_update().select_related("incident").get(pk=proposal.pk)
    if proposal.answer:
        return proposal  # answered before: a second click changes nothing
    proposal.answer = Proposal.Answer.YES if same else Proposal.Answer.NO
    proposal.answered_at = clock.now()
    proposal.answered_by = user
    proposal.save(update_fields=["answer", "answered_at", "answered_by"])
    if same and proposal.incident.status != IncidentStatus.RESOLVED:
        incidents.join_detected(proposal.incident, [proposal.case_id])
    return proposal
