"""Web UI for tech cases: the tracking list, the case page and its actions. Thin: writes go to services."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from sirene.accounts.models import User
from sirene.accounts.permissions import Action, permission_required, require
from sirene.cases import analysis, history, labels, services
from sirene.cases.api import filter_cases
from sirene.cases.models import Case, Category, Customer, Reproduced, Status
from sirene.core import validation
from sirene.core.memo import page_scope
from sirene.flows import cases as case_flows
from sirene.flows import intake as intake_flow
from sirene.flows import tracking

SORTS = {
    "received": "received_at",
    "-received": "-received_at",
    "updated": "updated_at",
    "-updated": "-updated_at",
    "status": "status",
    "category": "category",
    "id": "id",
    "-id": "-id",
}


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    params = request.GET
    status = params.get("status") or None
    category = params.get("category") or None
    qs = Case.objects.select_related("customer", "owner")
    if status not in Status.values:
        status = None
    if category not in Category.values:
        category = None
    qs = filter_cases(
        qs,
        status=status,
        category=category,
        owner=params.get("owner") or None,
        # The page never errors on a search box: an over-long term is cut, an impossible tag ignored.
        tag=validation.lenient(validation.check_tag, params.get("tag")),
        q=validation.lenient(validation.check_search, (params.get("q") or "")[: validation.MAX_SEARCH]),
    )
    if params.get("open") == "1":
        qs = qs.exclude(status=Status.SOLVED)
    if (params.get("incident") or "").isdigit():
        # The siren post links here: the cases of one incident.
        qs = qs.filter(incidents__pk=int(params["incident"]))
    chips = _filter_chips(params)
    sort = params.get("sort", "-received")
    order = SORTS.get(sort, "-received_at")
    qs = qs.order_by(order, "-id")
    paginator = Paginator(qs, 50)
    page = paginator.get_page(params.get("page"))
    rows = tracking.rows(list(page.object_list))
    query = params.copy()
    query.pop("page", None)
    sort_query = params.copy()
    sort_query.pop("sort", None)
    sort_query.pop("page", None)
    return render(
        request,
        "cases/list.html",
        {
            "page": page,
            "rows": rows,
            "statuses": Status.choices,
            "categories": Category.choices,
            "owners": User.objects.filter(is_active=True).order_by("username"),
            "live_incidents": tracking.live_incidents(),
            "query": query.urlencode(),
            "sort_query": sort_query.urlencode(),
            "sort": sort,
            "f": params,
            "chips": chips,
            "back": request.get_full_path(),
        },
    )


def _filter_chips(params: Any) -> list[dict[str, str]]:
    """The filters in effect, each as a chip with a link that drops it (the Slack link's ?incident=3 was
    invisible: every select said "alle" while the list showed 6 cases)."""
    labels = {
        "q": _("Search"),
        "status": _("Status"),
        "category": _("Category"),
        "owner": _("Owner"),
        "tag": _("Tag"),
        "open": _("open only"),
        "incident": _("Incident"),
    }
    values = {
        "status": dict(Status.choices),
        "category": dict(Category.choices),
    }
    chips = []
    for key, label in labels.items():
        value = (params.get(key) or "").strip()
        if not value:
            continue
        rest = params.copy()
        rest.pop(key, None)
        rest.pop("page", None)
        shown = str(values.get(key, {}).get(value, value))
        if key == "incident":
            shown = f"INC-{value}"
        elif key == "owner" and value == "none":
            shown = str(_("nobody"))
        text = str(label) if key == "open" else f"{label}: {shown}"
        chips.append({"text": text, "without": rest.urlencode()})
    return chips


@permission_required(Action.WORK_ON_CASE)
@require_POST
def case_bulk(request: HttpRequest) -> HttpResponse:
    """One action on the cases ticked in the tracking list: assign, set status or move to an incident."""
    back = request.POST.get("back", "")
    target = back if back.startswith("/cases/") else "cases:list"
    if request.POST.get("action") == "open_incident":  # „Störung eröffnen“ (issue 18)
        require(request.user, Action.OPEN_INCIDENT)
        try:
            incident = tracking.open_incident(request.POST.getlist("ids"), actor=_user(request))
        except services.IntakeError as exc:
            messages.error(request, tracking.error_text(exc))
            return redirect(target)
        messages.success(request, _("Incident INC-%(n)s opened.") % {"n": incident.pk})
        return redirect(incident)
    try:
        done = tracking.bulk(
            request.POST.getlist("ids"),
            request.POST.get("action", ""),
            request.POST.get("value", ""),
            actor=_user(request),
        )
    except services.IntakeError as exc:
        messages.error(request, tracking.error_text(exc))
        return redirect(target)
    messages.success(
        request, ngettext("%(n)d case changed.", "%(n)d cases changed.", done) % {"n": done}
    )
    return redirect(target)


@login_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(Case.objects.select_related("customer", "owner"), pk=case_id)
    # The panels share their reads (suggestions, similar cases, tickets...) for this one render.
    with page_scope():
        return render(
            request,
            "cases/detail.html",
            {
                "case": case,
                "events": history.events(case),
                "attributes": labels.attributes(case.customer.attributes),
                "received_via": labels.received_via(case.source, case.external_id, case.channel),
                "statuses": Status.choices,
                "categories": Category.choices,
                "reproduced_choices": Reproduced.choices,
                "users": User.objects.filter(is_active=True).order_by("username"),
                "other_cases": history.other_cases(case)[:20],
                "analysis_job": analysis.state(case),
            },
        )


@permission_required(Action.WORK_ON_CASE)
@require_POST
def case_analysis_retry(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(Case, pk=case_id)
    if analysis.retry(case, user=_user(request)):
        messages.success(request, _("The analysis is queued again."))
    else:
        messages.info(request, _("Only an analysis that gave up can be retried."))
    return redirect(case)


def _fail(request: HttpRequest, exc: services.IntakeError) -> None:
    messages.error(request, str(exc))


@permission_required(Action.WORK_ON_CASE)
@require_POST
def case_take(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(Case, pk=case_id)
    services.take_ownership(case, _user(request))
    messages.success(request, _("You now own this case."))
    return redirect(case)


@permission_required(Action.WORK_ON_CASE)
@require_POST
def case_assign(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(Case, pk=case_id)
    username = request.POST.get("owner", "")
    owner = User.objects.filter(username=username, is_active=True).first() if username else None
    if username and owner is None:
        messages.error(request, _("Unknown user: %(name)s") % {"name": username})
        return redirect(case)
    services.assign(case, owner, actor=_user(request))
    return redirect(case)


@permission_required(Action.WORK_ON_CASE)
@require_POST
def case_status(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(Case, pk=case_id)
    try:
        case_flows.change_status(
            case, request.POST.get("status", ""), actor=_user(request), note=request.POST.get("note", "")
        )
    except services.IntakeError as exc:
        _fail(request, exc)
    return redirect(case)


@permission_required(Action.WORK_ON_CASE)
@require_POST
def case_category(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(Case, pk=case_id)
    try:
        services.set_category(case, request.POST.get("category", ""), actor=_user(request))
    except services.IntakeError as exc:
        _fail(request, exc)
    return redirect(case)


@permission_required(Action.WORK_ON_CASE)
@require_POST
def case_reproduced(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(Case, pk=case_id)
    try:
        services.set_reproduced(
            case,
            request.POST.get("reproduced", ""),
            request.POST.get("note", "").strip(),
            actor=_user(request),
        )
    except services.IntakeError as exc:
        _fail(request, exc)
    return redirect(case)


@permission_required(Action.WORK_ON_CASE)
@require_POST
def case_note(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(Case, pk=case_id)
    try:
        services.add_note(case, request.POST.get("note", ""), actor=_user(request))
    except services.IntakeError as exc:
        _fail(request, exc)
    return redirect(case)


class CaseForm(forms.Form):
    # Not forms.EmailField: that refuses umlauts in the local part (jürgen@example.de).
    email = forms.CharField(
        label=gettext_lazy("Customer e-mail"), max_length=254, validators=[validation.email_form_validator]
    )
    name = forms.CharField(label=gettext_lazy("Customer name"), required=False, max_length=200)
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=services.MAX_SUBJECT)
    body = forms.CharField(
        label=gettext_lazy("Description"), widget=forms.Textarea, max_length=services.MAX_BODY
    )
    category = forms.ChoiceField(
        label=gettext_lazy("Category"),
        choices=[("", gettext_lazy("Detect automatically")), *Category.choices],
        required=False,
    )
    tags = forms.CharField(label=gettext_lazy("Tags (comma-separated)"), required=False, max_length=500)
    helpdesk_id = forms.CharField(
        label=gettext_lazy("Helpdesk ticket number"), required=False, max_length=100
    )


@permission_required(Action.REPORT_CASE)
def case_new(request: HttpRequest) -> HttpResponse:
    form = CaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        external = data["helpdesk_id"].strip()
        source = "groove" if external else "web"
        try:
            result = intake_flow.report_case(
                services.IntakeData(
                    source=source,
                    external_id=external or uuid.uuid4().hex,
                    subject=data["subject"],
                    body=data["body"],
                    customer=services.CustomerData(email=data["email"], name=data["name"]),
                    tags=[t for t in data["tags"].split(",") if t.strip()],
                    category=data["category"] or None,
                    channel="web",
                    raw_payload={"form": {k: str(v) for k, v in data.items()}},
                    # A person filing the form reports a tech case: its tags are labels (#helga still refuses).
                    require_tech_tag=False,
                ),
                actor=_user(request),
                actor_label="web",
            )
        except services.IntakeError as exc:
            form.add_error(None, str(exc))
        else:
            if not result.tracked:
                messages.error(request, _("Not tracked: %(reason)s") % {"reason": result.reason})
                return render(request, "cases/new.html", {"form": form})
            assert result.case is not None
            if result.created:
                services.take_ownership(result.case, _user(request))
                messages.success(request, _("Case created."))
            else:
                messages.info(request, _("This ticket is already tracked."))
            return redirect(result.case)
    return render(request, "cases/new.html", {"form": form})


@login_required
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=customer_id)
    return render(
        request,
        "cases/customer.html",
        {
            "customer": customer,
            "attributes": labels.attributes(customer.attributes),
            "cases": customer.cases.select_related("owner").order_by("-received_at"),
        },
    )
