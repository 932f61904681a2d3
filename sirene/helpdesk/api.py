"""/api/v1/helpdesk: customer replies (status per ticket) and retrying failed ones."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router
from ninja.errors import HttpError

from sirene.accounts.permissions import Action, api_permission
from sirene.cases.models import Case
from sirene.core.errors import FieldError
from sirene.core.schemas import responses
from sirene.core.validation import Id
from sirene.helpdesk import services
from sirene.helpdesk.models import CustomerReply
from sirene.helpdesk.schemas import CaseReplyOut, DelayNoticeOut, ReplyListOut, ReplyOut
from sirene.incidents.models import Incident

router = Router(tags=["helpdesk"])
# Mounted under /cases: a single case's ready reply, and sending it to the case's Groove ticket.
case_router = Router(tags=["helpdesk"])


@router.get("/replies", response=responses(ReplyListOut))
def list_replies(
    request: HttpRequest, incident: Id | None = None, case: Id | None = None
) -> dict[str, Any]:
    if incident is None and case is None:
        raise FieldError("incident", "give incident or case")
    rows = CustomerReply.objects.all()
    if incident is not None:
        rows = rows.filter(incident_id=incident)
    if case is not None:
        rows = rows.filter(case_id=case)
    items = list(rows[:1000])
    counts = {s: sum(1 for i in items if i.status == s) for s in ("queued", "sending", "sent", "failed")}
    return {"items": items, "counts": counts}


@router.post("/replies/{reply_id}/retry", response=responses(ReplyOut, 404, 409))
@api_permission(Action.RETRY_REPLY)
def retry_reply(request: HttpRequest, reply_id: int) -> CustomerReply:
    reply = get_object_or_404(CustomerReply, pk=reply_id)
    if not services.retry_reply(reply):
        raise HttpError(409, f"status: the reply is {reply.status}; only failed replies can be retried")
    reply.refresh_from_db()
    return reply


@router.post("/incidents/{incident_id}/delay-notice", response=responses(DelayNoticeOut, 404))
@api_permission(Action.SEND_DELAY_NOTICE)
def delay_notice(request: HttpRequest, incident_id: int) -> dict[str, Any]:
    incident = get_object_or_404(Incident, pk=incident_id)
    queued = services.send_delay_notice(incident=incident)
    return {"queued": queued}


@case_router.get("/{case_id}/reply", response=responses(CaseReplyOut, 404), summary="A single case's ready reply")
def case_reply(request: HttpRequest, case_id: Id) -> dict[str, Any]:
    """The ready reply for the case's customer: the confirmed known problem's hints for this platform (or
    the customer-side checks; nothing to do for the customer when the problem is on our side), in the
    voice of this customer's conversation ("sie" or "du")."""
    case = get_object_or_404(Case.objects.select_related("customer"), pk=case_id)
    return {"text": services.case_reply_text(case), "voice": services.voice_for(case)}


@case_router.post("/{case_id}/reply", response=responses(ReplyOut, 404), summary="Send the ready reply to Groove")
@api_permission(Action.WORK_ON_CASE)
def send_case_reply(request: HttpRequest, case_id: Id) -> CustomerReply:
    """Queue the ready reply to the case's Groove ticket, exactly once (a second call returns the same
    reply). 422 naming `case` without a ticket or for a case inside an incident."""
    case = get_object_or_404(Case.objects.select_related("customer"), pk=case_id)
    user = request.user if getattr(request.user, "is_authenticated", False) else None
    reply, _created = services.send_case_reply(case, user=user)  # type: ignore[arg-type]
    return reply
