"""The team in the loop on the pages (issue 18): "Gleiches Problem wie …?" ja / nein (case page,
early warning), „Aufteilen“ / „Ein Problem“ for a near miss (incident page), and „Störung
eröffnen“ (case page, group page; the list's bulk action is in `cases.views`). Thin: every write is
a flow of `sirene.flows.team_loop`."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sirene.accounts.models import User
from sirene.accounts.permissions import Action, permission_required
from sirene.cases.models import Case
from sirene.flows import team_loop as flows
from sirene.incidents.models import EarlyWarning, Incident, ProblemGroup, SameProblemAnswer
from sirene.incidents.services import IncidentError

SOURCES = {SameProblemAnswer.Source.CASE, SameProblemAnswer.Source.WARNING}


def _user(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


def _back(request: HttpRequest, default: str) -> HttpResponse:
    back = request.POST.get("back", "")
    if back.startswith("/") and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect(default)


def _id(request: HttpRequest, name: str) -> int | None:
    raw = request.POST.get(name, "")
    return int(raw) if raw.isdigit() else None


@permission_required(Action.CORRECT_GROUPS)
@require_POST
def same_problem(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(Case.objects.select_related("customer"), pk=case_id)
    answer = request.POST.get("answer", "")
    if answer not in ("yes", "no"):
        messages.error(request, _("Please answer yes or no."))
        return _back(request, case.get_absolute_url())
    group_id, incident_id = _id(request, "group"), _id(request, "incident")
    group = ProblemGroup.objects.filter(pk=group_id).first() if group_id else None
    incident = Incident.objects.filter(pk=incident_id).first() if incident_id else None
    if group is None and incident is None:
        messages.error(request, _("Please choose an existing problem group."))
        return _back(request, case.get_absolute_url())
    source = request.POST.get("source", SameProblemAnswer.Source.CASE)
    source = source if source in SOURCES else SameProblemAnswer.Source.CASE
    warning_id = _id(request, "warning")
    also = None
    if source == SameProblemAnswer.Source.WARNING and warning_id:
        warning = EarlyWarning.objects.filter(pk=warning_id).first()
        also = list(warning.cases.all()) if warning is not None and answer == "yes" else None
    try:
        done = flows.answer_same_problem(
            case, same=answer == "yes", group=group, incident=incident, user=_user(request), source=source, also=also
        )
    except IncidentError as exc:
        messages.error(request, str(exc))
        return _back(request, case.get_absolute_url())
    if done.answer == "yes":
        if done.incident is not None:
            messages.success(
                request,
                _("Linked as the same problem: case #%(case)s is part of INC-%(inc)s.")
                % {"case": case.pk, "inc": done.incident.pk},
            )
        else:
            messages.success(
                request,
                _("Linked as the same problem: case #%(case)s now counts for G-%(group)s.")
                % {"case": case.pk, "group": done.group_id},
            )
    else:
        messages.success(
            request, _("Kept apart: case #%(case)s no longer counts for this problem.") % {"case": case.pk}
        )
    return _back(request, case.get_absolute_url())


@permission_required(Action.CORRECT_GROUPS)
@require_POST
def near_miss_split(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    try:
        new = flows.split_near_miss(incident, user=_user(request))
    except IncidentError as exc:
        messages.error(request, str(exc))
        return redirect(incident)
    messages.success(request, _("Split: the smaller part is now problem group G-%(g)s.") % {"g": new.pk})
    return redirect(incident)


@permission_required(Action.CORRECT_GROUPS)
@require_POST
def near_miss_keep(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    try:
        flows.keep_near_miss(incident, user=_user(request))
    except IncidentError as exc:
        messages.error(request, str(exc))
        return redirect(incident)
    messages.success(request, _("Noted: one problem."))
    return redirect(incident)


@permission_required(Action.OPEN_INCIDENT)
@require_POST
def open_for_case(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(Case.objects.select_related("customer"), pk=case_id)
    try:
        incident = flows.open_for_cases([case], user=_user(request), title=request.POST.get("title", ""))
    except IncidentError as exc:
        messages.error(request, str(exc))
        return redirect(case)
    messages.success(request, _("Incident INC-%(n)s opened.") % {"n": incident.pk})
    return redirect(incident)


@permission_required(Action.OPEN_INCIDENT)
@require_POST
def open_for_group(request: HttpRequest, group_id: int) -> HttpResponse:
    group = get_object_or_404(ProblemGroup, pk=group_id)
    try:
        incident = flows.open_for_group(group, user=_user(request), title=request.POST.get("title", ""))
    except IncidentError as exc:
        messages.error(request, str(exc))
        return redirect(group)
    messages.success(request, _("Incident INC-%(n)s opened.") % {"n": incident.pk})
    return redirect(incident)
