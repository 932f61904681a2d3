"""Escalation web UI: people, absences (incl. iCalendar import), policies with live preview, runs.
Thin: every write goes to `services`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.dates import WEEKDAYS
from django.utils.timezone import make_aware
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sirene.accounts.models import User
from sirene.accounts.permissions import Action, can, permission_required
from sirene.core import validation
from sirene.core.validation import safe_next
from sirene.escalation import calendar, preview_text, services
from sirene.escalation.models import (
    Absence,
    AbsenceKind,
    OnCallShift,
    Person,
    PersonRole,
    Policy,
    Run,
    Step,
    StepKind,
    Task,
)
from sirene.flows import incidents as incident_flows
from sirene.incidents.models import Incident


def _user(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


def _is_lead(request: HttpRequest) -> bool:
    return can(request.user, Action.EDIT_POLICIES)


@login_required
def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "escalation/index.html",
        {
            "people": Person.objects.all(),
            "absences": Absence.objects.select_related("person").filter(ends_at__gte=services.now_plus(0))[
                :100
            ],
            "policies": Policy.objects.prefetch_related("steps"),
            "rota": OnCallShift.objects.select_related("person").exclude(ends_at__lt=services.now_plus(0)),
            "weekdays": list(WEEKDAYS.items()),
            "runs": Run.objects.select_related("incident").order_by("-started_at")[:30],
            "problems": services.integration_problems() if _is_lead(request) else [],
            "roles": PersonRole.choices,
            "absence_kinds": AbsenceKind.choices,
            "open_tasks": Task.objects.filter(done_at__isnull=True).select_related("person", "run__incident"),
        },
    )


@permission_required(Action.EDIT_PEOPLE)
@require_POST
def person_save(request: HttpRequest) -> HttpResponse:
    person = get_object_or_404(Person, pk=request.POST["id"]) if request.POST.get("id") else None
    try:
        services.save_person(
            person,
            name=request.POST.get("name", "").strip(),
            slack_user_id=request.POST.get("slack_user_id", "").strip(),
            phone=request.POST.get("phone", "").strip(),
            time_zone=request.POST.get("time_zone", "Europe/Berlin").strip() or "Europe/Berlin",
            role=request.POST.get("role", PersonRole.RESPONDER),
            work_days="".join(sorted(set(request.POST.getlist("work_days")))),
            work_start=request.POST.get("work_start", "").strip() or "08:00",
            work_end=request.POST.get("work_end", "").strip() or "18:00",
        )
    except services.EscalationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Saved."))
    return redirect("escalation:index")


def _parse_when(raw: str) -> dt.datetime | None:
    value = parse_datetime(raw or "")
    if value is None:
        return None
    return make_aware(value) if value.tzinfo is None else value


@permission_required(Action.EDIT_PEOPLE)
@require_POST
def absence_add(request: HttpRequest) -> HttpResponse:
    person = get_object_or_404(Person, pk=request.POST.get("person") or 0)
    try:
        services.add_absence(
            person,
            starts_at=_parse_when(request.POST.get("starts_at", "")),
            ends_at=_parse_when(request.POST.get("ends_at", "")),
            kind=request.POST.get("kind", AbsenceKind.VACATION),
            note=request.POST.get("note", ""),
        )
    except services.EscalationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Absence saved."))
    return redirect("escalation:index")


def _parse_time(raw: str) -> dt.time | None:
    try:
        return dt.time.fromisoformat((raw or "").strip())
    except ValueError:
        return None


@permission_required(Action.EDIT_PEOPLE)
@require_POST
def on_call_add(request: HttpRequest) -> HttpResponse:
    """A rota entry: a weekly on-call slot, or an override for a date range (Rufbereitschaft)."""
    person = get_object_or_404(Person, pk=request.POST.get("person") or 0)
    weekday_raw = request.POST.get("weekday", "")
    try:
        services.add_on_call_shift(
            person,
            weekday=int(weekday_raw) if weekday_raw.isdigit() else None,
            start=_parse_time(request.POST.get("start", "")),
            end=_parse_time(request.POST.get("end", "")),
            starts_at=_parse_when(request.POST.get("starts_at", "")) if request.POST.get("starts_at") else None,
            ends_at=_parse_when(request.POST.get("ends_at", "")) if request.POST.get("ends_at") else None,
            note=request.POST.get("note", ""),
        )
    except services.EscalationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Saved."))
    return redirect("escalation:index")


@permission_required(Action.EDIT_PEOPLE)
@require_POST
def on_call_delete(request: HttpRequest, shift_id: int) -> HttpResponse:
    get_object_or_404(OnCallShift, pk=shift_id).delete()
    return redirect("escalation:index")


@permission_required(Action.EDIT_PEOPLE)
@require_POST
def absence_delete(request: HttpRequest, absence_id: int) -> HttpResponse:
    services.delete_absence(get_object_or_404(Absence, pk=absence_id))
    return redirect("escalation:index")


@permission_required(Action.EDIT_PEOPLE)
@require_POST
def absence_import(request: HttpRequest) -> HttpResponse:
    person = get_object_or_404(Person, pk=request.POST.get("person") or 0)
    upload = request.FILES.get("file")
    url = request.POST.get("url", "").strip()
    try:
        if upload is not None:
            count = calendar.import_absences(person, upload.read(), source=upload.name or "upload")
        elif url:
            count = calendar.import_absences_from_url(person, url)
        else:
            raise services.EscalationError("file", _("choose a file or enter a URL"))
    except services.EscalationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("%(count)d absences imported.") % {"count": count})
    return redirect("escalation:index")


@login_required
def policy_detail(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy = get_object_or_404(Policy, pk=policy_id)
    snapshot = services.snapshot_of(policy)
    absent = request.GET.getlist("absent")
    no_answer = request.GET.getlist("no_answer")
    ack_raw = request.GET.get("ack_at", "").strip()
    error = ""
    lines: list[Any] = []
    try:
        ack_at = validation.parse_finite(ack_raw, high=366 * 24 * 3600) if ack_raw else None
        lines = services.preview(snapshot, absent=absent, no_answer=no_answer, ack_at=ack_at)
    except ValueError as exc:
        error = str(exc)
    return render(
        request,
        "escalation/policy.html",
        {
            "policy": policy,
            "steps": policy.steps.select_related("person")
            .prefetch_related("mentions")
            .order_by("position", "id"),
            "people": Person.objects.all(),
            "kinds": StepKind.choices,
            "preview": preview_text.lines(lines),
            "on_call_preview": services.on_call_preview(snapshot),
            "absent": absent,
            "no_answer": no_answer,
            "ack_at": ack_raw,
            "error": error,
        },
    )


@permission_required(Action.EDIT_POLICIES)
@require_POST
def policy_create(request: HttpRequest) -> HttpResponse:
    try:
        policy = services.create_policy(request.POST.get("name", ""))
    except services.EscalationError as exc:
        messages.error(request, str(exc))
        return redirect("escalation:index")
    return redirect("escalation:policy", policy.pk)


@permission_required(Action.EDIT_POLICIES)
@require_POST
def step_add(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy = get_object_or_404(Policy, pk=policy_id)
    post = request.POST

    def number(name: str, default: int) -> int:
        raw = post.get(name, "").strip()
        return int(raw) if raw.isdigit() else default

    person = Person.objects.filter(pk=post.get("person") or 0).first()
    try:
        services.add_step(
            policy,
            kind=post.get("kind", ""),
            channel=post.get("channel", "").strip(),
            mentions=list(Person.objects.filter(pk__in=post.getlist("mentions"))),
            person=person,
            minutes=number("minutes", 15),
            attempts=max(1, number("attempts", 2)),
            gap_minutes=number("gap_minutes", 5),
            ring_seconds=max(5, number("ring_seconds", 30)),
            title=post.get("title", "").strip(),
            text=post.get("text", "").strip(),
            repeat_times=number("repeat_times", 1),
            repeat_from=number("repeat_from", 1),
        )
    except services.EscalationError as exc:
        messages.error(request, str(exc))
    return redirect("escalation:policy", policy.pk)


def _step_label(field: str) -> str:
    return {
        "minutes": _("Wait (minutes)"),
        "attempts": _("Attempts"),
        "gap_minutes": _("Minutes between attempts"),
        "ring_seconds": _("Ring seconds"),
        "repeat_times": _("Repeat times"),
        "repeat_from": _("Repeat from step"),
        "channel": _("Channel"),
        "person": _("Person"),
        "title": _("Task"),
    }.get(field, field)


@permission_required(Action.EDIT_POLICIES)
@require_POST
def step_change(request: HttpRequest, step_id: int) -> HttpResponse:
    step = get_object_or_404(Step, pk=step_id)
    action = request.POST.get("action")
    if action == "save":
        post = request.POST
        fields: dict[str, Any] = {}
        for name in ("minutes", "attempts", "gap_minutes", "ring_seconds", "repeat_times", "repeat_from"):
            if name in post:
                raw = post.get(name, "").strip()
                if not raw.isdigit():
                    messages.error(request, _("%(field)s: enter a whole number of 0 or more.") % {"field": _step_label(name)})
                    return redirect("escalation:policy", step.policy_id)
                fields[name] = int(raw)
        for name in ("channel", "title", "text"):
            if name in post:
                fields[name] = post.get(name, "").strip()
        if "person" in post:
            fields["person"] = Person.objects.filter(pk=post.get("person") or 0).first()
        try:
            changed = services.update_step(step, user=_user(request), **fields)
        except services.EscalationError as exc:
            messages.error(request, f"{_step_label(exc.field)}: {_(exc.message)}")
        else:
            messages.success(request, _("Step saved.") if changed else _("Nothing changed."))
        return redirect(f"{reverse('escalation:policy', args=[step.policy_id])}?{request.POST.get('preview', '')}")
    if action == "delete":
        services.remove_step(step)
    elif action in ("up", "down"):
        services.move_step(step, -1 if action == "up" else 1)
    return redirect("escalation:policy", step.policy_id)


@permission_required(Action.POST_STATUS_UPDATE)
@require_POST
def status_update(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    try:
        services.post_status_update(
            incident,
            request.POST.get("text", ""),
            user=_user(request),
            fix_deployed=request.POST.get("fix_deployed") == "1",
        )
    except services.EscalationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Status update posted."))
    return redirect("incidents:detail", incident.pk)


@permission_required(Action.ACKNOWLEDGE_INCIDENT)
@require_POST
def acknowledge(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    try:
        taken = incident_flows.take_over(incident, user=_user(request), via="web")
    except incident_flows.NotAResponder:
        messages.error(request, _("Only the people of this incident's escalation or a lead can take it over."))
        return redirect("incidents:detail", incident.pk)
    if taken:
        messages.success(request, _("Acknowledged: the escalation stops."))
    else:
        messages.info(request, _("This incident was already acknowledged."))
    return redirect("incidents:detail", incident.pk)


@permission_required(Action.ACKNOWLEDGE_INCIDENT)
@require_POST
def escalate_now(request: HttpRequest, incident_id: int) -> HttpResponse:
    """"Jetzt eskalieren": the next step (the next person's calls) starts now."""
    incident = get_object_or_404(Incident, pk=incident_id)
    run = services.run_of(incident)
    user = _user(request)
    if run is not None and services.escalate_now(run, user.display_name() if user else "sirene"):
        messages.success(request, _("Escalating now: the next step starts."))
    else:
        messages.info(request, _("This incident is not escalating any more."))
    return redirect("incidents:detail", incident.pk)


@permission_required(Action.COMPLETE_TASK)
@require_POST
def task_done(request: HttpRequest, task_id: int) -> HttpResponse:

    task = get_object_or_404(Task, pk=task_id)
    services.complete_task(task, user=_user(request), not_needed=request.POST.get("not_needed") == "1")
    return redirect(safe_next(request, reverse("incidents:detail", args=[task.run.incident_id])))
