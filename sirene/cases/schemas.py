"""Response models of the cases API. The case detail, which also shows what the domains above
cases know about it, is composed in `sirene.flows.schemas`."""

from __future__ import annotations

from typing import Any, Literal

from ninja import Schema

from sirene.cases.models import Case, CaseEvent
from sirene.core.schemas import IsoDateTime


class CustomerOut(Schema):
    id: int
    email: str | None
    external_id: str | None
    name: str
    attributes: dict[str, Any]


class CaseOut(Schema):
    id: int
    source: str
    external_id: str
    subject: str
    status: str
    category: str
    tags: list[str]
    channel: str
    customer: CustomerOut
    owner: str | None
    reproduced: str
    received_at: IsoDateTime
    created_at: IsoDateTime
    updated_at: IsoDateTime
    url: str

    @staticmethod
    def resolve_owner(obj: Case) -> str | None:
        return obj.owner.username if obj.owner else None

    @staticmethod
    def resolve_url(obj: Case) -> str:
        return obj.get_absolute_url()


class CaseEventOut(Schema):
    at: IsoDateTime
    who: str
    kind: str
    field: str
    old: str
    new: str
    message: str

    @staticmethod
    def resolve_old(obj: CaseEvent) -> str:
        return obj.old_value

    @staticmethod
    def resolve_new(obj: CaseEvent) -> str:
        return obj.new_value


class NotTrackedOut(Schema):
    tracked: Literal[False]
    reason: str


class CasePageOut(Schema):
    items: list[CaseOut]
    page: int
    per_page: int
    total: int
    next_page: int | None
