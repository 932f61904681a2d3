"""Response models of the escalation API. Times are plain datetimes here (ninja's encoder), as they
always were on this API."""

from __future__ import annotations

import datetime as dt

from ninja import Schema

from sirene.escalation.models import Absence, Run


class PersonOut(Schema):
    id: int
    name: str
    slack_user_id: str
    phone: str
    time_zone: str
    role: str


class SnapshotPersonOut(Schema):
    name: str
    slack_user_id: str = ""
    phone: str = ""


class SnapshotStepOut(Schema):
    """One frozen step; which fields it has depends on `kind`."""

    kind: str
    channel: str | None = None
    mentions: list[str | None] | None = None
    minutes: int | float | None = None
    person: str | None = None
    attempts: int | None = None
    gap_minutes: int | float | None = None
    ring_seconds: int | None = None
    title: str | None = None
    text: str | None = None
    times: int | None = None
    from_step: int | None = None


class SnapshotOut(Schema):
    """The policy as frozen into a run when it started (people by key, steps in order)."""

    name: str
    policy_id: int | None = None
    people: dict[str, SnapshotPersonOut]
    steps: list[SnapshotStepOut]


class AttemptOut(Schema):
    id: int
    kind: str
    step_index: int
    number: int
    person: str | None
    target: str
    status: str
    provider: str
    provider_id: str
    provider_status: str
    error: str
    due_at: dt.datetime
    sending_at: dt.datetime | None
    finished_at: dt.datetime | None


class RunOut(Schema):
    id: int
    incident_id: int
    policy: str | None
    status: str
    step_index: int
    cycle: int
    next_action_at: dt.datetime | None
    started_at: dt.datetime
    finished_at: dt.datetime | None
    slack_ts: str

    @staticmethod
    def resolve_policy(obj: Run) -> str | None:
        return (obj.snapshot or {}).get("name")


class RunDetailOut(RunOut):
    snapshot: SnapshotOut
    attempts: list[AttemptOut]

    @staticmethod
    def resolve_attempts(obj: Run) -> list[dict[str, object]]:
        return [
            {
                "id": a.pk,
                "kind": a.kind,
                "step_index": a.step_index,
                "number": a.number,
                "person": a.person_name or None,
                "target": a.target,
                "status": a.status,
                "provider": a.provider,
                "provider_id": a.provider_id,
                "provider_status": a.provider_status,
                "error": a.error,
                "due_at": a.due_at,
                "sending_at": a.sending_at,
                "finished_at": a.finished_at,
            }
            for a in obj.attempts.all()
        ]


class AbsenceOut(Schema):
    id: int
    person_id: int
    person: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    kind: str
    note: str
    source: str

    @staticmethod
    def resolve_person(obj: Absence) -> str:
        return obj.person.name


class AbsenceCreatedOut(Schema):
    id: int
    person_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime


class PolicyOut(SnapshotOut):
    id: int
    is_default: bool


class PreviewLineOut(Schema):
    at: int
    action: str
    person: str | None
    text: str


class StatusUpdateOut(Schema):
    id: int
    status: str
    channel: str
