"""Escalation over the JSON API (/api/v1/escalation): runs, people, absences, policies, preview,
status updates."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja import Status as HttpStatus

from sirene.accounts.models import User
from sirene.accounts.permissions import Action, api_permission
from sirene.core.errors import FieldError
from sirene.core.schemas import responses
from sirene.core.validation import FiniteFloat, Id, PlannedAt
from sirene.escalation import services
from sirene.escalation.models import Absence, Person, PersonRole, Policy, Run
from sirene.escalation.schemas import (
    AbsenceCreatedOut,
    AbsenceOut,
    PersonOut,
    PolicyOut,
    PreviewLineOut,
    RunDetailOut,
    RunOut,
    StatusUpdateOut,
)
from sirene.incidents.models import Incident

router = Router(tags=["escalation"])


def _user(request: HttpRequest) -> User | None:
    user = getattr(request, "auth", None) or request.user
    return user if isinstance(user, User) else None


class PersonIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    slack_user_id: str = Field("", max_length=30)
    phone: str = Field("", max_length=20)
    time_zone: str = Field("Europe/Berlin", max_length=60)
    role: str = PersonRole.RESPONDER


class AbsenceIn(Schema):
    person_id: Id
    # 2000-01-01 … 2100-01-01 (core.validation)
    starts_at: PlannedAt
    ends_at: PlannedAt
    kind: str = "vacation"
    note: str = Field("", max_length=200)


class StatusUpdateIn(Schema):
    text: str = Field(..., max_length=3000)
    # ★ "Fix ist ausgerollt": from now on sirene watches the silence (incidents.afterwards).
    fix_deployed: bool = False


class PreviewQuery(Schema):
    # Seconds after the start; finite and within a year (`inf` or 1e308 would overflow the timeline).
    ack_at: FiniteFloat | None = Field(None, ge=0, le=366 * 24 * 3600)


@router.get("/runs", response=responses(list[RunOut]))
def list_runs(request: HttpRequest, status: str = "") -> list[Run]:
    qs = Run.objects.all()
    if status:
        qs = qs.filter(status=status)
    return list(qs[:200])


@router.get("/runs/{run_id}", response=responses(RunDetailOut, 404), exclude_unset=True)
def get_run(request: HttpRequest, run_id: int) -> Run:
    return get_object_or_404(Run, pk=run_id)


@router.get("/people", response=responses(list[PersonOut]))
def list_people(request: HttpRequest) -> list[Person]:
    return list(Person.objects.all())


@router.post("/people", response=responses(PersonOut, 403, 413, status=201))
@api_permission(Action.EDIT_PEOPLE)
def create_person(request: HttpRequest, payload: PersonIn) -> HttpStatus[Person]:
    if payload.role not in PersonRole.values:
        raise FieldError("role", f"must be one of {', '.join(PersonRole.values)}")
    person = services.save_person(**payload.dict())
    return HttpStatus(201, person)


@router.get("/absences", response=responses(list[AbsenceOut]))
def list_absences(request: HttpRequest, person_id: Id | None = None) -> list[Absence]:
    qs = Absence.objects.select_related("person")
    if person_id is not None:
        qs = qs.filter(person_id=person_id)
    return list(qs[:500])


@router.post("/absences", response=responses(AbsenceCreatedOut, 403, 413, status=201))
@api_permission(Action.EDIT_PEOPLE)
def create_absence(request: HttpRequest, payload: AbsenceIn) -> HttpStatus[Absence]:
    person = Person.objects.filter(pk=payload.person_id).first()
    if person is None:
        raise FieldError("person_id", f"no person with id {payload.person_id}")
    absence = services.add_absence(
        person, starts_at=payload.starts_at, ends_at=payload.ends_at, kind=payload.kind, note=payload.note
    )
    return HttpStatus(201, absence)


@router.get("/policies", response=responses(list[PolicyOut]), exclude_unset=True)
def list_policies(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {"id": p.pk, "name": p.name, "is_default": p.is_default, **services.snapshot_of(p)}
        for p in Policy.objects.all()
    ]


@router.get("/policies/{policy_id}/preview", response=responses(list[PreviewLineOut], 404))
def preview_policy(request: HttpRequest, policy_id: int, query: Query[PreviewQuery]) -> list[dict[str, Any]]:
    policy = get_object_or_404(Policy, pk=policy_id)
    lines = services.preview(
        services.snapshot_of(policy),
        # Repeated parameters (?absent=Tara&absent=Piwi), read directly: ninja's schema parsing
        # would keep only one value.
        absent=request.GET.getlist("absent"),
        no_answer=request.GET.getlist("no_answer"),
        ack_at=query.ack_at,
    )
    return [
        {"at": int(line.at), "action": line.action, "person": line.person, "text": line.text}
        for line in lines
    ]


@router.post(
    "/incidents/{incident_id}/status-updates", response=responses(StatusUpdateOut, 404, 413, status=201)
)
@api_permission(Action.POST_STATUS_UPDATE)
def status_update(
    request: HttpRequest, incident_id: int, payload: StatusUpdateIn
) -> HttpStatus[dict[str, Any]]:
    incident = get_object_or_404(Incident, pk=incident_id)
    attempt = services.post_status_update(
        incident, payload.text, user=_user(request), fix_deployed=payload.fix_deployed
    )
    return HttpStatus(201, {"id": attempt.pk, "status": attempt.status, "channel": attempt.target})
