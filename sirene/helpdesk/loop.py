"""Closing the loop with every customer of an incident: which replies are queued, to whom, and what
happens to customers whose case has no helpdesk ticket.

- Holding reply: every linked customer with a ticket gets one when the incident opens or their case
  joins it (`queue_incident_holding`, a worker sweep, once per ticket).
- Resolution: the lead's customer text (separate from the internal resolution) goes to every ticket
  exactly once (`services.queue_resolution_replies`); the preview shows the exact text and the count.
- Customers without a ticket are listed ("ohne Ticket – nicht benachrichtigt") until someone
  decides: start a new conversation (a new Groove ticket to their e-mail, sent by the worker) or
  "no reply needed". Both are `Outreach` rows, one per (incident, case, kind).

How a reply is delivered (claims, crash safety) belongs to the sending code; this module decides
which replies exist and what they say.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from sirene.accounts.models import User
from sirene.cases.models import Case
from sirene.core import clock, jobs
from sirene.core.errors import FieldError
from sirene.helpdesk import replies
from sirene.helpdesk.models import CustomerReply, Outreach, ReplyKind, ReplyStatus
from sirene.incidents.models import Incident, IncidentStatus
from sirene.integrations.base import Helpdesk, IntegrationError
from sirene.integrations.registry import helpdesk_client

log = logging.getLogger(__name__)

CUSTOMER_KINDS = (ReplyKind.HOLDING, ReplyKind.DELAY, ReplyKind.RESOLUTION)
MAX_AUTO_ATTEMPTS = 4
CLAIM_SECONDS = 120.0


class LoopError(FieldError):
    pass


def _linked(incident: Incident) -> list[Case]:
    return list(incident.cases.select_related("customer").order_by("received_at", "id"))


def _email(case: Case) -> str:
    return (case.customer.email or str(case.customer)).strip()


def _bucket(status: str) -> str:
    """sent / queued / failed; a reply whose outcome is unknown (interrupted, unfindable) needs a
    person, like a failed one."""
    if status == ReplyStatus.SENDING:
        return "queued"
    if status in (ReplyStatus.SENT, ReplyStatus.QUEUED, ReplyStatus.FAILED):
        return str(status)
    return "failed"


def summaries(incident: Incident) -> dict[str, dict[str, Any]]:
    """Per customer text (holding, delay, resolution): {"sent", "queued", "failed", "without_ticket":
    [e-mail…], "not_needed": [e-mail…]}, counting replies to tickets and new conversations alike.
    Three queries however many customers."""
    from sirene.helpdesk.services import ticket_number

    out: dict[str, dict[str, Any]] = {
        kind: {"sent": 0, "queued": 0, "failed": 0, "without_ticket": [], "not_needed": []}
        for kind in CUSTOMER_KINDS
    }
    for kind, status in CustomerReply.objects.filter(incident=incident, kind__in=CUSTOMER_KINDS).values_list(
        "kind", "status"
    ):
        out[kind][_bucket(status)] += 1
    decided: dict[tuple[int, str], Outreach] = {}
    for outreach in Outreach.objects.filter(incident=incident):
        decided[(outreach.case_id, outreach.kind)] = outreach
        if outreach.decision == Outreach.Decision.NEW_CONVERSATION and outreach.kind in out:
            out[outreach.kind][_bucket(outreach.status)] += 1
    for case in _linked(incident):
        if ticket_number(case) is not None:
            continue
        email = _email(case)
        for kind in CUSTOMER_KINDS:
            found = decided.get((case.pk, kind))
            key = "without_ticket" if found is None else (
                "not_needed" if found.decision == Outreach.Decision.NOT_NEEDED else ""
            )
            if key and email not in out[kind][key]:
                out[kind][key].append(email)
    return out


def summary(incident: Incident, kind: str = ReplyKind.RESOLUTION) -> dict[str, Any]:
    """One kind of customer text (the resolution by default), as in `summaries`."""
    return summaries(incident)[kind]


def customer_rows(incident: Incident) -> list[dict[str, Any]]:
    """Per linked case: ticket, and for each customer text its reply (or outreach) and state."""
    from sirene.helpdesk.services import ticket_number

    sent = {(r.case_id, r.kind): r for r in CustomerReply.objects.filter(incident=incident)}
    reached = {(o.case_id, o.kind): o for o in Outreach.objects.filter(incident=incident)}
    rows = []
    for case in _linked(incident):
        number = ticket_number(case)
        states = {}
        for kind in CUSTOMER_KINDS:
            reply = sent.get((case.pk, kind))
            outreach = reached.get((case.pk, kind))
            states[kind] = {"reply": reply, "outreach": outreach, "state": _state(number, reply, outreach)}
        rows.append({"case": case, "email": _email(case), "ticket_number": number, "kinds": states})
    return rows


def _state(number: int | None, reply: CustomerReply | None, outreach: Outreach | None) -> str:
    if reply is not None:
        return "queued" if reply.status == ReplyStatus.SENDING else str(reply.status)
    if outreach is not None:
        if outreach.decision == Outreach.Decision.NOT_NEEDED:
            return "not_needed"
        return "queued" if outreach.status == ReplyStatus.SENDING else outreach.status
    return "none" if number is not None else "without_ticket"


def preview(incident: Incident, customer_text: str) -> dict[str, Any]:
    """What resolving with `customer_text` sends: the exact reply (for the first customer with a
    ticket; the greeting is personal), how many tickets get it, who has no ticket."""
    from sirene.helpdesk.services import _values, ticket_number, voice_conflict, voice_for

    cases = _linked(incident)
    ticketed = [c for c in cases if ticket_number(c) is not None]
    sample = ticketed[0] if ticketed else (cases[0] if cases else None)
    values: dict[str, Any] = _values(sample, incident) if sample is not None else {"greeting": "Hallo,"}
    values["resolution"] = customer_text.strip() or replies.default_customer_text(incident)
    values.setdefault("subject", incident.customer_title or incident.title)
    already = CustomerReply.objects.filter(incident=incident, kind=ReplyKind.RESOLUTION).count()
    return {
        "text": replies.render(
            ReplyKind.RESOLUTION, values, which=voice_for(sample) if sample is not None else None
        ),
        # The lead's text written in one voice while some customers are addressed in the other.
        "voice_conflict": voice_conflict(values["resolution"], ticketed) or "",
        "tickets": len({ticket_number(c) for c in ticketed}) - already if incident.status != "resolved" else 0,
        "customers": len({c.customer_id for c in cases}),
        "without_ticket": [_email(c) for c in cases if ticket_number(c) is None],
    }


# -- holding replies at open -----------------------------------------------------------------------


def queue_incident_holding(limit: int = 200) -> int:
    """Every linked customer of a live incident with a ticket gets the holding reply, once."""
    from sirene.helpdesk.services import PROVIDER, queue_reply

    pending = (
        Case.objects.filter(source=PROVIDER, incidents__status__in=[IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED])
        .exclude(customer_replies__kind=ReplyKind.HOLDING)
        .select_related("customer")
        .distinct()[:limit]
    )
    queued = 0
    for case in pending:
        for incident in case.incidents.exclude(status=IncidentStatus.RESOLVED).order_by("opened_at")[:1]:
            _reply, created = queue_reply(ReplyKind.HOLDING, case, incident=incident)
            queued += int(created)
    return queued


# -- customers without a ticket --------------------------------------------------------------------


def _case_of(incident: Incident, case_id: int) -> Case:
    case = incident.cases.select_related("customer").filter(pk=case_id).first()
    if case is None:
        raise LoopError("case", f"case {case_id} is not linked to INC-{incident.pk}")
    return case


def _check_kind(incident: Incident, kind: str) -> None:
    if kind not in CUSTOMER_KINDS:
        raise LoopError("kind", f"{kind!r} is not one of: {', '.join(CUSTOMER_KINDS)}")
    if kind == ReplyKind.RESOLUTION and incident.status != IncidentStatus.RESOLVED:
        raise LoopError("kind", "the resolution text can only go out once the incident is resolved")


@transaction.atomic
def start_conversation(
    incident: Incident, case_id: int, *, kind: str = ReplyKind.RESOLUTION, user: User | None = None
) -> Outreach:
    """Reach a customer without a ticket: a new Groove conversation to their e-mail (once)."""
    from sirene.helpdesk.services import _values, ticket_number, voice_for

    _check_kind(incident, kind)
    case = _case_of(incident, case_id)
    if ticket_number(case) is not None:
        raise LoopError("case", "this customer has a ticket: the reply goes there")
    if not case.customer.email:
        raise LoopError("case", "this customer has no e-mail address")
    existing = Outreach.objects.filter(incident=incident, case=case, kind=kind).first()
    if existing is not None:
        if existing.decision == Outreach.Decision.NOT_NEEDED:
            # Changing one's mind from "no reply needed" is allowed; a started conversation stays.
            Outreach.objects.filter(pk=existing.pk).update(
                decision=Outreach.Decision.NEW_CONVERSATION, status=ReplyStatus.QUEUED, decided_by=user,
                decided_at=clock.now(), next_attempt_at=clock.now(),
            )
            existing.refresh_from_db()
        return existing
    body = replies.render(kind, _values(case, incident), which=voice_for(case))
    subject = incident.customer_title or incident.title
    try:
        with transaction.atomic():
            return Outreach.objects.create(
                incident=incident, case=case, kind=kind, email=case.customer.email, subject=subject[:300],
                body=body, decision=Outreach.Decision.NEW_CONVERSATION, decided_by=user,
                decided_at=clock.now(), next_attempt_at=clock.now(),
            )
    except IntegrityError:
        return Outreach.objects.get(incident=incident, case=case, kind=kind)


@transaction.atomic
def mark_not_needed(
    incident: Incident, case_id: int, *, kind: str = ReplyKind.RESOLUTION, user: User | None = None
) -> Outreach:
    if kind not in CUSTOMER_KINDS:
        raise LoopError("kind", f"{kind!r} is not one of: {', '.join(CUSTOMER_KINDS)}")
    case = _case_of(incident, case_id)
    existing = Outreach.objects.filter(incident=incident, case=case, kind=kind).first()
    if existing is not None:
        if existing.decision == Outreach.Decision.NEW_CONVERSATION and existing.status != ReplyStatus.FAILED:
            raise LoopError("case", "a conversation with this customer was started already")
        Outreach.objects.filter(pk=existing.pk).update(
            decision=Outreach.Decision.NOT_NEEDED, decided_by=user, decided_at=clock.now()
        )
        existing.refresh_from_db()
        return existing
    return Outreach.objects.create(
        incident=incident, case=case, kind=kind, email=_email(case)[:254],
        decision=Outreach.Decision.NOT_NEEDED, status=ReplyStatus.SENT, decided_by=user, decided_at=clock.now(),
    )


# New conversations on the one background-job primitive (issue 22, review P3): claimed with a lease,
# retried with the replies' backoff (1, 2, 4 minutes ± 20 %), dead after a permanent error or the last
# try (status FAILED, shown in the health report), revived only by a person.
OUTREACH: jobs.Queue[Outreach] = jobs.Queue(
    "new_conversations",
    Outreach,
    lane="background",
    backoff=jobs.Backoff(base=60.0, cap=3600.0, max_tries=MAX_AUTO_ATTEMPTS, jitter=0.2),
    lease_seconds=CLAIM_SECONDS,
    due="next_attempt_at",
    lease_until="claimed_until",
    tries="attempts",
    where=Q(decision=Outreach.Decision.NEW_CONVERSATION, status__in=[ReplyStatus.QUEUED, ReplyStatus.SENDING]),
)


def retry_outreach(outreach: Outreach) -> bool:
    rows = Outreach.objects.filter(
        pk=outreach.pk, status=ReplyStatus.FAILED, decision=Outreach.Decision.NEW_CONVERSATION
    )
    return bool(OUTREACH.revive(rows, status=ReplyStatus.QUEUED))


def send_due_outreach(limit: int = 20, client: Helpdesk | None = None) -> int:
    """Start the queued new conversations (worker). A conversation whose worker died mid-call is
    looked up among the customer's tickets before it is started again."""
    owner = jobs.worker_id()
    tried = 0
    for row_id in OUTREACH.claim(owner, limit=limit):
        outreach = Outreach.objects.select_related("case").get(pk=row_id)
        interrupted = outreach.status == ReplyStatus.SENDING
        if not Outreach.objects.filter(pk=row_id, lease_owner=owner).update(status=ReplyStatus.SENDING):
            continue
        client = client or helpdesk_client()
        _start_one(outreach, client, interrupted=interrupted, owner=owner)
        tried += 1
    return tried


def _start_one(outreach: Outreach, client: Helpdesk, *, interrupted: bool, owner: str) -> None:
    now = clock.now()
    try:
        number = None
        if interrupted and client.configured:
            for ticket in client.customer_tickets(outreach.email, limit=50):
                if ticket.title == outreach.subject and ticket.created_at and ticket.created_at >= outreach.decided_at:
                    number = ticket.number  # it went out before the crash: adopt it
                    break
        if number is None:
            number = client.start_conversation(outreach.email, outreach.subject, outreach.body)
    except IntegrationError as exc:
        OUTREACH.fail(
            outreach.pk,
            owner,
            str(exc),
            permanent=exc.permanent,
            retry_after=exc.retry_after,
            on_retry={"status": ReplyStatus.QUEUED},
            on_dead={"status": ReplyStatus.FAILED},
        )
        log.warning("new conversation with %s failed: %s", outreach.email, exc)
        return
    from sirene.cases import services as cases

    with transaction.atomic():
        OUTREACH.complete(outreach.pk, owner, status=ReplyStatus.SENT, ticket_number=number, sent_at=now)
        cases.mark_customer_contacted(
            outreach.case, how=f"{ReplyKind(outreach.kind).label}: new Groove conversation #{number}"
        )
