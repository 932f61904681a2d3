"""The tracking list across domains: the badges per row and the bulk actions.

The badges come from other domains (problem groups and incidents, confirmed known problems); they are
looked up for the 50 rows of one page in three queries, so the list stays fast at 100k cases. A bulk
status change goes through `flows.cases.change_status` (the holding reply on "open question"), a move
into an incident through the incidents domain: all or nothing, in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from sirene.accounts.models import User
from sirene.cases import services
from sirene.cases.models import Case, Status
from sirene.flows import cases as case_flows
from sirene.flows import incidents as incident_flows
from sirene.incidents.models import GroupMembership, Incident, IncidentStatus
from sirene.incidents.services import attach_case
from sirene.knowledge.models import Suggestion, SuggestionState

MAX_BULK = 500
BULK_ACTIONS = ("assign", "status", "incident", "open_incident")


@dataclass
class Row:
    case: Case
    group_id: int | None = None
    group_count: int = 0
    incident_id: int | None = None
    incident_status: str = ""
    incident_status_label: str = ""
    known_problems: list[str] = field(default_factory=list)

    @property
    def last_contact(self) -> datetime | None:
        return self.case.last_customer_contact_at


def rows(cases: list[Case]) -> list[Row]:
    out = {c.pk: Row(case=c) for c in cases}
    if not out:
        return []
    ids = list(out)
    for case_id, group_id, count in GroupMembership.objects.filter(case_id__in=ids).values_list(
        "case_id", "group_id", "group__count"
    ):
        out[case_id].group_id, out[case_id].group_count = group_id, count
    labels = dict(IncidentStatus.choices)
    links = (
        Incident.cases.through.objects.filter(case_id__in=ids)
        .values_list("case_id", "incident_id", "incident__status")
        .order_by("incident__opened_at")
    )
    for case_id, incident_id, status in links:
        # The newest incident wins (ordered by opening time, later rows overwrite).
        row = out[case_id]
        row.incident_id, row.incident_status = incident_id, status
        row.incident_status_label = str(labels.get(status, status))
    for case_id, title in Suggestion.objects.filter(
        case_id__in=ids, state=SuggestionState.CONFIRMED
    ).values_list("case_id", "known_problem__title"):
        out[case_id].known_problems.append(title)
    return [out[c.pk] for c in cases]


def live_incidents() -> list[Any]:
    return list(Incident.objects.exclude(status=IncidentStatus.RESOLVED).order_by("-opened_at")[:50])


def _ids(raw: list[str]) -> list[int]:
    try:
        ids = sorted({int(v) for v in raw if str(v).strip()})
    except ValueError:
        raise services.IntakeError("ids", _("Case numbers must be whole numbers.")) from None
    if not ids:
        raise services.IntakeError("ids", _("Tick at least one case."))
    if len(ids) > MAX_BULK:
        raise services.IntakeError("ids", _("At most %(n)d cases at once.") % {"n": MAX_BULK})
    return ids


def bulk(raw_ids: list[str], action: str, value: str, *, actor: User) -> int:
    """Apply one action to many cases, all or nothing. Returns how many cases were changed."""
    ids = _ids(raw_ids)
    if action not in BULK_ACTIONS:
        raise services.IntakeError("action", _("Choose what to do with the ticked cases."))
    cases = list(Case.objects.filter(pk__in=ids).select_related("customer", "owner"))
    if len(cases) != len(ids):
        missing = sorted(set(ids) - {c.pk for c in cases})
        raise services.IntakeError(
            "ids", _("Unknown case numbers: %(ids)s") % {"ids": ", ".join(map(str, missing))}
        )
    if action == "open_incident":
        open_incident(raw_ids, actor=actor)
        return len(cases)
    with transaction.atomic():
        if action == "assign":
            owner = User.objects.filter(username=value, is_active=True).first() if value else None
            if value and owner is None:
                raise services.IntakeError("value", _("Unknown user: %(name)s") % {"name": value})
            changed = 0
            for case in cases:
                if case.owner_id != (owner.pk if owner else None):
                    services.assign(case, owner, actor=actor)
                    changed += 1
            return changed
        if action == "status":
            if value not in Status.values:
                raise services.IntakeError("value", _("Choose a status."))
            changed = 0
            for case in cases:
                if case.status != value:
                    case_flows.change_status(case, value, actor=actor)
                    changed += 1
            return changed
        incident = (
            Incident.objects.exclude(status=IncidentStatus.RESOLVED).filter(pk=int(value)).first()
            if value.isdigit()
            else None
        )
        if incident is None:
            raise services.IntakeError("value", _("Choose an open incident."))
        group = incident.group if incident.group_id is not None else None
        changed = 0
        for case in cases:
            if incident.cases.filter(pk=case.pk).exists():
                continue
            if group is not None and group.merged_into_id is None:
                # Grouping and incident agree: the case joins the incident's problem group (which
                # links it to the live incident).
                incident_flows.move_case(case, group, user=actor)
            attach_case(incident, case, user=actor)
            changed += 1
        return changed


def open_incident(raw_ids: list[str], *, actor: User) -> Incident:
    """„Störung eröffnen“ with the ticked cases (issue 18): a manual incident, its escalation run
    started as for any other."""
    from sirene.flows import team_loop

    ids = _ids(raw_ids)
    cases = list(Case.objects.filter(pk__in=ids).select_related("customer"))
    if len(cases) != len(ids):
        missing = sorted(set(ids) - {c.pk for c in cases})
        raise services.IntakeError(
            "ids", _("Unknown case numbers: %(ids)s") % {"ids": ", ".join(map(str, missing))}
        )
    return team_loop.open_for_cases(cases, user=actor)


def error_text(exc: services.IntakeError) -> str:
    return exc.message
