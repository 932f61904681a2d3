"""Context for this domain's panels (templates/<app>/case_panel.html, incident_panel.html)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from sirene.cases import history
from sirene.cases.models import Case, Status
from sirene.core import clock
from sirene.helpdesk import inbound, services
from sirene.helpdesk.models import CustomerReply, CustomerTicketsFetch, DelayState, ReplyKind, ReplyStatus
from sirene.incidents.models import Incident, IncidentStatus

MAX_LISTED = 10


def case_panel_context(request: HttpRequest, case: Case) -> dict[str, Any] | None:
    number = services.ticket_number(case)
    email = (case.customer.email or "").lower()
    tickets = inbound.customer_tickets(email) if email else []
    if number is None and not tickets:
        return None
    this = next((t for t in tickets if t.number == number), None)
    others = [t for t in tickets if t.number != number]
    replies = list(CustomerReply.objects.filter(case=case).select_related("incident"))
    status, when = services.holding_reply_status(case, replies=replies)
    since = (
        services.open_question_since(case, events=history.events(case))
        if case.status == Status.OPEN_QUESTION
        else None
    )
    # The delay notice is offered for open questions only.
    delay_state = DelayState.objects.filter(case=case).first() if since is not None else None
    hours = services.delay_notice_hours()
    return {
        "case": case,
        "ticket_number": number,
        "ticket": this,
        "closed_while_open": this is not None and this.state == "closed" and case.is_open,
        "open_tickets": [t for t in others if t.is_open][:MAX_LISTED],
        "previous_tickets": [t for t in others if not t.is_open][:MAX_LISTED],
        "fetch": CustomerTicketsFetch.objects.filter(customer_email=email).first() if email else None,
        "holding_status": status,
        "holding_at": when,
        "replies": replies,
        "note": next((r for r in replies if r.kind == ReplyKind.NOTE and r.incident_id is None), None),
        "open_question_since": since,
        "delay_due": since is not None and since <= clock.now() - timedelta(hours=hours),
        "delay_state": delay_state,
        "delay_hours": hours,
        "configured": bool(settings.GROOVE_TOKEN),
    }


def incident_panel_context(request: HttpRequest, incident: Incident) -> dict[str, Any] | None:
    from sirene.helpdesk import loop

    rows = loop.customer_rows(incident)
    by_kind = loop.summaries(incident)
    resolution = by_kind[ReplyKind.RESOLUTION]
    hours = services.delay_notice_hours()
    unresolved = incident.status != IncidentStatus.RESOLVED
    replies = list(CustomerReply.objects.filter(incident=incident))
    return {
        "incident": incident,
        "rows": rows,
        "counts": {**resolution, "no_ticket": len(resolution["without_ticket"])},
        "holding": by_kind[ReplyKind.HOLDING],
        "delay": by_kind[ReplyKind.DELAY],
        "resolved": not unresolved,
        "failed_any": any(r.status == ReplyStatus.FAILED for r in replies),
        "delay_state": DelayState.objects.filter(incident=incident).first(),
        "delay_due": unresolved and incident.opened_at <= clock.now() - timedelta(hours=hours),
        "delay_hours": hours,
        "can_delay_notice": unresolved and any(r["ticket_number"] for r in rows),
        "configured": bool(settings.GROOVE_TOKEN),
        "kinds": [(ReplyKind.HOLDING, ReplyKind.HOLDING.label), (ReplyKind.DELAY, ReplyKind.DELAY.label),
                  (ReplyKind.RESOLUTION, ReplyKind.RESOLUTION.label)],
    }
