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
from sirene.core.schemas import IsoDateTime, responses
from sirene.core.validation import Id
from sirene.flows import incidents as incident_flows
from sirene.incidents import services
from sirene.incidents.models import Incident, IncidentStatus, ProblemGroup
from sirene.incidents.schemas import (
    AckOut,
    CandidateOut,
    GroupOut,
    IncidentDetailOut,
    IncidentListOut,
    RepliesOut,
    ResolveConflictOut,
)

router = Router(tags=["incidents"])


class IncidentIn(Schema):
    title: str = Field(..., max_length=300)
    description: str = Field("", max_length=20_000)
    category: str = "other"
    case_ids: list[Id] = Field(default_factory=list, max_length=1000)


class ResolveIn(Schema):
    resolution: str = Field(..., max_length=20_000)
    # What customers read (separate from the internal resolution); empty: the prefilled default.
    customer_text: str = Field("", max_length=20_000)
    # ★ Sweep: unlinked look-alike reports from the preview's `candidates` that hear back too.
    also_notify: list[Id] = Field(default_factory=list, max_length=500)


class PreviewIn(Schema):
    customer_text: str = Field("", max_length=20_000)


class PreviewOut(Schema):
    text: str
    tickets: int
    customers: int
    without_ticket: list[str]
    candidates: list[CandidateOut] = []


class TitleIn(Schema):
    title: str = Field(..., max_length=300)
    customer_title: str = Field(..., max_length=300)


class PublishIn(Schema):
    published: bool
    text: str = Field("", max_length=1000)


class OutreachIn(Schema):
    kind: str = "resolution"


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


def _with_replies(incident: Incident) -> Incident:
    """The customer replies ("sent", "queued", "failed", "without_ticket") come from the flows."""
    incident.replies_summary = incident_flows.replies(incident)  # type: ignore[attr-defined]
    incident.after_resolution_summary = incident_flows.after_resolution(incident)  # type: ignore[attr-defined]
    return incident


@router.get("", response=responses(IncidentListOut))
def list_incidents(request: HttpRequest, status: str | None = None, limit: int = 50) -> dict[str, Any]:
    qs = Incident.objects.all()
    if status:
        if status not in IncidentStatus.values:
            raise FieldError("status", f"{status!r} is not one of: {', '.join(IncidentStatus.values)}")
        qs = qs.filter(status=status)
    limit = max(1, min(limit, 500))
    return {"count": qs.count(), "results": list(qs[:limit])}


@router.post("", response=responses(IncidentDetailOut, 413, status=201), exclude_unset=True)
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
    return HttpStatus(201, incident)


class DryRunIn(Schema):
    """★ Probelauf: the rule a lead is editing (a category's, or a known problem's when set)."""

    category: str = ""
    known_problem_key: str = Field("", max_length=100)
    threshold: int
    window_hours: float
    pages: bool = True
    days: int = 60


class DryRunIncidentOut(Schema):
    title: str
    opened_at: IsoDateTime
    opened_by_case_id: int
    customers: int
    customers_at_open: int
    category: str
    known_problem: str
    case_ids: list[int]
    rule: str
    current_opened_at: IsoDateTime | None = None
    minutes: int | None = None


class DryRunOut(Schema):
    earlier: list[DryRunIncidentOut]
    later: list[DryRunIncidentOut]
    extra: list[DryRunIncidentOut]
    missing: list[DryRunIncidentOut]
    unchanged: int
    reports: int
    days: int
    rule: str
    current: int
    proposed: int


class ReopenIn(Schema):
    # Empty: the start policy's first step; else the policy the lead chose.
    policy_id: Id | None = None


@router.post("/rules/dry-run", response=responses(DryRunOut, 403, 413))
@api_permission(Action.EDIT_RULES)
def rule_dry_run(request: HttpRequest, payload: DryRunIn) -> dict[str, Any]:
    """Replay the last `days` (1-90) days of stored reports through the production detection with
    the proposed rule; nothing is written or sent. The difference to the current rules."""
    from sirene.incidents import dryrun

    proposal, days = dryrun.check(
        category=payload.category,
        known_problem_key=payload.known_problem_key,
        threshold=payload.threshold,
        window_hours=payload.window_hours,
        pages=payload.pages,
        days=payload.days,
    )
    return dryrun.dry_run(proposal, days).as_dict()


@router.get("/groups/{group_id}", response=responses(GroupOut, 404))
def get_group(request: HttpRequest, group_id: int) -> ProblemGroup:
    return get_object_or_404(ProblemGroup, pk=group_id)


@router.post("/groups/{group_id}/merge", response=responses(GroupOut, 404, 413))
@api_permission(Action.CORRECT_GROUPS)
def merge_group(request: HttpRequest, group_id: int, payload: MergeIn) -> ProblemGroup:
    source = get_object_or_404(ProblemGroup, pk=group_id)
    target = ProblemGroup.objects.filter(pk=payload.into).first()
    if target is None:
        raise FieldError("into", f"unknown group {payload.into}")
    return _call(incident_flows.merge_groups, source, target, user=_user(request))  # type: ignore[no-any-return]


@router.post("/groups/{group_id}/split", response=responses(GroupOut, 404, 413))
@api_permission(Action.CORRECT_GROUPS)
def split_group(request: HttpRequest, group_id: int, payload: SplitIn) -> ProblemGroup:
    group = get_object_or_404(ProblemGroup, pk=group_id)
    cases = list(Case.objects.filter(pk__in=payload.case_ids))
    return _call(incident_flows.split_group, group, cases, user=_user(request))  # type: ignore[no-any-return]


@router.post("/cases/{case_id}/group", response=responses(GroupOut, 404, 413))
@api_permission(Action.CORRECT_GROUPS)
def move_case(request: HttpRequest, case_id: int, payload: MoveIn) -> ProblemGroup:
    case = get_object_or_404(Case, pk=case_id)
    target = ProblemGroup.objects.filter(pk=payload.group_id).first()
    if target is None:
        raise FieldError("group_id", f"unknown group {payload.group_id}")
    membership = _call(incident_flows.move_case, case, target, user=_user(request))
    return membership.group  # type: ignore[no-any-return]


@router.get("/{incident_id}", response=responses(IncidentDetailOut, 404), exclude_unset=True)
def get_incident(request: HttpRequest, incident_id: int) -> Incident:
    return _with_replies(get_object_or_404(Incident, pk=incident_id))


@router.post("/{incident_id}/ack", response=responses(AckOut, 403, 404), exclude_unset=True)
@api_permission(Action.ACKNOWLEDGE_INCIDENT)
def ack_incident(request: HttpRequest, incident_id: int) -> Incident:
    incident = get_object_or_404(Incident, pk=incident_id)
    changed = incident_flows.take_over(incident, user=_user(request), via="api")
    incident.changed = changed  # type: ignore[attr-defined]
    return _with_replies(incident)


@router.post(
    "/{incident_id}/resolve",
    response={**responses(IncidentDetailOut, 404, 413), 409: ResolveConflictOut},
    exclude_unset=True,
)
@api_permission(Action.RESOLVE_INCIDENT)
def resolve_incident(request: HttpRequest, incident_id: int, payload: ResolveIn) -> Any:
    incident = get_object_or_404(Incident, pk=incident_id)
    done = _call(
        incident_flows.resolve,
        incident,
        resolution=payload.resolution,
        customer_text=payload.customer_text,
        user=_user(request),
        also_notify=list(payload.also_notify),
    )
    if not done:
        incident.detail = "already resolved"  # type: ignore[attr-defined]
        return HttpStatus(409, _with_replies(incident))
    return _with_replies(incident)


@router.post(
    "/{incident_id}/reopen",
    response={**responses(IncidentDetailOut, 403, 404, 413), 409: ResolveConflictOut},
    exclude_unset=True,
)
@api_permission(Action.RESOLVE_INCIDENT)
def reopen_incident(request: HttpRequest, incident_id: int, payload: ReopenIn) -> Any:
    """★ "Störung wieder öffnen": the fix did not hold; the same incident escalates again."""
    incident = get_object_or_404(Incident, pk=incident_id)
    if not _call(incident_flows.reopen, incident, user=_user(request), policy_id=payload.policy_id):
        incident.detail = "not resolved"  # type: ignore[attr-defined]
        return HttpStatus(409, _with_replies(incident))
    return _with_replies(incident)


@router.post("/{incident_id}/resolve/preview", response=responses(PreviewOut, 404, 413))
@api_permission(Action.RESOLVE_INCIDENT)
def resolve_preview(request: HttpRequest, incident_id: int, payload: PreviewIn) -> dict[str, Any]:
    """The exact customer reply resolving would send, and to how many tickets (nothing is sent)."""
    return incident_flows.resolve_preview(get_object_or_404(Incident, pk=incident_id), payload.customer_text)


@router.post("/{incident_id}/title", response=responses(IncidentDetailOut, 403, 404, 413), exclude_unset=True)
@api_permission(Action.POST_STATUS_UPDATE)
def rename_incident(request: HttpRequest, incident_id: int, payload: TitleIn) -> Incident:
    incident = get_object_or_404(Incident, pk=incident_id)
    user = _user(request)  # a lead: api_permission(POST_STATUS_UPDATE) admitted only leads
    return _with_replies(
        _call(services.rename, incident, title=payload.title, customer_title=payload.customer_title, user=user)
    )


@router.post("/{incident_id}/publish", response=responses(IncidentDetailOut, 403, 404, 413), exclude_unset=True)
@api_permission(Action.POST_STATUS_UPDATE)
def publish_incident(request: HttpRequest, incident_id: int, payload: PublishIn) -> Incident:
    incident = get_object_or_404(Incident, pk=incident_id)
    user = _user(request)  # a lead: api_permission(POST_STATUS_UPDATE) admitted only leads
    return _with_replies(
        _call(services.publish, incident, published=payload.published, text=payload.text, user=user)
    )


@router.post("/{incident_id}/customers/{case_id}/new-conversation", response=responses(RepliesOut, 404, 413))
@api_permission(Action.RETRY_REPLY)
def new_conversation(request: HttpRequest, incident_id: int, case_id: int, payload: OutreachIn) -> dict[str, Any]:
    """Reach a customer without a ticket: a new Groove conversation to their e-mail address."""
    incident = get_object_or_404(Incident, pk=incident_id)
    incident_flows.start_conversation(incident, case_id, kind=payload.kind, user=_user(request))
    return incident_flows.replies(incident)


@router.post("/{incident_id}/customers/{case_id}/not-needed", response=responses(RepliesOut, 404, 413))
@api_permission(Action.RETRY_REPLY)
def no_reply_needed(request: HttpRequest, incident_id: int, case_id: int, payload: OutreachIn) -> dict[str, Any]:
    incident = get_object_or_404(Incident, pk=incident_id)
    incident_flows.mark_not_needed(incident, case_id, kind=payload.kind, user=_user(request))
    return incident_flows.replies(incident)


@router.post("/{incident_id}/test-check", response=responses(IncidentDetailOut, 404, 413), exclude_unset=True)
@api_permission(Action.RECORD_TEST_CHECK)
def test_check(request: HttpRequest, incident_id: int, payload: TestCheckIn) -> Incident:
    incident = get_object_or_404(Incident, pk=incident_id)
    _call(services.set_test_check, incident, payload.reproduced, payload.note, user=_user(request))
    incident.refresh_from_db()
    return incident


# --- the team in the loop (issue 18) -------------------------------------------------------------


class SameProblemIn(Schema):
    """The team's answer to "Gleiches Problem wie …?": the problem is a group or an incident."""

    same: bool
    group_id: Id | None = None
    incident_id: Id | None = None


class SameProblemOut(Schema):
    id: int
    answer: str
    case_id: int | None
    group_id: int | None
    incident_id: int | None
    case_ids: list[int]


@router.post("/cases/{case_id}/same-problem", response=responses(SameProblemOut, 403, 404, 413))
@api_permission(Action.CORRECT_GROUPS)
def same_problem(request: HttpRequest, case_id: int, payload: SameProblemIn) -> Any:
    """yes: the report counts for the problem (and can open its incident); no: detection keeps the
    two apart. Recorded with who and when; the same answer again changes nothing."""
    from sirene.flows import team_loop

    case = get_object_or_404(Case, pk=case_id)
    group = incident = None
    if payload.group_id is not None:
        group = ProblemGroup.objects.filter(pk=payload.group_id).first()
        if group is None:
            raise FieldError("group_id", f"unknown group {payload.group_id}")
    if payload.incident_id is not None:
        incident = Incident.objects.filter(pk=payload.incident_id).first()
        if incident is None:
            raise FieldError("incident_id", f"unknown incident {payload.incident_id}")
    if group is None and incident is None:
        raise FieldError("group_id", "name the problem: group_id or incident_id")
    return team_loop.answer_same_problem(
        case, same=payload.same, group=group, incident=incident, user=_user(request), source="api"
    )
