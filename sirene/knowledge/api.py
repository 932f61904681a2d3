"""Knowledge-base API: search, known problems, suggestion decisions, and articles a customer read."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja import Status as HttpStatus
from ninja.errors import HttpError

from sirene.accounts.models import User
from sirene.accounts.permissions import Action, api_permission
from sirene.cases.models import Case, Category, Customer
from sirene.core.errors import FieldError
from sirene.core.schemas import responses
from sirene.core.validation import ReceivedAt
from sirene.knowledge import services, transfer
from sirene.knowledge.models import ArticleView, KnownProblem, Suggestion
from sirene.knowledge.schemas import (
    ArticleViewCreatedOut,
    ArticleViewsOut,
    CaseKnowledgeOut,
    DecisionOut,
    ExportOut,
    ImportOut,
    ProblemDetailOut,
    ProblemListOut,
    RecomputeOut,
    SearchOut,
)

router = Router(tags=["knowledge"])
# Mounted at /api/v1/customers (article views a customer already read).
customers_router = Router(tags=["customers"])


def _actor(request: HttpRequest) -> User | None:
    user = getattr(request, "auth", None) or getattr(request, "user", None)
    return user if isinstance(user, User) else None


@router.get(
    "/search", response=responses(SearchOut), summary="Search known problems (semantic ranking + text match)"
)
def search(request: HttpRequest, q: str = "", limit: int = 10) -> dict[str, Any]:
    if not q.strip():
        raise FieldError("q", "must not be empty")
    if len(q) > 2000:
        raise FieldError("q", "at most 2000 characters")
    if not 1 <= limit <= 50:
        raise FieldError("limit", "must be between 1 and 50")
    return {"q": q, "results": services.search(q, limit=limit)}


@router.get("/problems", response=responses(ProblemListOut), summary="All known problems")
def list_problems(
    request: HttpRequest, category: str | None = None, active: bool | None = None
) -> dict[str, Any]:
    qs = KnownProblem.objects.order_by("title")
    if category:
        if category not in Category.values:
            raise FieldError("category", f"{category!r} is not one of: {', '.join(Category.values)}")
        qs = qs.filter(category=category)
    if active is not None:
        qs = qs.filter(active=active)
    return {"items": list(qs)}


@router.get(
    "/problems/{problem_id}",
    response=responses(ProblemDetailOut, 404),
    summary="One known problem with its example phrasings",
)
def get_problem(request: HttpRequest, problem_id: int) -> KnownProblem:
    return get_object_or_404(KnownProblem.objects.prefetch_related("phrasings"), pk=problem_id)


class ArticleIn(Schema):
    url: str = Field("", max_length=500)
    title: str = Field("", max_length=300)
    id: str = Field("", max_length=200)


class ProblemIn(Schema):
    title: str = Field(..., min_length=1, max_length=300)
    title_en: str = Field("", max_length=300)
    key: str = Field("", max_length=100)
    category: str = "other"
    symptoms: str = Field("", max_length=services.MAX_TEXT)
    solution_steps: str = Field("", max_length=services.MAX_TEXT)
    customer_hints: str = Field("", max_length=services.MAX_TEXT)
    articles: list[ArticleIn] = Field(default_factory=list, max_length=services.MAX_ARTICLES)
    phrasings: list[str] = Field(default_factory=list, max_length=services.MAX_PHRASINGS)
    active: bool = True


def _data(payload: ProblemIn) -> services.ProblemData:
    return services.ProblemData(
        title=payload.title,
        title_en=payload.title_en,
        key=payload.key,
        category=payload.category,
        symptoms=payload.symptoms,
        solution_steps=payload.solution_steps,
        customer_hints=payload.customer_hints,
        articles=[a.dict() for a in payload.articles],
        phrasings=payload.phrasings,
        active=payload.active,
    )


@router.post(
    "/problems", response=responses(ProblemDetailOut, 413, status=201), summary="Create a known problem"
)
@api_permission(Action.EDIT_KNOWLEDGE)
def create_problem(request: HttpRequest, payload: ProblemIn) -> HttpStatus[KnownProblem]:
    problem = services.create_known_problem(_data(payload), actor=_actor(request))
    return HttpStatus(201, problem)


@router.put(
    "/problems/{problem_id}",
    response=responses(ProblemDetailOut, 404, 413),
    summary="Replace a known problem (phrasings included)",
)
@api_permission(Action.EDIT_KNOWLEDGE)
def update_problem(request: HttpRequest, problem_id: int, payload: ProblemIn) -> KnownProblem:
    problem = get_object_or_404(KnownProblem, pk=problem_id)
    return services.update_known_problem(problem, _data(payload), actor=_actor(request))


@router.get(
    "/export",
    response=responses(ExportOut),
    exclude_unset=True,
    summary="The whole knowledge base in the import format",
)
def export(request: HttpRequest) -> dict[str, Any]:
    return transfer.export_data()


@router.post(
    "/import",
    response=responses(ImportOut, 413),
    summary="Import known problems (same shape as the export; by key)",
)
@api_permission(Action.EDIT_KNOWLEDGE)
def import_(request: HttpRequest) -> transfer.ImportResult:
    # The parser already turned the JSON body into a dict; validate it as one document.
    data = transfer.parse(request.body, "json")
    return transfer.import_data(data, actor=_actor(request))


@router.get(
    "/cases/{case_id}",
    response=responses(CaseKnowledgeOut, 404),
    summary="Suggestions for a case, why, and similar past cases",
)
def case_knowledge(request: HttpRequest, case_id: int) -> dict[str, Any]:
    case = get_object_or_404(Case.objects.select_related("customer"), pk=case_id)
    return {
        "case_id": case.pk,
        "suggestions": services.suggestions_for(case),
        "match": services.match_reason(case),
        "similar_cases": services.similar_cases_for(case),
    }


@router.post(
    "/cases/{case_id}/recompute",
    response=responses(RecomputeOut, 404),
    summary="Match the case again against the current KB",
)
@api_permission(Action.EDIT_KNOWLEDGE)
def recompute(request: HttpRequest, case_id: int) -> dict[str, Any]:
    case = get_object_or_404(Case.objects.select_related("customer"), pk=case_id)
    services.compute_suggestions(case)
    return {
        "case_id": case.pk,
        "suggestions": services.suggestions_for(case),
        "match": services.match_reason(case),
    }


def _decided(suggestion: Suggestion) -> dict[str, Any]:
    case = Case.objects.select_related("customer").get(pk=suggestion.case_id)
    current = next(s for s in services.suggestions_for(case) if s["id"] == suggestion.pk)
    return {"suggestion": current, "case_category": case.category}


@router.post(
    "/suggestions/{suggestion_id}/confirm",
    response=responses(DecisionOut, 404),
    summary="Confirm a suggestion (the KB learns)",
)
@api_permission(Action.EDIT_KNOWLEDGE)
def confirm(request: HttpRequest, suggestion_id: int) -> dict[str, Any]:
    suggestion = get_object_or_404(Suggestion, pk=suggestion_id)
    return _decided(services.confirm_suggestion(suggestion, actor=_actor(request), actor_label="api"))


@router.post(
    "/suggestions/{suggestion_id}/reject", response=responses(DecisionOut, 404), summary="Reject a suggestion"
)
@api_permission(Action.EDIT_KNOWLEDGE)
def reject(request: HttpRequest, suggestion_id: int) -> dict[str, Any]:
    suggestion = get_object_or_404(Suggestion, pk=suggestion_id)
    return _decided(services.reject_suggestion(suggestion, actor=_actor(request), actor_label="api"))


class ArticleViewIn(Schema):
    article: str = Field(..., min_length=1, max_length=500)
    title: str = Field("", max_length=300)
    # 2000-01-01 … now + 1 day (core.validation)
    viewed_at: ReceivedAt | None = None
    source: str = Field("api", max_length=50)


def _customer(customer_id: int) -> Customer:
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        raise HttpError(404, f"customer_id: no customer {customer_id}")
    return customer


@customers_router.post(
    "/{customer_id}/article-views",
    response={**responses(ArticleViewCreatedOut, 404, 413), 201: ArticleViewCreatedOut},
    summary="Record a help article the customer read (idempotent on article + viewed_at)",
)
@api_permission(Action.EDIT_KNOWLEDGE)
def post_article_view(
    request: HttpRequest, customer_id: int, payload: ArticleViewIn
) -> HttpStatus[ArticleView]:
    customer = _customer(customer_id)
    view, created = services.record_article_view_created(
        customer, payload.article, title=payload.title, viewed_at=payload.viewed_at, source=payload.source
    )
    view.created = created  # type: ignore[attr-defined]
    return HttpStatus(201 if created else 200, view)


@customers_router.get(
    "/{customer_id}/article-views",
    response=responses(ArticleViewsOut, 404),
    summary="Help articles the customer read",
)
def get_article_views(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    customer = _customer(customer_id)
    return {
        "customer_id": customer.pk,
        "items": services.articles_read_by(customer),
    }
