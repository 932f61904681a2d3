"""Every write to the troubleshooting workspace goes through here (views and API stay thin).

Each write records a CaseEvent on the case, so the case history shows who did what in the workspace.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from sirene.accounts.models import User
from sirene.cases import services as cases
from sirene.cases.models import Case, CaseEvent, Customer
from sirene.core import clock, validation
from sirene.core.errors import FieldError
from sirene.knowledge import services as knowledge
from sirene.troubleshooting import documentation, questions, snapshots
from sirene.troubleshooting.models import (
    CHANGES_CUSTOMER_DATA,
    Backup,
    BackupKind,
    CaseLink,
    Conversion,
    ConversionResult,
    FollowUp,
    Reminder,
    Snapshot,
    SnapshotKind,
    Stage,
    StageEntry,
    StageState,
    Workspace,
)

MAX_NOTES = 20_000
MAX_TEXT = 50_000
SHA256 = re.compile(r"^[0-9a-f]{64}$")


class WorkspaceError(FieldError):
    """Bad input or a broken rule of the guide; `field` names what to fix (422 in the API)."""


def _text(value: Any, field: str, *, limit: int = MAX_TEXT) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise WorkspaceError(field, "must be a string")
    text: str = validation.clean_text(value)
    if len(text) > limit:
        raise WorkspaceError(field, f"is longer than {limit} characters")
    return text.strip()


def _event(
    case: Case, actor: User | None, message: str, *, field: str = "", new: Any = "", **data: Any
) -> None:
    kind = CaseEvent.Kind.CHANGED if field else CaseEvent.Kind.NOTE
    cases.record(
        case,
        kind,
        actor=actor,
        actor_label="" if actor else "api",
        field=field,
        new=new,
        message=message,
        data={"workspace": True, **data},
    )


def workspace_for(case: Case) -> Workspace:
    workspace, _created = Workspace.objects.get_or_create(case=case)
    return workspace


def stage_entries(workspace: Workspace) -> dict[str, StageEntry]:
    """All stages of the guide for this workspace, creating the rows not there yet."""
    existing = {e.stage: e for e in workspace.stages.select_related("by")}
    missing = [StageEntry(workspace=workspace, stage=s) for s in Stage.values if s not in existing]
    if missing:
        StageEntry.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {e.stage: e for e in workspace.stages.select_related("by")}
    return {s: existing[s] for s in Stage.values}


def has_backup(case: Case) -> bool:
    return Backup.objects.filter(case=case).exists()


def set_stage(
    case: Case, stage: str, state: str, *, actor: User | None, notes: str | None = None
) -> StageEntry:
    try:
        stage_value = Stage(stage)
    except ValueError:
        raise WorkspaceError("stage", f"{stage!r} is not one of: {', '.join(Stage.values)}") from None
    try:
        state_value = StageState(state)
    except ValueError:
        raise WorkspaceError("state", f"{state!r} is not one of: {', '.join(StageState.values)}") from None
    notes_text = None if notes is None else _text(notes, "notes", limit=MAX_NOTES)
    if state_value == StageState.NOT_NEEDED and not notes_text:
        # Skipping a step of the guide is fine, but the next person must see why.
        raise WorkspaceError("notes", "say why this stage does not apply")
    with transaction.atomic():
        workspace = workspace_for(case)
        entry = stage_entries(workspace)[stage_value]
        entry = StageEntry.objects.select_for_update().get(pk=entry.pk)
        if state_value == StageState.DONE:
            _check_can_complete(case, workspace, stage_value)
        changed = entry.state != state_value or (notes_text is not None and notes_text != entry.notes)
        if not changed:
            return entry
        entry.state = state_value
        if notes_text is not None:
            entry.notes = notes_text
        entry.by = actor
        entry.at = clock.now()
        entry.save()
        _event(case, actor, notes_text or "", field=f"stage:{stage_value}", new=state_value)
    return entry


def settle(case: Case, stage: Stage, *, actor: User | None) -> bool:
    """A stage counts as done once its data is saved: an open stage whose completion check passes is
    marked done (by whoever saved the data). A stage someone set by hand is left alone. True if settled."""
    workspace = workspace_for(case)
    entry = StageEntry.objects.select_for_update().get(pk=stage_entries(workspace)[stage].pk)
    if entry.state != StageState.OPEN:
        return False
    try:
        _check_can_complete(case, workspace, stage)
    except WorkspaceError:
        return False
    entry.state, entry.by, entry.at = StageState.DONE, actor, clock.now()
    entry.save(update_fields=["state", "by", "at"])
    _event(case, actor, "", field=f"stage:{stage.value}", new=StageState.DONE, settled_by_data=True)
    return True


def _check_can_complete(case: Case, workspace: Workspace, stage: Stage) -> None:
    """The guide's order: nothing that touches customer data is done before a backup exists."""
    if stage in CHANGES_CUSTOMER_DATA and not has_backup(case):
        raise WorkspaceError("stage", "a data backup must exist before this stage can be marked done")
    if stage == Stage.BACKUP and not has_backup(case):
        raise WorkspaceError("stage", "store a backup (export or reference) before marking the backup done")
    if stage == Stage.DOCUMENTATION and not workspace.doc_text.strip():
        raise WorkspaceError("stage", "write or generate the final documentation before marking it done")
    if stage == Stage.FOLLOW_UP and not FollowUp.objects.filter(case=case).exists():
        raise WorkspaceError("stage", "schedule a follow-up with the customer first (or mark it not needed)")


# --- questions to the customer --------------------------------------------------------------------------


def record_answers(case: Case, answers: dict[str, Any], *, actor: User | None) -> dict[str, str]:
    """Store the customer's answers: setup facts on the customer, the rest on the case's workspace."""
    if not isinstance(answers, dict):
        raise WorkspaceError("answers", "must be an object")
    clean: dict[str, str] = {}
    for key, value in answers.items():
        if key not in questions.ANSWER_KEYS:
            raise WorkspaceError(f"answers.{key}", f"is not one of: {', '.join(questions.ANSWER_KEYS)}")
        text = _text(value, f"answers.{key}", limit=questions.MAX_ANSWER)
        if text:
            clean[key] = text
    with transaction.atomic():
        workspace = Workspace.objects.select_for_update().get(pk=workspace_for(case).pk)
        customer = Customer.objects.select_for_update().get(pk=case.customer_id)
        customer_changed = False
        for key, text in clean.items():
            if key in questions.ATTRIBUTE_KEYS:
                old = customer.attributes.get(key)
                if old == text:
                    continue
                customer.attributes = {**customer.attributes, key: text}
                customer_changed = True
                cases.record(
                    case,
                    CaseEvent.Kind.CHANGED,
                    actor=actor,
                    field=f"customer.{key}",
                    old=old,
                    new=text,
                    data={"workspace": True},
                )
            elif workspace.answers.get(key) != text:
                old = workspace.answers.get(key)
                workspace.answers = {**workspace.answers, key: text}
                cases.record(
                    case,
                    CaseEvent.Kind.CHANGED,
                    actor=actor,
                    field=f"answer.{key}",
                    old=old,
                    new=text,
                    data={"workspace": True},
                )
        if customer_changed:
            customer.updated_at = clock.now()
            customer.save(update_fields=["attributes", "updated_at"])
            case.customer = customer
        workspace.save(update_fields=["answers"])
        settle(case, Stage.QUESTIONS, actor=actor)
    return questions.known_answers(case, workspace.answers)


# --- ownership ------------------------------------------------------------------------------------------


def forward_to_tech(case: Case, *, actor: User, note: str = "") -> Case:
    """Hand the technical part to tech. The owner stays the owner: the customer keeps one contact."""
    note_text = _text(note, "note", limit=MAX_NOTES)
    with transaction.atomic():
        # Read the owner fresh: the caller's copy may predate an assignment.
        case = (
            Case.objects.select_for_update(of=("self",)).select_related("customer", "owner").get(pk=case.pk)
        )
        if case.owner_id is None:
            case = cases.assign(case, actor, actor=actor)
        workspace = Workspace.objects.select_for_update().get(pk=workspace_for(case).pk)
        workspace.forwarded_to_tech_at = clock.now()
        workspace.save(update_fields=["forwarded_to_tech_at"])
        cases.record(
            case,
            CaseEvent.Kind.NOTE,
            actor=actor,
            field="forwarded_to_tech",
            message=note_text or "forwarded to tech",
            data={"workspace": True, "owner": case.owner_id},
        )
        settle(case, Stage.PREPARATION, actor=actor)
    return case


# --- snapshots, backups, conversions --------------------------------------------------------------------


def _parse(raw: Any, field: str) -> tuple[Any, bytes]:
    try:
        return snapshots.parse(raw, max_bytes=settings.SNAPSHOT_MAX_BYTES, field_name=field)
    except snapshots.SnapshotError as exc:
        raise WorkspaceError(exc.field, exc.message) from None


def add_snapshot(case: Case, raw: Any, *, kind: str, label: str = "", actor: User | None) -> Snapshot:
    try:
        kind_value = SnapshotKind(kind)
    except ValueError:
        raise WorkspaceError("kind", f"{kind!r} is not one of: {', '.join(SnapshotKind.values)}") from None
    label_text = _text(label, "label", limit=200)
    data, body = _parse(raw, "data")
    with transaction.atomic():
        snapshot = Snapshot.objects.create(
            case=case,
            kind=kind_value,
            label=label_text,
            data=data,
            size_bytes=len(body),
            checksum=hashlib.sha256(body).hexdigest(),
            taken_by=actor,
            taken_at=clock.now(),
        )
        _event(case, actor, f"snapshot {kind_value} #{snapshot.pk} ({len(body)} bytes)", snapshot=snapshot.pk)
        settle(case, Stage.PROJECT, actor=actor)
    return snapshot


def original_and_current(case: Case) -> tuple[Snapshot | None, Snapshot | None]:
    """The first "original" and the newest snapshot after it (metadata only: data loads on demand)."""
    meta = Snapshot.objects.filter(case=case).defer("data")
    original = meta.filter(kind=SnapshotKind.ORIGINAL).order_by("taken_at", "id").first()
    current = meta.order_by("-taken_at", "-id").first()
    if current is not None and original is not None and current.pk == original.pk:
        current = None
    return original, current


def original_and_current_of(metas: list[Snapshot]) -> tuple[Snapshot | None, Snapshot | None]:
    """`original_and_current` over a case's snapshots already loaded (any order)."""
    ordered = sorted(metas, key=lambda s: (s.taken_at, s.pk))
    original = next((s for s in ordered if s.kind == SnapshotKind.ORIGINAL), None)
    current = ordered[-1] if ordered else None
    if current is not None and original is not None and current.pk == original.pk:
        current = None
    return original, current


def snapshot_diff(
    case: Case,
    *,
    limit: int = snapshots.DEFAULT_LIMIT,
    pair: tuple[Snapshot | None, Snapshot | None] | None = None,
) -> snapshots.Diff | None:
    """The diff between the original and the current snapshot (`pair`: those two, when loaded)."""
    original, current = pair if pair is not None else original_and_current(case)
    if original is None or current is None:
        return None
    if original.checksum == current.checksum:
        return snapshots.Diff(limit=limit)
    rows = dict(Snapshot.objects.filter(pk__in=[original.pk, current.pk]).values_list("pk", "data"))
    return snapshots.diff(rows[original.pk], rows[current.pk], limit=limit)


def add_backup_export(case: Case, raw: Any, *, actor: User | None, note: str = "") -> Backup:
    data, body = _parse(raw, "data")
    return _store_backup(case, actor, kind=BackupKind.EXPORT, data=data, body=body, note=note)


def backup_snapshot(snapshot: Snapshot, *, actor: User | None, note: str = "") -> Backup:
    body = snapshots.canonical_bytes(snapshot.data)
    return _store_backup(
        snapshot.case,
        actor,
        kind=BackupKind.EXPORT,
        data=snapshot.data,
        body=body,
        note=note,
        snapshot=snapshot,
    )


def add_backup_reference(
    case: Case, location: str, *, checksum: str = "", actor: User | None, note: str = ""
) -> Backup:
    where = _text(location, "location", limit=500)
    if not where:
        raise WorkspaceError("location", "must say where the export is stored")
    digest = _text(checksum, "checksum", limit=64).lower()
    if digest and not SHA256.match(digest):
        raise WorkspaceError("checksum", "must be a SHA-256 hex digest (64 characters 0-9a-f)")
    with transaction.atomic():
        backup = Backup.objects.create(
            case=case,
            kind=BackupKind.REFERENCE,
            location=where,
            checksum=digest,
            note=_text(note, "note", limit=MAX_NOTES),
            created_by=actor,
            created_at=clock.now(),
        )
        _event(case, actor, f"backup #{backup.pk}: {where}", backup=backup.pk)
        settle(case, Stage.BACKUP, actor=actor)
    return backup


def _store_backup(
    case: Case,
    actor: User | None,
    *,
    kind: str,
    data: Any,
    body: bytes,
    note: str,
    snapshot: Snapshot | None = None,
) -> Backup:
    with transaction.atomic():
        backup = Backup.objects.create(
            case=case,
            kind=kind,
            data=data,
            checksum=hashlib.sha256(body).hexdigest(),
            size_bytes=len(body),
            snapshot=snapshot,
            note=_text(note, "note", limit=MAX_NOTES),
            created_by=actor,
            created_at=clock.now(),
        )
        _event(case, actor, f"backup #{backup.pk} sha256 {backup.checksum}", backup=backup.pk)
        settle(case, Stage.BACKUP, actor=actor)
    return backup


def verify_backup(backup: Backup) -> bool:
    """An export still matches the checksum taken when it was stored (references cannot be checked here)."""
    if backup.kind != BackupKind.EXPORT or backup.data is None:
        return False
    return snapshots.checksum(backup.data) == backup.checksum


def record_restore(backup: Backup, *, actor: User | None, note: str) -> Backup:
    note_text = _text(note, "note", limit=MAX_NOTES)
    if not note_text:
        raise WorkspaceError("note", "say what was restored and how")
    with transaction.atomic():
        backup = Backup.objects.select_for_update().get(pk=backup.pk)
        backup.restored_at = clock.now()
        backup.restored_by = actor
        backup.restore_note = note_text
        backup.save(update_fields=["restored_at", "restored_by", "restore_note"])
        _event(backup.case, actor, f"restored backup #{backup.pk}: {note_text}", backup=backup.pk)
    return backup


def record_conversion(
    case: Case, *, result: str, actor: User | None, action: str = "re-convert", note: str = ""
) -> Conversion:
    try:
        result_value = ConversionResult(result)
    except ValueError:
        raise WorkspaceError(
            "result", f"{result!r} is not one of: {', '.join(ConversionResult.values)}"
        ) from None
    action_text = _text(action, "action", limit=200) or "re-convert"
    with transaction.atomic():
        backup = Backup.objects.filter(case=case).order_by("-created_at", "-id").first()
        if backup is None:
            raise WorkspaceError("backup", "a data backup must exist before customer data is changed")
        conversion = Conversion.objects.create(
            case=case,
            action=action_text,
            result=result_value,
            note=_text(note, "note", limit=MAX_NOTES),
            backup=backup,
            by=actor,
            at=clock.now(),
        )
        _event(case, actor, f"{action_text}: {result_value} (backup #{backup.pk})", conversion=conversion.pk)
        settle(case, Stage.PROJECT, actor=actor)
    return conversion


# --- reproduction and documentation ---------------------------------------------------------------------


def save_reproduction(
    case: Case,
    *,
    reproduced: str,
    steps: str = "",
    environment: str = "",
    test_account_result: str = "",
    actor: User | None,
) -> Workspace:
    fields = {
        "repro_steps": _text(steps, "steps"),
        "repro_environment": _text(environment, "environment", limit=MAX_NOTES),
        "repro_test_account_result": _text(test_account_result, "test_account_result", limit=MAX_NOTES),
    }
    with transaction.atomic():
        cases.set_reproduced(case, reproduced, fields["repro_test_account_result"][:2000], actor=actor)
        workspace = Workspace.objects.select_for_update().get(pk=workspace_for(case).pk)
        changed = [name for name, value in fields.items() if getattr(workspace, name) != value]
        for name in changed:
            setattr(workspace, name, fields[name])
        if changed:
            workspace.save(update_fields=changed)
            _event(case, actor, "reproduction: " + ", ".join(changed))
        settle(case, Stage.REPRODUCTION, actor=actor)
    return workspace


def generate_documentation(case: Case, *, actor: User | None) -> Workspace:
    """(Re)write the documentation from what the stages hold; the agent edits it afterwards."""
    workspace = workspace_for(case)
    draft = documentation.draft(case, workspace)
    return save_documentation(case, actor=actor, message="documentation generated", **draft)


def save_documentation(
    case: Case,
    *,
    title: str,
    symptoms: str,
    solution_steps: str,
    text: str,
    actor: User | None,
    message: str = "documentation edited",
) -> Workspace:
    values = {
        "doc_title": _text(title, "title", limit=200),
        "doc_symptoms": _text(symptoms, "symptoms"),
        "doc_solution_steps": _text(solution_steps, "solution_steps"),
        "doc_text": _text(text, "text"),
    }
    with transaction.atomic():
        workspace = Workspace.objects.select_for_update().get(pk=workspace_for(case).pk)
        for name, value in values.items():
            setattr(workspace, name, value)
        workspace.doc_updated_at = clock.now()
        workspace.save(update_fields=[*values, "doc_updated_at"])
        _event(case, actor, message)
        settle(case, Stage.DOCUMENTATION, actor=actor)
    return workspace


def make_known_problem(case: Case, *, actor: User | None) -> int:
    """One click: the final documentation becomes a known problem (once; a second click returns it)."""
    with transaction.atomic():
        workspace = Workspace.objects.select_for_update().get(pk=workspace_for(case).pk)
        if workspace.known_problem_id is not None:
            return workspace.known_problem_id
        if not workspace.doc_title or not workspace.doc_solution_steps:
            raise WorkspaceError("documentation", "needs a title and solution steps first")
        problem = knowledge.create_from_documentation(
            title=workspace.doc_title,
            category=case.category,
            symptoms=workspace.doc_symptoms,
            solution_steps=workspace.doc_solution_steps,
            example_phrasing=case.text[:2000],
            created_by=actor,
        )
        workspace.known_problem = problem
        workspace.save(update_fields=["known_problem"])
        _event(
            case,
            actor,
            f"known problem #{problem.pk} created from the documentation",
            known_problem=problem.pk,
        )
    return int(problem.pk)


# --- follow-ups -----------------------------------------------------------------------------------------


def schedule_follow_up(case: Case, due_at: dt.datetime, *, actor: User | None, note: str = "") -> FollowUp:
    if not isinstance(due_at, dt.datetime):
        raise WorkspaceError("due_at", "must be a date and time")
    try:
        due_at = validation.check_planned_at(due_at)
    except ValueError as exc:
        raise WorkspaceError("due_at", str(exc)) from None
    if due_at <= clock.now():
        raise WorkspaceError("due_at", "must be in the future")
    with transaction.atomic():
        follow_up = FollowUp.objects.create(
            case=case,
            due_at=due_at,
            note=_text(note, "note", limit=MAX_NOTES),
            created_by=actor,
            created_at=clock.now(),
        )
        local = timezone.localtime(due_at).strftime("%d.%m.%Y %H:%M")
        _event(case, actor, f"follow-up on {local}: {follow_up.note}".strip(), follow_up=follow_up.pk)
        settle(case, Stage.FOLLOW_UP, actor=actor)
    return follow_up


def complete_follow_up(follow_up: FollowUp, *, actor: User | None, outcome: str = "") -> FollowUp:
    with transaction.atomic():
        follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if follow_up.done_at is not None:
            return follow_up
        follow_up.done_at = clock.now()
        follow_up.done_by = actor
        follow_up.outcome = _text(outcome, "outcome", limit=MAX_NOTES)
        follow_up.save(update_fields=["done_at", "done_by", "outcome"])
        Reminder.objects.filter(follow_up=follow_up, dismissed_at__isnull=True).update(
            dismissed_at=clock.now()
        )
        _event(follow_up.case, actor, f"follow-up done: {follow_up.outcome}".strip(), follow_up=follow_up.pk)
    cases.mark_customer_contacted(follow_up.case, how="follow-up with the customer")
    return follow_up


def dismiss_reminder(reminder: Reminder, *, user: User) -> None:
    Reminder.objects.filter(pk=reminder.pk, user=user, dismissed_at__isnull=True).update(
        dismissed_at=clock.now()
    )


# --- related cases and article views ---------------------------------------------------------------------


def link_cases(case: Case, other_id: Any, *, actor: User | None, note: str = "") -> CaseLink:
    if isinstance(other_id, bool) or not isinstance(other_id, int):
        raise WorkspaceError("case_id", "must be a case number")
    other = Case.objects.filter(pk=other_id).first()
    if other is None:
        raise WorkspaceError("case_id", f"case #{other_id} does not exist")
    if other.pk == case.pk:
        raise WorkspaceError("case_id", "a case cannot be linked to itself")
    low, high = sorted([case.pk, other.pk])
    try:
        with transaction.atomic():
            link = CaseLink.objects.create(
                case_a_id=low, case_b_id=high, note=_text(note, "note", limit=500), created_by=actor
            )
            _event(case, actor, f"linked to #{other.pk}", link=other.pk)
            _event(other, actor, f"linked to #{case.pk}", link=case.pk)
            settle(case, Stage.OPEN_TICKETS, actor=actor)
    except IntegrityError:
        return CaseLink.objects.get(case_a_id=low, case_b_id=high)
    return link


def unlink_cases(case: Case, other_id: int, *, actor: User | None) -> bool:
    low, high = sorted([case.pk, other_id])
    with transaction.atomic():
        deleted, _ = CaseLink.objects.filter(case_a_id=low, case_b_id=high).delete()
        if deleted:
            _event(case, actor, f"unlinked from #{other_id}")
    return bool(deleted)


def linked_cases(case: Case) -> QuerySet[Case]:
    """The cases linked to this one (either side of the link), in one read."""
    return Case.objects.filter(
        Q(pk__in=CaseLink.objects.filter(case_a=case).values("case_b"))
        | Q(pk__in=CaseLink.objects.filter(case_b=case).values("case_a"))
    )


def linked_case_ids(case: Case) -> list[int]:
    pairs = CaseLink.objects.filter(Q(case_a=case) | Q(case_b=case)).values_list("case_a_id", "case_b_id")
    return sorted({b if a == case.pk else a for a, b in pairs})


def record_article_view(
    case: Case, article: str, *, title: str = "", viewed_at: dt.datetime | None = None, actor: User | None
) -> None:
    """Manual entry from the workspace: the agent learnt the customer already read this article."""
    article_text = _text(article, "article", limit=500)
    if not article_text:
        raise WorkspaceError("article", "must name the article (URL or title)")
    with transaction.atomic():
        knowledge.record_article_view(
            case.customer,
            article_text,
            title=_text(title, "title", limit=300),
            viewed_at=viewed_at,
            source="manual",
        )
        _event(case, actor, f"customer already read: {title or article_text}")
        settle(case, Stage.ARTICLES, actor=actor)
