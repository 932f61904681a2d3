"""Incidents and problem groups over the JSON API (/api/v1/incidents)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja import Status as HttpStatus

from sirene.accounts.models import User
from sirene.accounts.permissions import Action, api_permission
from sirene.cases.models import Case
from sirene.core.errors import FieldError
from sirene.core.validation import Id
from sirene.flows import incidents as incident_flows
from sirene.incidents import services
from sirene.incidents.models import Incident, IncidentStatus, ProblemGroup

router = Router(tags=["incidents"])


class IncidentIn(Schema):
    title: str = Field(..., max_length=300)
    description: str = Field("", max_length=20_000)
    category: str = "other"
    case_ids: list[Id] = Field(default_factory=list, max_length=1000)


class ResolveIn(Schema):
    resolution: str = Field(..., max_length=20_000)


class TestCheckIn(Schema):
    reproduced: str
    note: str = Field("", max_length=5_000)


class MoveIn(Schema):
    group_id: Id


class MergeIn(Schema):
    into: Id


class SplitIn(Schema):
    case_ids: list[Id] = Field(..., min_length=1, max_length=1000)


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a service (its IncidentError is a FieldError: the API answers 422 naming the field)."""
    return fn(*args, **kwargs)


def _user(request: HttpRequest) -> User | None:
    user = getattr(request, "auth", None) or request.user
    return user if isinstance(user, User) else None


def incident_to_dict(incident: Incident, *, detail: bool = False) -> dict[str, Any]:
    brief = incident.brief or {}
    data: dict[str, Any] = {
        "id": incident.pk,
        "title": incident.title,
        "status": incident.status,
        "category": incident.category,
        "critical_category": incident.is_critical_category,
        "origin": incident.origin,
        "opened_at": incident.opened_at.isoformat(),
        "acknowledged_at": incident.acknowledged_at.isoformat() if incident.acknowledged_at else None,
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "customers_affected": incident.customers_affected,
        "reports": incident.reports,
        "first_seen": incident.first_seen.isoformat() if incident.first_seen else None,
        "last_seen": incident.last_seen.isoformat() if incident.last_seen else None,
        "group_id": incident.group_id,
        "url": incident.get_absolute_url(),
    }
    if detail:
        data.update(
            {
                "description": incident.description,
                "resolution": incident.resolution,
                "examples": brief.get("examples", []),
                "what": brief.get("what", {}),
                "common_thread": [
                    {
                        k: f[k]
                        for k in ("attribute", "value", "share", "baseline_share", "customers", "p_value")
                    }
                    for f in brief.get("common_thread", [])
                ],
                "common_thread_visible": bool(brief.get("common_thread")),
                "rate": brief.get("rate", {}),
                "test_account": {"reproduced": incident.test_reproduced, "note": incident.test_note},
                "case_ids": list(incident.cases.order_by("id").values_list("id", flat=True)),
                "timeline": [
                    {
                        "at": e.at.isoformat(),
                        "kind": e.kind,
                        "message": e.message,
                        "who": e.actor_label or (e.actor.display_name() if e.actor else "sirene"),
                    }
                    for e in incident.events.select_related("actor")
                ],
            }
        )
    return data


def group_to_dict(group: ProblemGroup) -> dict[str, Any]:
    return {
        "id": group.pk,
        "title": group.title,
        "category": group.category,
        "count": group.count,
        "first_seen": group.first_seen_at.isoformat(),
        "last_seen": group.last_seen_at.isoformat(),
        "merged_into": group.merged_into_id,
        "known_problem_key": group.known_problem_key or None,
        "case_ids": list(group.memberships.order_by("case_id").values_list("case_id", flat=True)),
        "rate": services.rate_facts(group),
    }


@router.get("")
def list_incidents(request: HttpRequest, status: str | None = None, limit: int = 50) -> dict[str, Any]:
    qs = Incident.objects.all()
    if status:
        if status not in IncidentStatus.values:
            raise FieldError("status", f"{status!r} is not one of: {', '.join(IncidentStatus.values)}")
        qs = qs.filter(status=status)
    limit = max(1, min(limit, 500))
    return {"count": qs.count(), "results": [incident_to_dict(i) for i in qs[:limit]]}


@router.post("", response={201: dict})
@api_permission(Action.OPEN_INCIDENT)
def create_incident(request: HttpRequest, payload: IncidentIn) -> Any:
    cases = list(Case.objects.filter(pk__in=payload.case_ids))
    missing = set(payload.case_ids) - {c.pk for c in cases}
    if missing:
        raise FieldError("case_ids", f"unknown case ids {sorted(missing)}")
    incident = _call(
        incident_flows.open_incident,
        title=payload.title,
        description=payload.description,
        category=payload.category,
        opened_by=_user(request),
        origin="manual",
        cases=cases,
    )
    return HttpStatus(201, incident_to_dict(incident, detail=True))


@router.get("/groups/{group_id}")
def get_group(request: HttpRequest, group_id: int) -> dict[str, Any]:
    return group_to_dict(get_object_or_404(ProblemGroup, pk=group_id))


@router.post("/groups/{group_id}/merge")
@api_permission(Action.CORRECT_GROUPS)
def merge_group(request: HttpRequest, group_id: int, payload: MergeIn) -> dict[str, Any]:
    source = get_object_or_404(ProblemGroup, pk=group_id)
    target = ProblemGroup.objects.filter(pk=payload.into).first()
    if target is None:
        raise FieldError("into", f"unknown group {payload.into}")
    return group_to_dict(_call(incident_flows.merge_groups, source, target, user=_user(request)))


@router.post("/groups/{group_id}/split")
@api_permission(Action.CORRECT_GROUPS)
def split_group(request: HttpRequest, group_id: int, payload: SplitIn) -> dict[str, Any]:
    group = get_object_or_404(ProblemGroup, pk=group_id)
    cases = list(Case.objects.filter(pk__in=payload.case_ids))
    return group_to_dict(_call(incident_flows.split_group, group, cases, user=_user(request)))


@router.post("/cases/{case_id}/group")
@api_permission(Action.CORRECT_GROUPS)
def move_case(request: HttpRequest, case_id: int, payload: MoveIn) -> dict[str, Any]:
    case = get_object_or_404(Case, pk=case_id)
    target = ProblemGroup.objects.filter(pk=payload.group_id).first()
    if target is None:
        raise FieldError("group_id", f"unknown group {payload.group_id}")
    membership = _call(incident_flows.move_case, case, target, user=_user(request))
    return group_to_dict(membership.group)


@router.get("/{incident_id}")
def get_incident(request: HttpRequest, incident_id: int) -> dict[str, Any]:
    return incident_to_dict(get_object_or_404(Incident, pk=incident_id), detail=True)


@router.post("/{incident_id}/ack")
@api_permission(Action.ACKNOWLEDGE_INCIDENT)
def ack_incident(request: HttpRequest, incident_id: int) -> Any:
    incident = get_object_or_404(Incident, pk=incident_id)
    changed = incident_flows.acknowledge(incident, user=_user(request), via="api")
    body = incident_to_dict(incident, detail=True)
    body["changed"] = changed
    return body


@router.post("/{incident_id}/resolve", response={200: dict, 409: dict})
@api_permission(Action.RESOLVE_INCIDENT)
def resolve_incident(request: HttpRequest, incident_id: int, payload: ResolveIn) -> Any:
    incident = get_object_or_404(Incident, pk=incident_id)
    if not _call(incident_flows.resolve, incident, resolution=payload.resolution, user=_user(request)):
        return HttpStatus(409, {"detail": "already resolved", **incident_to_dict(incident, detail=True)})
    return incident_to_dict(incident, detail=True)


@router.post("/{incident_id}/test-check")
@api_permission(Action.RECORD_TEST_CHECK)
def test_check(request: HttpRequest, incident_id: int, payload: TestCheckIn) -> dict[str, Any]:
    incident = get_object_or_404(Incident, pk=incident_id)
    _call(services.set_test_check, incident, payload.reproduced, payload.note, user=_user(request))
    incident.refresh_from_db()
    return incident_to_dict(incident, detail=True)
