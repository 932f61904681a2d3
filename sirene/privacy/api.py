"""Admin-only API: export and erase one customer (GDPR Art. 15/20 and 17)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from sirene.accounts.models import User
from sirene.accounts.permissions import Action, api_permission, request_user
from sirene.core.errors import FieldError
from sirene.core.schemas import responses
from sirene.privacy import services

router = Router(tags=["privacy"])


class CustomerEraseIn(Schema):
    email: str


class CustomerExportOut(Schema):
    """The export document (`sirene customer export`): every list is empty when the customer is unknown."""

    exported_at: str
    query: str
    found: bool
    groove: str
    erased: bool = False
    customer: dict[str, Any] | None = None
    cases: list[dict[str, Any]] = []
    replies: list[dict[str, Any]] = []
    outreach: list[dict[str, Any]] = []
    article_views: list[dict[str, Any]] = []
    workspaces: list[dict[str, Any]] = []
    snapshots: list[dict[str, Any]] = []
    backups: list[dict[str, Any]] = []
    incidents: list[dict[str, Any]] = []
    helpdesk_tickets_cached: list[dict[str, Any]] = []
    webhook_deliveries: list[dict[str, Any]] = []
    outbox_messages: list[dict[str, Any]] = []
    slack_and_phone_messages: list[dict[str, Any]] = []
    incident_timeline_entries: list[dict[str, Any]] = []
    erasures: list[dict[str, Any]] = []


class CustomerEraseOut(Schema):
    status: str
    pseudonym: str
    counts: dict[str, int]
    slack_updates: int
    groove: str


@router.get(
    "/export",
    response=responses(CustomerExportOut, 403),
    summary="Everything sirene keeps about one customer (GDPR Art. 15/20)",
)
@api_permission(Action.MANAGE_PRIVACY)
def export_customer(request: HttpRequest, email: str) -> dict[str, Any]:
    try:
        return services.export(email)
    except ValueError as exc:
        raise FieldError("email", str(exc)) from None


@router.post(
    "/erase",
    response=responses(CustomerEraseOut, 403, 413),
    summary="Erase one customer everywhere (GDPR Art. 17); counts stay",
)
@api_permission(Action.MANAGE_PRIVACY)
def erase_customer(request: HttpRequest, payload: CustomerEraseIn) -> dict[str, Any]:
    user = request_user(request)
    try:
        result = services.erase(payload.email, by=user if isinstance(user, User) else None, actor_label="api")
    except ValueError as exc:
        raise FieldError("email", str(exc)) from None
    return result.as_dict()
