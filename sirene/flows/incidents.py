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

from django.db import transaction

from sirene.accounts.models import User
from sirene.cases.models import Case, Category
from sirene.core.memo import page_scope
from sirene.detection import store as detection
from sirene.escalation import services as escalation
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


def resolve(
    incident: Incident, *, resolution: str, user: User | None = None, customer_text: str = ""
) -> bool:
    """Resolve once; returns False when it was already resolved (a second click changes nothing).

    The linked cases are solved (incidents), every ticket gets the customer text once (helpdesk),
    and the siren post says so in its thread, with how many replies go out (escalation)."""
    # One read of the lead's settings (customer voice) for all the replies, not one per customer.
    with transaction.atomic(), page_scope():
        if not incidents.resolve(incident, resolution=resolution, user=user, customer_text=customer_text):
            return False
        helpdesk.queue_resolution_replies(incident)
        escalation.finish_run(incident, loop.summary(incident))
    return True


def replies(incident: Incident) -> dict[str, Any]:
    """The resolution replies ({"sent", "queued", "failed", "without_ticket": [e-mail…], "not_needed"})
    plus the same for the holding reply and the delay notice under "by_kind"."""
    by_kind = loop.summaries(incident)
    return {**by_kind["resolution"], "by_kind": by_kind}


def default_customer_text(incident: Incident) -> str:
    from sirene.helpdesk import replies as texts

    return texts.default_customer_text(incident)


def resolve_preview(incident: Incident, customer_text: str) -> dict[str, Any]:
    return loop.preview(incident, customer_text)


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
