"""Intake and read API for tech cases."""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja import Status as HttpStatus
from pydantic import ValidationError as PydanticValidationError

from sirene.accounts.models import User
from sirene.accounts.permissions import Action, api_permission
from sirene.cases import services
from sirene.cases.models import Case, Category, Customer, Status
from sirene.cases.schemas import CaseOut, CasePageOut, NotTrackedOut
from sirene.cases.search import fold
from sirene.core.errors import FieldError
from sirene.core.schemas import responses
from sirene.core.validation import MAX_SEARCH, Page, ReceivedAt, Tag, check_search, check_tag
from sirene.flows import cases as case_flows
from sirene.flows import intake as intake_flow
from sirene.flows.schemas import CaseDetailOut, CaseIntakeOut

router = Router(tags=["cases"])


class CustomerIn(Schema):
    email: str | None = Field(None, max_length=254)
    external_id: str | None = Field(None, max_length=200)
    name: str = Field("", max_length=200)
    attributes: dict[str, Any] = Field(default_factory=dict)


class CaseIn(Schema):
    source: str = Field(..., min_length=1, max_length=50)
    external_id: str = Field(..., min_length=1, max_length=200)
    subject: str = Field("", max_length=services.MAX_SUBJECT)
    body: str = Field("", max_length=services.MAX_BODY)
    customer: CustomerIn
    tags: list[Tag] = Field(default_factory=list, max_length=services.MAX_TAGS)
    category: str | None = None
    channel: str = Field("email", max_length=50)
    # 2000-01-01 … now + 1 day (core.validation); a naive time is read in the server's time zone.
    received_at: ReceivedAt | None = None


def _actor(request: HttpRequest) -> User | None:
    user = getattr(request, "auth", None) or getattr(request, "user", None)
    return user if isinstance(user, User) else None


@router.post(
    "",
    response={**responses(NotTrackedOut | CaseIntakeOut, 413), 201: CaseIntakeOut},
    summary="Report a tech case (idempotent on source + external_id)",
)
@api_permission(Action.REPORT_CASE)
def create_case(request: HttpRequest, payload: CaseIn) -> HttpStatus[Case | dict[str, Any]]:
    received = payload.received_at
    if received is not None and timezone.is_naive(received):
        received = timezone.make_aware(received)
    data = services.IntakeData(
        source=payload.source,
        external_id=payload.external_id,
        subject=payload.subject,
        body=payload.body,
        customer=services.CustomerData(
            email=payload.customer.email,
            external_id=payload.customer.external_id,
            name=payload.customer.name,
            attributes=payload.customer.attributes,
        ),
        tags=payload.tags,
        category=payload.category,
        channel=payload.channel,
        received_at=received,
        raw_payload=_raw_json(request),
    )
    result = intake_flow.report_case(data, actor=_actor(request), actor_label="api")
    if not result.tracked:
        return HttpStatus(200, {"tracked": False, "reason": result.reason})
    assert result.case is not None
    status = 201 if result.created else 200
    try:
        case = Case.objects.select_related("customer", "owner").get(pk=result.case.pk)
        case.tracked = True  # type: ignore[attr-defined]
        case.created = result.created  # type: ignore[attr-defined]
        # Every read of the answer now, inside this try, while the database may still go away.
        answer = CaseIntakeOut.from_orm(case).model_dump(mode="json")
        return JsonResponse(answer, status=status)  # type: ignore[return-value]
    except (DatabaseError, PydanticValidationError):
        # Stored already, and the database went away: answer with what was stored (the parts that need
        # more reads are empty; GET /cases/{id} shows them) rather than a 500 for a stored case.
        return JsonResponse(_stored_only(result.case, created=result.created), status=status)  # type: ignore[return-value]


def _stored_only(case: Case, *, created: bool) -> dict[str, Any]:
    plain = CaseOut.from_orm(case).model_dump(mode="json")  # no read: an intake case has its customer and no owner
    return {
        **plain,
        "body": case.body,
        "reproduced_note": case.reproduced_note,
        "solution": case.solution,
        "solved_at": case.solved_at.isoformat() if case.solved_at else None,
        "suggestions": [],
        "similar_cases": [],
        "incident": None,
        "history": [],
        "tracked": True,
        "created": created,
    }


def _raw_json(request: HttpRequest) -> dict[str, Any]:
    import json

    try:
        value = json.loads(request.body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {"value": value}


def filter_cases(
    qs: QuerySet[Case],
    *,
    status: str | None = None,
    category: str | None = None,
    owner: str | None = None,
    tag: str | None = None,
    q: str | None = None,
) -> QuerySet[Case]:
    if status:
        if status not in Status.values:
            raise FieldError("status", f"{status!r} is not one of: {', '.join(Status.values)}")
        qs = qs.filter(status=status)
    if category:
        if category not in Category.values:
            raise FieldError("category", f"{category!r} is not one of: {', '.join(Category.values)}")
        qs = qs.filter(category=category)
    if owner:
        qs = qs.filter(owner__isnull=True) if owner == "none" else qs.filter(owner__username=owner)
    if tag:
        try:
            check_tag(tag)
        except ValueError as exc:
            raise FieldError("tag", str(exc)) from None
        qs = qs.filter(tag_index__contains=f",{services.normalise_tag(tag)},")
    if q:
        try:
            term = check_search(q).strip()
        except ValueError as exc:
            raise FieldError("q", str(exc)) from None
        key = fold(term)
        # Name, e-mail and subject are matched on their folded search keys (umlauts, ß, case; see
        # cases/search.py). The customer match as a subquery (not a join) lets PostgreSQL use both
        # trigram indexes.
        matching_customers = Customer.objects.filter(search_text__contains=key).values("pk")
        cond = Q(search_text__contains=key) | Q(customer_id__in=matching_customers) | Q(external_id=term)
        if term.isdigit():
            cond |= Q(pk=int(term))
        qs = qs.filter(cond)
    return qs


@router.get(
    "", response=responses(CasePageOut), summary="List cases (filters: status, category, owner, tag, q)"
)
def list_cases(
    request: HttpRequest,
    status: str | None = None,
    category: str | None = None,
    owner: str | None = None,
    tag: str | None = None,
    q: str | None = Query(None, max_length=MAX_SEARCH),  # type: ignore[type-arg]
    page: Page = 1,
    per_page: int = 50,
) -> dict[str, Any]:
    if page < 1:
        raise FieldError("page", "must be 1 or more")
    if not 1 <= per_page <= 200:
        raise FieldError("per_page", "must be between 1 and 200")
    qs = filter_cases(
        Case.objects.select_related("customer", "owner"),
        status=status,
        category=category,
        owner=owner,
        tag=tag,
        q=q,
    ).order_by("-received_at", "-id")
    total = qs.count()
    start = (page - 1) * per_page
    items = list(qs[start : start + per_page])
    return {
        "items": items,
        "page": page,
        "per_page": per_page,
        "total": total,
        "next_page": page + 1 if start + per_page < total else None,
    }


@router.get(
    "/{case_id}",
    response=responses(CaseDetailOut, 404),
    summary="One case with suggestions, similar cases and history",
)
def get_case(request: HttpRequest, case_id: int) -> Case:
    return get_object_or_404(Case.objects.select_related("customer", "owner"), pk=case_id)


class StatusIn(Schema):
    status: str
    note: str = ""


@router.post(
    "/{case_id}/status", response=responses(CaseDetailOut, 404, 413), summary="Change a case's status"
)
@api_permission(Action.WORK_ON_CASE)
def post_status(request: HttpRequest, case_id: int, payload: StatusIn) -> Case:
    case = get_object_or_404(Case, pk=case_id)
    case = case_flows.change_status(
        case, payload.status, actor=_actor(request), actor_label="api", note=payload.note
    )
    return Case.objects.select_related("customer", "owner").get(pk=case.pk)


class AssignIn(Schema):
    owner: str | None = None


@router.post(
    "/{case_id}/assign",
    response=responses(CaseDetailOut, 404, 413),
    summary="Assign a case (owner: username, or null)",
)
@api_permission(Action.WORK_ON_CASE)
def post_assign(request: HttpRequest, case_id: int, payload: AssignIn) -> Case:
    case = get_object_or_404(Case, pk=case_id)
    owner = None
    if payload.owner:
        owner = User.objects.filter(username=payload.owner, is_active=True).first()
        if owner is None:
            raise FieldError("owner", f"no active user {payload.owner!r}")
    case = services.assign(case, owner, actor=_actor(request), actor_label="api")
    return Case.objects.select_related("customer", "owner").get(pk=case.pk)
