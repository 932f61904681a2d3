"""Web UI for incidents and problem groups. Thin: every write goes to `services`."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from sirene.accounts.models import User
from sirene.accounts.permissions import Action, permission_required
from sirene.cases.models import Case, Reproduced
from sirene.core import clock
from sirene.core.errors import FieldError
from sirene.flows import incidents as incident_flows
from sirene.incidents import charts, detection, services, timeline
from sirene.incidents.brief import facets as brief_facets
from sirene.incidents.models import Incident, IncidentStatus, ProblemGroup
from sirene.incidents.title import incident_sentence

ATTRIBUTE_LABELS = {
    "platform": gettext_lazy("Mobile vs desktop"),
    "device": gettext_lazy("Device"),
    "os": gettext_lazy("Operating system"),
    "browser": gettext_lazy("Browser"),
    "app_version": gettext_lazy("App version"),
    "client": gettext_lazy("App or web"),
    "email_domain": gettext_lazy("E-mail domain"),
    "email_provider": gettext_lazy("E-mail provider"),
    "club_member": gettext_lazy("Club membership"),
    "plan": gettext_lazy("Plan"),
    "country": gettext_lazy("Country"),
    "language": gettext_lazy("Language"),
}


def _user(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


def _back(incident: Incident) -> HttpResponse:
    return redirect("incidents:detail", incident.pk)


@login_required
def incident_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or ""
    qs = Incident.objects.all()
    if status in IncidentStatus.values:
        qs = qs.filter(status=status)
    incidents = list(qs[:100])
    now = clock.now()
    # Every listed incident's report times in one read (not one per incident).
    times_of: dict[int, list[Any]] = defaultdict(list)
    links = Incident.cases.through.objects.filter(incident_id__in=[i.pk for i in incidents])
    for incident_id, received_at in links.values_list("incident_id", "case__received_at"):
        times_of[incident_id].append(received_at)
    rows = []
    for incident in incidents:
        times = times_of[incident.pk]
        rows.append(
            {"incident": incident, "chart": charts.incident_sparkline(times, now, label=incident.title)}
        )
    return render(
        request,
        "incidents/list.html",
        {
            "rows": rows,
            "status": status,
            "statuses": IncidentStatus.choices,
            "warnings": detection.live_warnings(),
        },
    )


@login_required
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    return _detail(request, incident_id)


def _detail(request: HttpRequest, incident_id: int, preview: dict[str, Any] | None = None) -> HttpResponse:
    incident = get_object_or_404(Incident.objects.select_related("group"), pk=incident_id)
    brief = incident.brief_data
    thread = [
        {
            **f,
            "label": str(ATTRIBUTE_LABELS.get(f["attribute"], f["attribute"])),
            "pct": round(f["share"] * 100),
            "base_pct": round(f["baseline_share"] * 100),
        }
        for f in brief_facets([f.model_dump() for f in brief.common_thread])
    ]
    times = list(incident.cases.values_list("received_at", flat=True))
    return render(
        request,
        "incidents/detail.html",
        {
            "incident": incident,
            "brief": brief,
            "thread": thread,
            "rate": brief.rate,
            "what": brief.what,
            "events": timeline.lines(incident.events.select_related("actor")),
            "cases": services.linked_cases(incident)[:200],
            "chart": charts.incident_sparkline(times, clock.now(), label=incident.title),
            "reproduced_choices": Reproduced.choices,
            "preview": preview,
            "what_sentence": incident_sentence(incident),
            "customer_text_default": (preview or {}).get("customer_text")
            or incident.customer_text
            or incident_flows.default_customer_text(incident),
            "can_edit": bool(_user(request) and _user(request).is_lead),  # type: ignore[union-attr]
            "after": _after_siren(incident),
        },
    )


@permission_required(Action.ACKNOWLEDGE_INCIDENT)
@require_POST
def incident_ack(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    try:
        taken = incident_flows.take_over(incident, user=_user(request), via="web")
    except incident_flows.NotAResponder:
        messages.error(request, _("Only the people of this incident's escalation or a lead can take it over."))
        return _back(incident)
    if taken:
        messages.success(request, _("Incident acknowledged."))
    else:
        messages.info(request, _("The incident was already acknowledged."))
    return _back(incident)


@permission_required(Action.RESOLVE_INCIDENT)
@require_POST
def incident_resolve_preview(request: HttpRequest, incident_id: int) -> HttpResponse:
    """Step one of resolving: the exact reply and how many customers get it; nothing is sent yet."""
    incident = get_object_or_404(Incident, pk=incident_id)
    resolution = request.POST.get("resolution", "").strip()
    customer_text = request.POST.get("customer_text", "").strip()
    if not resolution:
        messages.error(request, _("Please describe the resolution."))
        return _back(incident)
    data = incident_flows.resolve_preview(incident, customer_text)
    data.update(resolution=resolution, customer_text=customer_text)
    return _detail(request, incident.pk, preview=data)


@permission_required(Action.RESOLVE_INCIDENT)
@require_POST
def incident_resolve(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    try:
        done = incident_flows.resolve(
            incident,
            resolution=request.POST.get("resolution", ""),
            customer_text=request.POST.get("customer_text", ""),
            user=_user(request),
            also_notify=[int(x) for x in request.POST.getlist("also_notify") if x.isdigit()],
        )
    except services.IncidentError as exc:
        if exc.field == "customer_text":
            messages.error(request, exc.message)
        else:
            messages.error(request, _("Please describe the resolution."))
        return _back(incident)
    except FieldError as exc:  # ★ sweep: a ticked report another incident took meanwhile
        messages.error(request, str(exc))
        return _back(incident)
    if done:
        messages.success(request, _("Incident resolved."))
    else:
        messages.info(request, _("The incident was already resolved."))
    return _back(incident)


@permission_required(Action.POST_STATUS_UPDATE)
@require_POST
def incident_rename(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    user = _user(request)  # a lead: @permission_required(POST_STATUS_UPDATE) admitted only leads
    try:
        services.rename(
            incident,
            title=request.POST.get("title", ""),
            customer_title=request.POST.get("customer_title", ""),
            user=user,
        )
        messages.success(request, _("Titles saved."))
    except services.IncidentError as exc:
        messages.error(request, str(exc))
    return _back(incident)


@permission_required(Action.POST_STATUS_UPDATE)
@require_POST
def incident_publish(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    user = _user(request)  # a lead: @permission_required(POST_STATUS_UPDATE) admitted only leads
    try:
        services.publish(
            incident,
            published=request.POST.get("published") == "1",
            text=request.POST.get("public_text", ""),
            user=user,
        )
        messages.success(request, _("Status page saved."))
    except services.IncidentError as exc:
        messages.error(request, str(exc))
    return _back(incident)


@permission_required(Action.RECORD_TEST_CHECK)
@require_POST
def incident_test_check(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    try:
        services.set_test_check(
            incident, request.POST.get("reproduced", ""), request.POST.get("note", ""), user=_user(request)
        )
    except services.IncidentError as exc:
        messages.error(request, str(exc))
    return _back(incident)


@login_required
def group_detail(request: HttpRequest, group_id: int) -> HttpResponse:
    group = get_object_or_404(ProblemGroup, pk=group_id)
    members = group.memberships.select_related("case", "case__customer").order_by("-received_at")[:300]
    # Empty groups (emptied when detection moved their cases into a new one) are no merge target.
    others = ProblemGroup.objects.filter(merged_into__isnull=True, count__gt=0).exclude(pk=group.pk)[:200]
    return render(
        request,
        "incidents/group.html",
        {
            "group": group,
            "members": members,
            "others": others,
            "rate": services.rate_facts(group),
            "incident": services.live_incident(group),
        },
    )


def _group_or_error(request: HttpRequest, name: str) -> ProblemGroup | None:
    raw = request.POST.get(name, "")
    group = ProblemGroup.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
    if group is None:
        messages.error(request, _("Please choose an existing problem group."))
    return group


@permission_required(Action.CORRECT_GROUPS)
@require_POST
def group_merge(request: HttpRequest, group_id: int) -> HttpResponse:
    group = get_object_or_404(ProblemGroup, pk=group_id)
    target = _group_or_error(request, "into")
    if target is None:
        return redirect(group)
    try:
        incident_flows.merge_groups(group, target, user=_user(request))
    except services.IncidentError as exc:
        messages.error(request, str(exc))
        return redirect(group)
    messages.success(request, _("Groups merged."))
    return redirect(target)


@permission_required(Action.CORRECT_GROUPS)
@require_POST
def group_split(request: HttpRequest, group_id: int) -> HttpResponse:
    group = get_object_or_404(ProblemGroup, pk=group_id)
    ids = [int(x) for x in request.POST.getlist("case") if x.isdigit()]
    try:
        new = incident_flows.split_group(group, list(Case.objects.filter(pk__in=ids)), user=_user(request))
    except services.IncidentError as exc:
        messages.error(request, str(exc))
        return redirect(group)
    messages.success(request, _("Group split."))
    return redirect(new)


@permission_required(Action.CORRECT_GROUPS)
@require_POST
def case_move(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(Case, pk=case_id)
    target = _group_or_error(request, "group")
    if target is not None:
        try:
            incident_flows.move_case(case, target, user=_user(request))
            messages.success(request, _("Case moved to another problem group."))
        except services.IncidentError as exc:
            messages.error(request, str(exc))
    return redirect(case)


# -- ★ after the siren (issue 21): trend, silence after the fix, answers after resolving, reopen, Probelauf --


def _after_siren(incident: Incident) -> dict[str, Any]:
    from sirene.incidents import afterwards

    fix = afterwards.after_fix(incident)
    answers = incident_flows.after_resolution(incident)
    return {
        "trend": afterwards.trend(incident),
        "fix": fix,
        "percent": None if fix is None else max(fix.probability * 100, 0.0),
        "suggest_resolve": bool(fix and fix.suggest_resolve and incident.status != IncidentStatus.RESOLVED),
        "answers": answers,
        "offer_reopen": bool(answers.get("alert") or answers.get("still_broken")),
    }


@permission_required(Action.RESOLVE_INCIDENT)
@require_POST
def incident_reopen(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    raw = request.POST.get("policy_id", "")
    try:
        done = incident_flows.reopen(incident, user=_user(request), policy_id=int(raw) if raw.isdigit() else None)
    except FieldError as exc:
        messages.error(request, str(exc))
        return _back(incident)
    if done:
        messages.success(request, _("Incident reopened; the escalation starts again."))
    else:
        messages.info(request, _("The incident is not resolved."))
    return _back(incident)


@permission_required(Action.EDIT_RULES)
def rule_dry_run(request: HttpRequest) -> HttpResponse:
    """Probelauf: the proposed rule replayed over the stored reports (nothing written, nothing sent)."""
    from sirene.cases.models import Category
    from sirene.incidents import dryrun

    values: dict[str, Any] = {
        "category": request.POST.get("category", request.GET.get("category", "other")),
        "known_problem_key": request.POST.get("known_problem_key", request.GET.get("known_problem_key", "")),
        "threshold": request.POST.get("threshold", request.GET.get("threshold", "5")),
        "window_hours": request.POST.get("window_hours", request.GET.get("window_hours", "24")),
        "pages": request.POST.get("pages", "1" if request.method != "POST" else "") in ("1", "on", "true"),
        "days": request.POST.get("days", str(dryrun.DEFAULT_DAYS)),
    }
    result = None
    error = ""
    status = 200
    if request.method == "POST":
        try:
            proposal, days = dryrun.check(**values)
            result = dryrun.dry_run(proposal, days)
        except FieldError as exc:
            error, status = str(exc), 422
    return render(
        request,
        "incidents/dry_run.html",
        {"values": values, "result": result, "error": error, "categories": Category.choices},
        status=status,
    )
