"""API for the troubleshooting workspace.

`case_router` is mounted at /api/v1/workspace (case-scoped); `router` at /api/v1/customers (customer-scoped).
Large snapshots and exports (over the request-size limit for JSON bodies) come as a multipart file upload.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, File, Form, Router, Schema
from ninja import Status as HttpStatus
from ninja.files import UploadedFile

from sirene.accounts.models import User
from sirene.accounts.permissions import Action, api_permission
from sirene.cases.models import OPEN_STATUSES, Case, Customer
from sirene.core.schemas import responses
from sirene.core.validation import Id, PlannedAt, ReceivedAt
from sirene.troubleshooting import queries, services
from sirene.troubleshooting.models import Backup, Conversion, FollowUp, Snapshot
from sirene.troubleshooting.schemas import (
    ArticlesReadOut,
    BackupDataOut,
    BackupMetaOut,
    CaseRowOut,
    ConversionOut,
    DocumentationOut,
    FollowUpDoneOut,
    FollowUpOut,
    KnownProblemRefOut,
    LinksOut,
    ReplyDraftOut,
    SnapshotDataOut,
    SnapshotDiffOut,
    SnapshotMetaOut,
    WorkspaceOut,
)

router = Router(tags=["troubleshooting"])
case_router = Router(tags=["troubleshooting"])


def _actor(request: HttpRequest) -> User | None:
    user = getattr(request, "auth", None) or getattr(request, "user", None)
    return user if isinstance(user, User) else None


def _user(request: HttpRequest) -> User:
    user = _actor(request)
    if user is None:
        from ninja.errors import HttpError

        raise HttpError(401, "a user is required")
    return user


def _case(case_id: int) -> Case:
    return get_object_or_404(Case.objects.select_related("customer", "owner"), pk=case_id)


def _workspace(request: HttpRequest, case: Case) -> dict[str, Any]:
    case.refresh_from_db()
    return queries.workspace_data(case, user=_actor(request))


class StageIn(Schema):
    state: str
    notes: str | None = Field(None, max_length=services.MAX_NOTES)


class AnswersIn(Schema):
    answers: dict[str, Any]


class NoteIn(Schema):
    note: str = Field("", max_length=services.MAX_NOTES)


class SnapshotIn(Schema):
    kind: str
    label: str = ""
    data: Any = None


class BackupIn(Schema):
    kind: str = Field(..., description="export (data or snapshot_id) or reference (location, checksum)")
    data: Any = None
    snapshot_id: Id | None = None
    location: str = ""
    checksum: str = ""
    note: str = ""


class ConversionIn(Schema):
    result: str
    action: str = "re-convert"
    note: str = ""


class ReproductionIn(Schema):
    reproduced: str
    steps: str = ""
    environment: str = ""
    test_account_result: str = ""


class DocumentationIn(Schema):
    title: str
    symptoms: str = ""
    solution_steps: str = ""
    text: str = ""


class FollowUpIn(Schema):
    # 2000-01-01 … 2100-01-01 (core.validation), and in the future
    due_at: PlannedAt
    note: str = ""


class FollowUpDoneIn(Schema):
    outcome: str = ""


class LinkIn(Schema):
    case_id: Any
    note: str = ""


class ArticleViewIn(Schema):
    article: str
    title: str = ""
    viewed_at: ReceivedAt | None = None


# Lists first: their paths must win over "/{case_id}".
@case_router.get(
    "/my-cases",
    response=responses(list[CaseRowOut]),
    summary="Open cases I own, least recently contacted first",
)
def my_cases(request: HttpRequest) -> list[dict[str, Any]]:
    return [queries.case_row(c) for c in queries.my_cases(_user(request))]


@case_router.get(
    "/overdue", response=responses(list[CaseRowOut]), summary="Overdue cases (leads: all; agents: their own)"
)
def overdue(request: HttpRequest) -> list[dict[str, Any]]:
    return [queries.case_row(c) for c in queries.overdue_cases(_user(request))]


@case_router.get(
    "/open-questions", response=responses(list[CaseRowOut]), summary="Cases that could not be solved at once"
)
def open_questions(request: HttpRequest) -> list[dict[str, Any]]:
    return [queries.case_row(c) for c in queries.open_questions(_user(request))]


@case_router.get(
    "/{case_id}", response=responses(WorkspaceOut, 404), summary="The whole workspace of a case, pre-filled"
)
def get_workspace(request: HttpRequest, case_id: int) -> dict[str, Any]:
    return queries.workspace_data(_case(case_id), user=_actor(request))


@case_router.post(
    "/{case_id}/stages/{stage}",
    response=responses(WorkspaceOut, 404, 413),
    summary="Set a stage's state (open/done/not_needed) and notes",
)
@api_permission(Action.WORK_ON_CASE)
def set_stage(request: HttpRequest, case_id: int, stage: str, payload: StageIn) -> dict[str, Any]:
    case = _case(case_id)
    services.set_stage(case, stage, payload.state, actor=_actor(request), notes=payload.notes)
    return _workspace(request, case)


@case_router.get(
    "/{case_id}/reply",
    response=responses(ReplyDraftOut, 404),
    summary="German reply asking exactly the unanswered questions",
)
def reply(request: HttpRequest, case_id: int) -> dict[str, Any]:
    data = queries.workspace_data(_case(case_id), user=_actor(request))
    return {"text": data["reply_text"], "questions": [q for q in data["questions"] if not q["answered"]]}


@case_router.post(
    "/{case_id}/answers", response=responses(WorkspaceOut, 404, 413), summary="Store the customer's answers"
)
@api_permission(Action.WORK_ON_CASE)
def answers(request: HttpRequest, case_id: int, payload: AnswersIn) -> dict[str, Any]:
    case = _case(case_id)
    services.record_answers(case, payload.answers, actor=_actor(request))
    return _workspace(request, case)


@case_router.post(
    "/{case_id}/forward",
    response=responses(WorkspaceOut, 404, 413),
    summary="Forward to tech; the owner stays the owner",
)
@api_permission(Action.WORK_ON_CASE)
def forward(request: HttpRequest, case_id: int, payload: NoteIn) -> dict[str, Any]:
    case = services.forward_to_tech(_case(case_id), actor=_user(request), note=payload.note)
    return _workspace(request, case)


@case_router.post(
    "/{case_id}/snapshots",
    response=responses(SnapshotMetaOut, 404, 413, status=201),
    summary="Record a project/account snapshot",
)
@api_permission(Action.WORK_ON_CASE)
def add_snapshot(request: HttpRequest, case_id: int, payload: SnapshotIn) -> HttpStatus[Snapshot]:
    snapshot = services.add_snapshot(
        _case(case_id), payload.data, kind=payload.kind, label=payload.label, actor=_actor(request)
    )
    return HttpStatus(201, snapshot)


@case_router.post(
    "/{case_id}/snapshots/upload",
    response=responses(SnapshotMetaOut, 404, 413, status=201),
    summary="Record a large snapshot (multipart file)",
)
@api_permission(Action.WORK_ON_CASE)
def upload_snapshot(
    request: HttpRequest, case_id: int, file: File[UploadedFile], kind: Form[str], label: Form[str] = ""
) -> HttpStatus[Snapshot]:
    raw = _read_upload(file)
    snapshot = services.add_snapshot(_case(case_id), raw, kind=kind, label=label, actor=_actor(request))
    return HttpStatus(201, snapshot)


def _read_upload(file: UploadedFile) -> bytes:
    limit = settings.SNAPSHOT_MAX_BYTES
    if file.size is not None and file.size > limit:
        raise services.WorkspaceError("file", f"is larger than {limit} bytes")
    data: bytes = file.read(limit + 1)
    return data


@case_router.get(
    "/{case_id}/snapshots/{snapshot_id}",
    response=responses(SnapshotDataOut, 404),
    summary="One snapshot with its data",
)
def get_snapshot(request: HttpRequest, case_id: int, snapshot_id: int) -> Snapshot:
    return get_object_or_404(Snapshot, pk=snapshot_id, case_id=case_id)


@case_router.get(
    "/{case_id}/diff",
    response=responses(SnapshotDiffOut, 404),
    exclude_unset=True,
    summary="Readable diff between the original and the current snapshot",
)
def diff(request: HttpRequest, case_id: int, limit: int = 500) -> dict[str, Any]:
    result = services.snapshot_diff(_case(case_id), limit=max(1, min(limit, 5000)))
    if result is None:
        return {"available": False, "reason": "needs an original snapshot and a later one"}
    return {"available": True, **result.as_dict()}


@case_router.post(
    "/{case_id}/backups",
    response=responses(BackupMetaOut, 404, 413, status=201),
    summary="Store a backup before changing data",
)
@api_permission(Action.WORK_ON_CASE)
def add_backup(request: HttpRequest, case_id: int, payload: BackupIn) -> HttpStatus[Backup]:
    case = _case(case_id)
    actor = _actor(request)
    if payload.kind == "reference":
        backup = services.add_backup_reference(
            case, payload.location, checksum=payload.checksum, actor=actor, note=payload.note
        )
    elif payload.kind == "export":
        if payload.snapshot_id is not None:
            snapshot = Snapshot.objects.filter(pk=payload.snapshot_id, case=case).first()
            if snapshot is None:
                raise services.WorkspaceError(
                    "snapshot_id", f"snapshot {payload.snapshot_id} is not on this case"
                )
            backup = services.backup_snapshot(snapshot, actor=actor, note=payload.note)
        else:
            backup = services.add_backup_export(case, payload.data, actor=actor, note=payload.note)
    else:
        raise services.WorkspaceError("kind", "must be export or reference")
    return HttpStatus(201, backup)


@case_router.post(
    "/{case_id}/backups/upload",
    response=responses(BackupMetaOut, 404, 413, status=201),
    summary="Store a large export (multipart)",
)
@api_permission(Action.WORK_ON_CASE)
def upload_backup(
    request: HttpRequest, case_id: int, file: File[UploadedFile], note: Form[str] = ""
) -> HttpStatus[Backup]:
    backup = services.add_backup_export(_case(case_id), _read_upload(file), actor=_actor(request), note=note)
    return HttpStatus(201, backup)


@case_router.get(
    "/{case_id}/backups/{backup_id}",
    response=responses(BackupDataOut, 404),
    summary="A backup, its data and whether it still verifies",
)
def get_backup(request: HttpRequest, case_id: int, backup_id: int) -> Backup:
    return get_object_or_404(Backup, pk=backup_id, case_id=case_id)


@case_router.post(
    "/{case_id}/backups/{backup_id}/restore",
    response=responses(BackupMetaOut, 404, 413),
    summary="Record that a backup was restored",
)
@api_permission(Action.WORK_ON_CASE)
def restore_backup(request: HttpRequest, case_id: int, backup_id: int, payload: NoteIn) -> Backup:
    backup = get_object_or_404(Backup, pk=backup_id, case_id=case_id)
    return services.record_restore(backup, actor=_actor(request), note=payload.note)


@case_router.post(
    "/{case_id}/conversions",
    response=responses(ConversionOut, 404, 413, status=201),
    summary="Record a re-conversion and its result",
)
@api_permission(Action.WORK_ON_CASE)
def add_conversion(request: HttpRequest, case_id: int, payload: ConversionIn) -> HttpStatus[Conversion]:
    conversion = services.record_conversion(
        _case(case_id), result=payload.result, action=payload.action, note=payload.note, actor=_actor(request)
    )
    return HttpStatus(201, conversion)


@case_router.post(
    "/{case_id}/reproduction",
    response=responses(WorkspaceOut, 404, 413),
    summary="Reproduced yes/no, steps, environment, test account",
)
@api_permission(Action.WORK_ON_CASE)
def reproduction(request: HttpRequest, case_id: int, payload: ReproductionIn) -> dict[str, Any]:
    case = _case(case_id)
    services.save_reproduction(
        case,
        reproduced=payload.reproduced,
        steps=payload.steps,
        environment=payload.environment,
        test_account_result=payload.test_account_result,
        actor=_actor(request),
    )
    return _workspace(request, case)


@case_router.post(
    "/{case_id}/documentation/generate",
    response=responses(DocumentationOut, 404),
    summary="Draft the final documentation from the stages",
)
@api_permission(Action.WORK_ON_CASE)
def generate_documentation(request: HttpRequest, case_id: int) -> dict[str, Any]:
    case = _case(case_id)
    services.generate_documentation(case, actor=_actor(request))
    return _workspace(request, case)["documentation"]  # type: ignore[no-any-return]


@case_router.post(
    "/{case_id}/documentation",
    response=responses(DocumentationOut, 404, 413),
    summary="Save the (edited) final documentation",
)
@api_permission(Action.WORK_ON_CASE)
def save_documentation(request: HttpRequest, case_id: int, payload: DocumentationIn) -> dict[str, Any]:
    case = _case(case_id)
    services.save_documentation(
        case,
        title=payload.title,
        symptoms=payload.symptoms,
        solution_steps=payload.solution_steps,
        text=payload.text,
        actor=_actor(request),
    )
    return _workspace(request, case)["documentation"]  # type: ignore[no-any-return]


@case_router.post(
    "/{case_id}/documentation/known-problem",
    response=responses(KnownProblemRefOut, 404),
    summary="Make the documentation a known problem",
)
@api_permission(Action.EDIT_KNOWLEDGE)
def known_problem(request: HttpRequest, case_id: int) -> dict[str, Any]:
    return {"known_problem_id": services.make_known_problem(_case(case_id), actor=_actor(request))}


@case_router.post(
    "/{case_id}/follow-ups",
    response=responses(FollowUpOut, 404, 413, status=201),
    summary="Schedule a follow-up with the customer",
)
@api_permission(Action.WORK_ON_CASE)
def add_follow_up(request: HttpRequest, case_id: int, payload: FollowUpIn) -> HttpStatus[FollowUp]:
    follow_up = services.schedule_follow_up(
        _case(case_id), payload.due_at, actor=_actor(request), note=payload.note
    )
    return HttpStatus(201, follow_up)


@case_router.post(
    "/{case_id}/follow-ups/{follow_up_id}/done",
    response=responses(FollowUpDoneOut, 404, 413),
    summary="The follow-up took place",
)
@api_permission(Action.WORK_ON_CASE)
def follow_up_done(
    request: HttpRequest, case_id: int, follow_up_id: int, payload: FollowUpDoneIn
) -> FollowUp:
    follow_up = get_object_or_404(FollowUp, pk=follow_up_id, case_id=case_id)
    return services.complete_follow_up(follow_up, actor=_actor(request), outcome=payload.outcome)


@case_router.post(
    "/{case_id}/links", response=responses(LinksOut, 404, 413, status=201), summary="Link a related case"
)
@api_permission(Action.WORK_ON_CASE)
def link(request: HttpRequest, case_id: int, payload: LinkIn) -> HttpStatus[dict[str, Any]]:
    case = _case(case_id)
    services.link_cases(case, payload.case_id, actor=_actor(request), note=payload.note)
    return HttpStatus(201, {"linked_case_ids": services.linked_case_ids(case)})


@case_router.delete(
    "/{case_id}/links/{other_id}", response={**responses(None, 404, status=204)}, summary="Remove a link"
)
@api_permission(Action.WORK_ON_CASE)
def unlink(request: HttpRequest, case_id: int, other_id: int) -> HttpResponse:
    services.unlink_cases(_case(case_id), other_id, actor=_actor(request))
    return HttpResponse(status=204)


@case_router.post(
    "/{case_id}/article-views",
    response=responses(ArticlesReadOut, 404, 413, status=201),
    summary="Manually record an article read",
)
@api_permission(Action.WORK_ON_CASE)
def article_view(request: HttpRequest, case_id: int, payload: ArticleViewIn) -> HttpStatus[dict[str, Any]]:
    case = _case(case_id)
    services.record_article_view(
        case, payload.article, title=payload.title, viewed_at=payload.viewed_at, actor=_actor(request)
    )
    return HttpStatus(201, {"articles_read": queries.workspace_data(case)["articles_read"]})


@router.get(
    "/{customer_id}/open-cases",
    response=responses(list[CaseRowOut], 404),
    summary="The customer's open cases, for the joint view",
)
def customer_open_cases(request: HttpRequest, customer_id: int) -> list[dict[str, Any]]:
    customer = get_object_or_404(Customer, pk=customer_id)
    qs = queries._annotated(
        Case.objects.filter(customer=customer, status__in=OPEN_STATUSES).select_related("customer", "owner")
    )
    return [queries.case_row(c) for c in qs.order_by("-received_at")]
