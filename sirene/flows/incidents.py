"""The incident lifecycle across domains: each verb is the incident change (incidents), then the
escalation run's reaction (escalation), then the customers' replies (helpdesk), in one transaction.

- open: `incidents.open_incident` + `escalation.start_run` (every incident has a run);
- acknowledge (web, API, Slack button/reaction/thread reply, phone keypress 1): first one wins,
  then `escalation.stop_run`;
- resolve: `escalation.finish_run` + `helpdesk.queue_resolution_replies` (one reply per ticket);
- move / merge / split (agents correcting the grouping) may open an incident: its run starts here.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from sirene.accounts.models import User
from sirene.cases.models import Case, Category
from sirene.core.memo import page_scope
from sirene.detection import store as detection
from sirene.escalation import services as escalation
from sirene.flows import sweep
from sirene.helpdesk import loop
from sirene.helpdesk import services as helpdesk
from sirene.incidents import services as incidents
from sirene.incidents.models import GroupMembership, Incident, ProblemGroup


def _started(evaluation: incidents.Evaluation) -> None:
    if evaluation.opened and evaluation.incident is not None:
        escalation.start_run(evaluation.incident)


@transaction.atomic
def open_incident(
    *,
    title: str,
    description: str = "",
    category: str = Category.OTHER,
    opened_by: User | None = None,
    origin: str = "manual",
    cases: list[Case] | None = None,
    group: ProblemGroup | None = None,
) -> Incident:
    incident = incidents.open_incident(
        title=title,
        description=description,
        category=category,
        opened_by=opened_by,
        origin=origin,
        cases=cases,
        group=group,
    )
    escalation.start_run(incident)
    return incident


def acknowledge(incident: Incident, *, user: User | None = None, label: str = "", via: str = "web") -> bool:
    """First acknowledgement wins; returns False when it was already acknowledged (or resolved)."""
    with transaction.atomic():
        if not incidents.acknowledge(incident, user=user, label=label, via=via):
            return False
        escalation.stop_run(incident)
    return True


class _AlreadyResolved(Exception):
    pass
class NotAResponder(PermissionDenied):
    """Only a responder of the incident's escalation policy or a lead may take it over."""


def take_over(incident: Incident, *, user: User | None, via: str) -> bool:
    """The web page's or API's "Übernehmen": like `acknowledge`, but only for a responder of the
    incident's policy or a lead; anyone else's click is put on the timeline and the calls still come."""
    who = escalation.take_over_by_user(incident, user)
    if not who.allowed:
        run = escalation.run_of(incident)
        if run is not None and incident.status == "open":
            escalation.record_no_takeover(run, who.label, via, user=user)
        raise NotAResponder(
            "only a responder of this incident's escalation policy or a lead can take it over"
        )
    return acknowledge(incident, user=user, via=via)


def resolve(
    incident: Incident,
    *,
    resolution: str,
    user: User | None = None,
    customer_text: str = "",
    also_notify: list[int] | None = None,
) -> bool:
    """Resolve once; returns False when it was already resolved (a second click changes nothing).

    The linked cases are solved (incidents), every ticket gets the customer text once (helpdesk),
    and the siren post says so in its thread, with how many replies go out (escalation).
    `also_notify`: unlinked look-alike reports the lead ticked in the preview (`flows.sweep`); they
    are linked first (undone when the incident was already resolved), so they are solved and
    answered like the others, exactly once."""
    extra = sweep.check_also_notify(incident, list(also_notify or []))
    try:
        # One read of the lead's settings (customer voice) for all the replies, not one per customer.
        with transaction.atomic(), page_scope():
            if extra:
                if Incident.objects.filter(pk=incident.pk, status="resolved").exists():
                    raise _AlreadyResolved
                sweep.link_also_notify(incident, extra, user=user)
            if customer_text.strip() and incident.status != "resolved":
                conflict = helpdesk.voice_conflict(customer_text, list(incidents.linked_cases(incident)))
                if conflict:
                    # Nothing is resolved or sent: a customer would read "Sie" and "du" in one mail.
                    raise incidents.IncidentError("customer_text", conflict)
            if not incidents.resolve(incident, resolution=resolution, user=user, customer_text=customer_text):
                raise _AlreadyResolved
            helpdesk.queue_resolution_replies(incident)
            escalation.finish_run(incident, loop.summary(incident))
    except _AlreadyResolved:
        return False
    return True


def reopen(incident: Incident, *, user: User | None = None, policy_id: int | None = None) -> bool:
    """★ "Störung wieder öffnen": the fix did not hold. The same incident with its customers opens
    again and escalates from the first step of the start policy (or the lead's choice)."""
    from sirene.escalation.models import Policy
    from sirene.helpdesk import aftercare

    policy = None
    if policy_id is not None:
        policy = Policy.objects.filter(pk=policy_id).first()
        if policy is None:
            raise incidents.IncidentError("policy_id", f"unknown policy {policy_id}")
    resolved_at = incident.resolved_at
    with transaction.atomic():
        broken = aftercare.still_broken_since(incident, resolved_at) if resolved_at else 0
        if not incidents.reopen(incident, user=user, reason={"still_broken": broken}):
            return False
        escalation.restart_run(incident, policy=policy)
    return True


def after_resolution(incident: Incident) -> dict[str, Any]:
    """★ What the customers answered to the resolution reply (helpdesk.aftercare.summary)."""
    from sirene.helpdesk import aftercare

    return aftercare.summary(incident)


def replies(incident: Incident) -> dict[str, Any]:
    """The resolution replies ({"sent", "queued", "failed", "without_ticket": [e-mail…], "not_needed"})
    plus the same for the holding reply and the delay notice under "by_kind"."""
    by_kind = loop.summaries(incident)
    return {**by_kind["resolution"], "by_kind": by_kind}


def default_customer_text(incident: Incident) -> str:
    """The prefilled customer text: in the one voice all linked customers are addressed in, else with
    both forms ("[Sie-Form|du-Form]"), so no customer reads a mix."""
    from sirene.helpdesk import replies as texts

    cases = list(incidents.linked_cases(incident))
    earlier = helpdesk.earlier_voices(cases)
    voices = {helpdesk.voice_for(c, earlier_voice=earlier.get(c.pk), looked_up=True) for c in cases}
    return texts.default_customer_text(incident, voices.pop() if len(voices) == 1 else None)


def resolve_preview(incident: Incident, customer_text: str) -> dict[str, Any]:
    """The exact reply and its count, plus the unlinked look-alike reports (`flows.sweep`)."""
    data = loop.preview(incident, customer_text)
    if incident.status != "resolved":
        data["candidates"] = [c.as_dict() for c in sweep.candidates(incident)]
    else:
        data["candidates"] = []
    return data


def start_conversation(incident: Incident, case_id: int, *, kind: str, user: User | None = None) -> Any:
    return loop.start_conversation(incident, case_id, kind=kind, user=user)


def mark_not_needed(incident: Incident, case_id: int, *, kind: str, user: User | None = None) -> Any:
    return loop.mark_not_needed(incident, case_id, kind=kind, user=user)


@transaction.atomic
def move_case(case: Case, target: ProblemGroup, *, user: User | None = None) -> GroupMembership:
    membership, evaluation = incidents.move_case(case, target, user=user, regrouped=detection.regrouped)
    _started(evaluation)
    return membership


@transaction.atomic
def merge_groups(source: ProblemGroup, target: ProblemGroup, *, user: User | None = None) -> ProblemGroup:
    group, evaluation = incidents.merge_groups(source, target, user=user, regrouped=detection.regrouped)
    _started(evaluation)
    return group


@transaction.atomic
def split_group(group: ProblemGroup, cases: list[Case], *, user: User | None = None) -> ProblemGroup:
    new, evaluation = incidents.split_group(group, cases, user=user, regrouped=detection.regrouped)
    _started(evaluation)
    return new
