"""Knowledge-base web UI. Thin: every write goes through services/transfer."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sirene.accounts.models import User
from sirene.accounts.permissions import Action, permission_required
from sirene.cases.models import Case, Category
from sirene.knowledge import services, transfer
from sirene.knowledge.forms import KnownProblemForm
from sirene.knowledge.models import KnownProblem, Suggestion, SuggestionState


def _user(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


@login_required
def problem_list(request: HttpRequest) -> HttpResponse:
    q = (request.GET.get("q") or "").strip()
    category = request.GET.get("category") or ""
    results = services.search(q, limit=20) if q else None
    problems = KnownProblem.objects.annotate(
        n_phrasings=Count("phrasings", distinct=True),
        n_confirmed=Count(
            "suggestions", filter=Q(suggestions__state=SuggestionState.CONFIRMED), distinct=True
        ),
    ).order_by("-active", "title")
    if category in Category.values:
        problems = problems.filter(category=category)
    return render(
        request,
        "knowledge/list.html",
        {
            "q": q,
            "results": results,
            "problems": problems,
            "categories": Category.choices,
            "category": category,
        },
    )


@login_required
def problem_detail(request: HttpRequest, problem_id: int) -> HttpResponse:
    problem = get_object_or_404(KnownProblem, pk=problem_id)
    confirmed = (
        Suggestion.objects.filter(known_problem=problem, state=SuggestionState.CONFIRMED)
        .select_related("case")
        .order_by("-decided_at")[:20]
    )
    return render(
        request,
        "knowledge/detail.html",
        {"problem": problem, "phrasings": problem.phrasings.all(), "confirmed": confirmed},
    )


def _form_view(request: HttpRequest, problem: KnownProblem | None) -> HttpResponse:
    if request.method == "POST":
        form = KnownProblemForm(request.POST)
        if form.is_valid():
            try:
                if problem is None:
                    problem = services.create_known_problem(form.to_data(), actor=_user(request))
                else:
                    problem = services.update_known_problem(problem, form.to_data(), actor=_user(request))
            except services.KnowledgeError as exc:
                target = exc.field.split(".")[0]
                form.add_error(target if target in form.fields else None, exc.message)
            else:
                messages.success(request, _("Known problem saved."))
                return redirect(problem)
    else:
        form = KnownProblemForm(initial=KnownProblemForm.initial_for(problem) if problem else None)
    return render(request, "knowledge/form.html", {"form": form, "problem": problem})


@permission_required(Action.EDIT_KNOWLEDGE)
def problem_new(request: HttpRequest) -> HttpResponse:
    return _form_view(request, None)


@permission_required(Action.EDIT_KNOWLEDGE)
def problem_edit(request: HttpRequest, problem_id: int) -> HttpResponse:
    return _form_view(request, get_object_or_404(KnownProblem, pk=problem_id))


@permission_required(Action.DELETE_KNOWN_PROBLEM)
@require_POST
def problem_delete(request: HttpRequest, problem_id: int) -> HttpResponse:
    problem = get_object_or_404(KnownProblem, pk=problem_id)
    services.delete_known_problem(problem)
    messages.success(request, _("Known problem deleted."))
    return redirect("knowledge:list")


@permission_required(Action.EDIT_KNOWLEDGE)
def problem_import(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("Choose a YAML or JSON file."))
        elif upload.size and upload.size > transfer.MAX_FILE_BYTES:
            messages.error(request, _("The file is too large (at most 10 MB)."))
        else:
            name = (upload.name or "").lower()
            fmt = "json" if name.endswith(".json") else "yaml" if name.endswith((".yaml", ".yml")) else None
            try:
                result = transfer.import_text(upload.read(), fmt, actor=_user(request))
            except services.KnowledgeError as exc:
                messages.error(request, _("Nothing was imported: %(error)s") % {"error": exc})
            else:
                messages.success(
                    request,
                    _(
                        "Imported: %(created)d new, %(updated)d updated, %(unchanged)d unchanged, %(phrasings)d new phrasings."
                    )
                    % {
                        "created": result.created,
                        "updated": result.updated,
                        "unchanged": result.unchanged,
                        "phrasings": result.phrasings_added,
                    },
                )
                return redirect("knowledge:list")
    return render(request, "knowledge/import.html", {})


@login_required
def problem_export(request: HttpRequest) -> HttpResponse:
    fmt = request.GET.get("format", "yaml")
    if fmt not in {"yaml", "json"}:
        fmt = "yaml"
    body = transfer.export_text(fmt)
    content_type = "application/json" if fmt == "json" else "application/yaml"
    response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="known_problems.{fmt}"'
    return response


@permission_required(Action.EDIT_KNOWLEDGE)
@require_POST
def suggestion_decide(request: HttpRequest, suggestion_id: int, decision: str) -> HttpResponse:
    suggestion = get_object_or_404(Suggestion, pk=suggestion_id)
    if decision == "confirm":
        services.confirm_suggestion(suggestion, actor=_user(request))
        messages.success(request, _("Confirmed. The knowledge base learnt this case's wording."))
    elif decision == "reject":
        services.reject_suggestion(suggestion, actor=_user(request))
        messages.success(request, _("Suggestion rejected."))
    else:
        messages.error(request, _("Unknown decision."))
    return redirect(Case.objects.get(pk=suggestion.case_id))


@permission_required(Action.EDIT_KNOWLEDGE)
@require_POST
def case_recompute(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(Case, pk=case_id)
    services.compute_suggestions(case)
    messages.success(request, _("Suggestions recomputed with the current knowledge base."))
    return redirect(case)
