"""Response models of the helpdesk API."""

from __future__ import annotations

from ninja import Schema

from sirene.core.schemas import IsoDateTime
from sirene.helpdesk.models import CustomerReply


class ReplyOut(Schema):
    id: int
    kind: str
    case: int
    incident: int | None
    ticket: int
    status: str
    attempts: int
    sent_at: IsoDateTime | None
    last_error: str

    @staticmethod
    def resolve_case(obj: CustomerReply) -> int:
        return obj.case_id

    @staticmethod
    def resolve_incident(obj: CustomerReply) -> int | None:
        return obj.incident_id

    @staticmethod
    def resolve_ticket(obj: CustomerReply) -> int:
        return obj.ticket_number


class ReplyCountsOut(Schema):
    queued: int
    sending: int
    sent: int
    failed: int


class ReplyListOut(Schema):
    items: list[ReplyOut]
    counts: ReplyCountsOut


class DelayNoticeOut(Schema):
    queued: int


class CaseReplyOut(Schema):
    text: str
    voice: str
