"""Critical incidents: lifecycle (open → acknowledged → resolved) and the timeline.

Problem groups, the detection rule and the brief are added by the incident-detection work;
`open_incident` is the ONE place an incident starts, and it emits the "incident opened" event
as a plain service call to escalation (no signals), in the same transaction.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from sirene.accounts.models import User
from sirene.cases.models import Case, Category
from sirene.core import clock
from sirene.incidents.models import Incident, IncidentEvent, IncidentStatus


class IncidentError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def add_event(
    incident: Incident,
    kind: str,
    message: str = "",
    *,
    actor: User | None = None,
    actor_label: str = "",
    data: dict[str, Any] | None = None,
) -> IncidentEvent:
    return IncidentEvent.objects.create(
        incident=incident,
        at=clock.now(),
        kind=kind,
        message=message,
        actor=actor,
        actor_label=actor_label,
        data=data or {},
    )


@transaction.atomic
def open_incident(
    *,
    title: str,
    description: str = "",
    category: str = Category.OTHER,
    opened_by: User | None = None,
    origin: str = "manual",
    cases: list[Case] | None = None,
) -> Incident:
    title = title.strip()
    if not title:
        raise IncidentError("title", "must not be empty")
    if category not in Category.values:
        raise IncidentError("category", f"{category!r} is not one of: {', '.join(Category.values)}")
    incident = Incident.objects.create(
        title=title[:300],
        description=description,
        category=category,
        opened_by=opened_by,
        origin=origin,
        opened_at=clock.now(),
    )
    if cases:
        incident.cases.add(*cases)
    add_event(incident, "opened", title, actor=opened_by, data={"origin": origin})
    from sirene.escalation import services as escalation

    escalation.on_incident_opened(incident)
    return incident


def acknowledge(incident: Incident, *, user: User | None = None, label: str = "", via: str = "web") -> bool:
    """First acknowledgement wins; returns False when it was already acknowledged (or resolved)."""
    with transaction.atomic():
        updated = Incident.objects.filter(pk=incident.pk, status=IncidentStatus.OPEN).update(
            status=IncidentStatus.ACKNOWLEDGED,
            acknowledged_at=clock.now(),
            acknowledged_by=user,
            acknowledged_label=label or (user.display_name() if user else ""),
            acknowledged_via=via,
        )
        incident.refresh_from_db()
        if not updated:
            return False
        add_event(
            incident, "acknowledged", f"{incident.acknowledged_label} ({via})", actor=user, actor_label=label
        )
        from sirene.escalation import services as escalation

        escalation.on_incident_acknowledged(incident)
    return True


def resolve(incident: Incident, *, resolution: str, user: User | None = None) -> bool:
    """Resolve once; returns False when it was already resolved (a second click changes nothing)."""
    if not resolution.strip():
        raise IncidentError("resolution", "must not be empty")
    with transaction.atomic():
        updated = (
            Incident.objects.filter(pk=incident.pk)
            .exclude(status=IncidentStatus.RESOLVED)
            .update(
                status=IncidentStatus.RESOLVED,
                resolved_at=clock.now(),
                resolved_by=user,
                resolution=resolution.strip(),
            )
        )
        incident.refresh_from_db()
        if not updated:
            return False
        if incident.acknowledged_at is None:
            Incident.objects.filter(pk=incident.pk).update(
                acknowledged_at=incident.resolved_at, acknowledged_by=user, acknowledged_via="resolve"
            )
        add_event(incident, "resolved", incident.resolution, actor=user)
        from sirene.escalation import services as escalation
        from sirene.helpdesk import services as helpdesk

        escalation.on_incident_resolved(incident)
        helpdesk.on_incident_resolved(incident)
    return True


def linked_cases(incident: Incident) -> QuerySet[Case]:
    return incident.cases.select_related("customer").order_by("received_at", "id")


def on_new_case(case: Case) -> None:
    """Called by the intake pipeline for every new case (inside its transaction)."""


def incident_summary_for(case: Case) -> dict[str, Any] | None:
    """The newest incident this case belongs to, if any."""
    incident = case.incidents.order_by("-opened_at").first()
    if incident is None:
        return None
    return {
        "id": incident.pk,
        "title": incident.title,
        "status": incident.status,
        "url": incident.get_absolute_url(),
    }
