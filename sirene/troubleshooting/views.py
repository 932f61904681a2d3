"""Web UI: the workspace actions on the case page, "My cases", "Open questions" and the overdue list.

Thin: every POST parses the form, calls one service and redirects back to the stage it came from.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sirene.accounts.models import User
from sirene.accounts.permissions import Action, permission_required
from sirene.cases.models import Case
from sirene.core.validation import safe_next
from sirene.troubleshooting import queries, services
from sirene.troubleshooting.models import Backup, FollowUp, Reminder, Snapshot


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _rows(cases: Any) -> list[dict[str, Any]]:
    return [{**queries.case_row(c), "case": c} for c in cases]


@login_required
def my_cases(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return render(
        request,
        "troubleshooting/my_cases.html",
        {"rows": _rows(queries.my_cases(user)), "reminders": queries.open_reminders(user)},
    )


@login_required
def open_questions(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "troubleshooting/open_questions.html",
        {"rows": _rows(queries.open_questions(_user(request)))},
    )


@login_required
def overdue(request: HttpRequest) -> HttpResponse:
    return render(
        request, "troubleshooting/overdue.html", {"rows": _rows(queries.overdue_cases(_user(request)))}
    )


@permission_required(Action.WORK_ON_CASE)
@require_POST
def dismiss_reminder(request: HttpRequest, reminder_id: int) -> HttpResponse:
    reminder = get_object_or_404(Reminder, pk=reminder_id, user=_user(request))
    services.dismiss_reminder(reminder, user=_user(request))
    return redirect(safe_next(request, reverse("troubleshooting:my_cases")))


@login_required
def download_backup(request: HttpRequest, case_id: int, backup_id: int) -> HttpResponse:
    backup = get_object_or_404(Backup, pk=backup_id, case_id=case_id)
    if backup.data is None:
        raise Http404("this backup is a reference; the export lives at its location")
    response = HttpResponse(
        json.dumps(backup.data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="case-{case_id}-backup-{backup.pk}.json"'
    response["X-Checksum-SHA256"] = backup.checksum
    return response


# --- POST actions from the workspace panel -----------------------------------------------------------------


def _raw_json(request: HttpRequest) -> str | bytes:
    upload = request.FILES.get("file")
    if upload is not None:
        limit = settings.SNAPSHOT_MAX_BYTES
        if upload.size is not None and upload.size > limit:
            raise services.WorkspaceError("file", f"is larger than {limit} bytes")
        data: bytes = upload.read(limit + 1)
        return data
    return request.POST.get("data", "")


def _int(value: str) -> int:
    return int(value) if value.isdigit() else 0


def _when(value: str, field: str) -> dt.datetime:
    parsed = None
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            parsed = dt.datetime.strptime(value.strip(), fmt)
            break
        except ValueError:
            continue
    if parsed is None:
        raise services.WorkspaceError(field, _("enter a date and time"))
    return timezone.make_aware(parsed)


def _stage(request: HttpRequest, case: Case, user: User) -> str:
    p = request.POST
    stage = p.get("stage", "")
    services.set_stage(case, stage, p.get("state", ""), actor=user, notes=p.get("notes", ""))
    return stage


def _answers(request: HttpRequest, case: Case, user: User) -> str:
    from sirene.troubleshooting.questions import ANSWER_KEYS

    services.record_answers(case, {k: request.POST.get(k, "") for k in ANSWER_KEYS}, actor=user)
    return "questions"


def _forward(request: HttpRequest, case: Case, user: User) -> str:
    services.forward_to_tech(case, actor=user, note=request.POST.get("note", ""))
    messages.success(request, _("Forwarded to tech. You stay the owner of this case."))
    return "preparation"


def _snapshot(request: HttpRequest, case: Case, user: User) -> str:
    p = request.POST
    services.add_snapshot(
        case, _raw_json(request), kind=p.get("kind", ""), label=p.get("label", ""), actor=user
    )
    return "project"


def _backup(request: HttpRequest, case: Case, user: User) -> str:
    p = request.POST
    note = p.get("note", "")
    if p.get("kind") == "reference":
        services.add_backup_reference(
            case, p.get("location", ""), checksum=p.get("checksum", ""), actor=user, note=note
        )
    elif p.get("snapshot"):
        raw_id = p.get("snapshot", "")
        snapshot = Snapshot.objects.filter(case=case, pk=int(raw_id)).first() if raw_id.isdigit() else None
        if snapshot is None:
            raise services.WorkspaceError("snapshot", _("unknown snapshot"))
        services.backup_snapshot(snapshot, actor=user, note=note)
    else:
        services.add_backup_export(case, _raw_json(request), actor=user, note=note)
    messages.success(request, _("Backup stored."))
    return "backup"


def _restore(request: HttpRequest, case: Case, user: User) -> str:
    backup = get_object_or_404(Backup, pk=_int(request.POST.get("backup", "")), case=case)
    services.record_restore(backup, actor=user, note=request.POST.get("note", ""))
    return "backup"


def _conversion(request: HttpRequest, case: Case, user: User) -> str:
    p = request.POST
    services.record_conversion(
        case,
        result=p.get("result", ""),
        action=p.get("action", "") or "re-convert",
        note=p.get("note", ""),
        actor=user,
    )
    return "project"


def _reproduction(request: HttpRequest, case: Case, user: User) -> str:
    p = request.POST
    services.save_reproduction(
        case,
        reproduced=p.get("reproduced", ""),
        steps=p.get("steps", ""),
        environment=p.get("environment", ""),
        test_account_result=p.get("test_account_result", ""),
        actor=user,
    )
    return "reproduction"


def _documentation(request: HttpRequest, case: Case, user: User) -> str:
    p = request.POST
    if p.get("generate"):
        services.generate_documentation(case, actor=user)
    else:
        services.save_documentation(
            case,
            title=p.get("title", ""),
            symptoms=p.get("symptoms", ""),
            solution_steps=p.get("solution_steps", ""),
            text=p.get("text", ""),
            actor=user,
        )
    return "documentation"


def _known_problem(request: HttpRequest, case: Case, user: User) -> str:
    services.make_known_problem(case, actor=user)
    messages.success(request, _("The documentation is now a known problem."))
    return "documentation"


def _follow_up(request: HttpRequest, case: Case, user: User) -> str:
    p = request.POST
    services.schedule_follow_up(
        case, _when(p.get("due_at", ""), "due_at"), actor=user, note=p.get("note", "")
    )
    return "follow_up"


def _follow_up_done(request: HttpRequest, case: Case, user: User) -> str:
    follow_up = get_object_or_404(FollowUp, pk=_int(request.POST.get("follow_up", "")), case=case)
    services.complete_follow_up(follow_up, actor=user, outcome=request.POST.get("outcome", ""))
    return "follow_up"


def _link(request: HttpRequest, case: Case, user: User) -> str:
    raw = request.POST.get("case_id", "").strip().lstrip("#")
    if request.POST.get("unlink"):
        services.unlink_cases(case, int(raw) if raw.isdigit() else 0, actor=user)
    else:
        services.link_cases(
            case, int(raw) if raw.isdigit() else raw, actor=user, note=request.POST.get("note", "")
        )
    return "open_tickets"


def _article(request: HttpRequest, case: Case, user: User) -> str:
    p = request.POST
    services.record_article_view(case, p.get("article", ""), title=p.get("title", ""), actor=user)
    return "articles"


ACTIONS: dict[str, Callable[[HttpRequest, Case, User], str]] = {
    "stage": _stage,
    "answers": _answers,
    "forward": _forward,
    "snapshot": _snapshot,
    "backup": _backup,
    "restore": _restore,
    "conversion": _conversion,
    "reproduction": _reproduction,
    "documentation": _documentation,
    "known-problem": _known_problem,
    "follow-up": _follow_up,
    "follow-up-done": _follow_up_done,
    "link": _link,
    "article": _article,
}


def _field_label(field: str) -> str:
    labels = {
        "notes": _("Reason"),
        "stage": _("Stage"),
        "backup": _("Data backup"),
        "case_id": _("Case number"),
        "due_at": _("Date"),
        "note": _("Note"),
        "article": _("Article"),
        "documentation": _("Documentation"),
        "location": _("Storage location"),
        "checksum": _("Checksum"),
        "file": _("File"),
    }
    return labels.get(field, field)


@permission_required(Action.WORK_ON_CASE)
@require_POST
def case_action(request: HttpRequest, case_id: int, action: str) -> HttpResponse:
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404(f"unknown workspace action {action!r}")
    case = get_object_or_404(Case.objects.select_related("customer", "owner"), pk=case_id)
    anchor = "workspace"
    try:
        anchor = f"stage-{handler(request, case, _user(request))}"
    except services.WorkspaceError as exc:
        # Service messages are the API's English; the page shows them in the viewer's language.
        messages.error(request, f"{_field_label(exc.field)}: {_(exc.message)}")
        anchor = f"stage-{request.POST.get('stage') or anchor}"
    return redirect(f"{case.get_absolute_url()}#{anchor}")
