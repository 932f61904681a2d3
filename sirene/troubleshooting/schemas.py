"""Response models of the troubleshooting (workspace) API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema

from sirene.core.schemas import IsoDateTime
from sirene.knowledge.schemas import SimilarCaseOut, SuggestionOut
from sirene.troubleshooting.models import Backup, Conversion


class CaseRowOut(Schema):
    """A case in the agent's lists (mine, overdue, open questions, the customer's open cases)."""

    id: int
    subject: str
    status: str
    customer: str
    owner: str | None
    owner_name: str
    received_at: IsoDateTime
    age_hours: float
    last_customer_contact_at: IsoDateTime
    overdue: bool
    holding_reply: str
    holding_reply_at: IsoDateTime | None
    url: str


class StageOut(Schema):
    stage: str
    label: str
    state: str
    state_label: str
    by: str | None
    by_name: str
    at: IsoDateTime | None
    notes: str


class RelatedCaseOut(Schema):
    id: int
    subject: str
    status: str
    status_label: str
    received_at: IsoDateTime
    solution: str
    linked: bool
    url: str


class TicketOut(Schema):
    number: int | str
    title: str
    state: str
    url: str
    updated_at: dt.datetime | None


class ArticleReadOut(Schema):
    article: str
    title: str
    viewed_at: IsoDateTime | None
    source: str


class QuestionOut(Schema):
    key: str
    text: str
    answered: bool
    answers: dict[str, Any]


class SnapshotRowOut(Schema):
    id: int
    kind: str
    kind_label: str
    label: str
    size_bytes: int
    checksum: str
    taken_at: IsoDateTime
    taken_by: str


class DiffOut(Schema):
    added: int
    removed: int
    changed: int
    total: int
    truncated: bool
    entries: list[dict[str, Any]]


class BackupRowOut(Schema):
    id: int
    kind: str
    location: str
    checksum: str
    size_bytes: int | None
    snapshot_id: int | None
    note: str
    created_at: IsoDateTime
    created_by: str
    restored_at: IsoDateTime | None
    restore_note: str


class ConversionRowOut(Schema):
    id: int
    action: str
    result: str
    result_label: str
    note: str
    backup_id: int | None
    at: IsoDateTime
    by: str


class ReproductionOut(Schema):
    reproduced: str
    steps: str
    environment: str
    test_account_result: str


class DocumentationOut(Schema):
    title: str
    symptoms: str
    solution_steps: str
    text: str
    updated_at: IsoDateTime | None
    known_problem_id: int | None


class FollowUpRowOut(Schema):
    id: int
    due_at: IsoDateTime
    note: str
    missed: bool
    reminded_at: IsoDateTime | None
    done_at: IsoDateTime | None
    outcome: str


class WorkspaceOut(Schema):
    case_id: int
    owner: str | None
    overdue: bool
    forwarded_to_tech_at: IsoDateTime | None
    stages: list[StageOut]
    similar_cases: list[SimilarCaseOut]
    earlier_cases: list[RelatedCaseOut]
    open_cases: list[RelatedCaseOut]
    linked_cases: list[RelatedCaseOut]
    helpdesk_tickets: list[TicketOut]
    articles_read: list[ArticleReadOut]
    suggestions: list[SuggestionOut]
    questions: list[QuestionOut]
    reply_text: str
    answers: dict[str, Any]
    snapshots: list[SnapshotRowOut]
    original: SnapshotRowOut | None
    current: SnapshotRowOut | None
    diff: DiffOut | None
    backups: list[BackupRowOut]
    conversions: list[ConversionRowOut]
    reproduction: ReproductionOut
    documentation: DocumentationOut
    follow_ups: list[FollowUpRowOut]


class ReplyDraftOut(Schema):
    text: str
    questions: list[QuestionOut]


class SnapshotMetaOut(Schema):
    id: int
    kind: str
    label: str
    size_bytes: int
    checksum: str
    taken_at: IsoDateTime


class SnapshotDataOut(SnapshotMetaOut):
    data: Any


class SnapshotDiffOut(Schema):
    """`available` false (with the reason) until there is an original and a later snapshot."""

    available: bool
    reason: str | None = None
    added: int | None = None
    removed: int | None = None
    changed: int | None = None
    total: int | None = None
    truncated: bool | None = None
    entries: list[dict[str, Any]] | None = None


class BackupMetaOut(Schema):
    id: int
    kind: str
    checksum: str
    size_bytes: int | None
    location: str
    created_at: IsoDateTime
    restored_at: IsoDateTime | None


class BackupDataOut(BackupMetaOut):
    verified: bool
    data: Any

    @staticmethod
    def resolve_verified(obj: Backup) -> bool:
        from sirene.troubleshooting.services import verify_backup

        return verify_backup(obj)


class ConversionOut(Schema):
    id: int
    action: str
    result: str
    backup_id: int | None
    at: IsoDateTime

    @staticmethod
    def resolve_backup_id(obj: Conversion) -> int | None:
        return obj.backup_id


class KnownProblemRefOut(Schema):
    known_problem_id: int | None


class FollowUpOut(Schema):
    id: int
    due_at: IsoDateTime
    note: str


class FollowUpDoneOut(Schema):
    id: int
    done_at: IsoDateTime | None


class LinksOut(Schema):
    linked_case_ids: list[int]


class ArticlesReadOut(Schema):
    articles_read: list[ArticleReadOut]
