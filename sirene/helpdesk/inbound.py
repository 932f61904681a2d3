"""Tickets coming in from the helpdesk: stored webhook deliveries, polling (`sync-groove`) and the cache.

Nothing in a webhook body is trusted: it only says which ticket (or message) to look at, and the API's
version of that ticket decides. A ticket tagged with settings.TECH_TAG becomes a case through
the `report` function the caller passes in (idempotent on the ticket number; the application-error tag is
refused there). The worker passes `flows.intake.report_case`, so a case a stored delivery creates is analysed
in the same step; `cases.services.intake` (the default) only stores it, and `sync-groove` runs
`flows.intake.analyse_pending` itself when it is done.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from sirene.cases import services as cases
from sirene.cases.models import Case, CaseEvent
from sirene.core import clock, jobs
from sirene.core.memo import per_page
from sirene.helpdesk import aftercare
from sirene.helpdesk.models import CachedTicket, CustomerTicketsFetch, DeliveryProgress, SyncCursor
from sirene.integrations import groove
from sirene.integrations.base import Helpdesk, IntegrationError, Message, Ticket
from sirene.integrations.models import WebhookDelivery
from sirene.integrations.registry import helpdesk_client

log = logging.getLogger(__name__)

PROVIDER = "groove"
MAX_DELIVERY_ATTEMPTS = 8
DELIVERY_CLAIM_SECONDS = 60.0
DELIVERIES: jobs.Queue[DeliveryProgress] = jobs.Queue(
    "webhook_deliveries",
    DeliveryProgress,
    lane="background",
    # 30 s, 1, 2, 4 … minutes (± 20 %), at most an hour apart; after 8 tries the delivery is dead.
    backoff=jobs.Backoff(base=30.0, cap=3600.0, max_tries=MAX_DELIVERY_ATTEMPTS, jitter=0.2),
    lease_seconds=DELIVERY_CLAIM_SECONDS,
    due="next_attempt_at",
    tries="attempts",
    where=Q(delivery__processed_at__isnull=True),
)
TICKET_EVENTS = frozenset(
    {"ticket_started", "ticket_opened", "ticket_tagged", "ticket_closed", "ticket_state_changed"}
)


class Report(Protocol):
    """Stores one report as a case: `cases.services.intake` (store only) or `flows.intake.report_case`
    (store, then analyse)."""

    def __call__(self, data: cases.IntakeData, *, actor_label: str) -> cases.IntakeResult: ...


def is_tech(ticket: Ticket) -> bool:
    wanted = cases.normalise_tag(settings.TECH_TAG)
    return wanted in cases.normalise_tags(ticket.tags)


def find_case(number: int) -> Case | None:
    return Case.objects.filter(source=PROVIDER, external_id=str(number)).select_related("customer").first()


# -- cache -----------------------------------------------------------------------------------------


def cache_ticket(ticket: Ticket) -> CachedTicket:
    values = {
        "customer_email": ticket.customer_email,
        "title": ticket.title[:500],
        "state": ticket.state[:30],
        "tags": list(ticket.tags),
        "url": ticket.url[:500],
        "summary": ticket.summary[:5000],
        "remote_created_at": ticket.created_at,
        "remote_updated_at": ticket.updated_at,
        "fetched_at": clock.now(),
    }
    try:
        with transaction.atomic():
            row, _ = CachedTicket.objects.update_or_create(
                provider=PROVIDER, number=ticket.number, defaults=values
            )
    except IntegrityError:
        CachedTicket.objects.filter(provider=PROVIDER, number=ticket.number).update(**values)
        row = CachedTicket.objects.get(provider=PROVIDER, number=ticket.number)
    return row


def refresh_customer_tickets(email: str, client: Helpdesk | None = None) -> int:
    """Fetch the customer's tickets into the cache (the case page shows them); returns how many."""
    email = email.strip().lower()
    if not email:
        return 0
    client = client or helpdesk_client()
    error = ""
    tickets: list[Ticket] = []
    try:
        tickets = client.customer_tickets(email)
    except IntegrationError as exc:
        error = str(exc)
        log.info("could not fetch the tickets of a customer: %s", exc)
    for ticket in tickets:
        cache_ticket(ticket)
    CustomerTicketsFetch.objects.update_or_create(
        provider=PROVIDER, customer_email=email, defaults={"fetched_at": clock.now(), "error": error[:2000]}
    )
    return len(tickets)


@per_page
def customer_tickets(email: str) -> list[CachedTicket]:
    return list(CachedTicket.objects.filter(provider=PROVIDER, customer_email=email.strip().lower()))


# -- turning tickets into cases --------------------------------------------------------------------


def ingest_ticket(
    ticket: Ticket, *, actor_label: str = "groove", report: Report = cases.intake
) -> tuple[Case | None, bool]:
    """A tech-tagged ticket becomes a case (once). Returns (case, created)."""
    if not is_tech(ticket):
        return find_case(ticket.number), False
    if not ticket.customer_email:
        raise IntegrationError(
            f"Groove ticket #{ticket.number}: no customer e-mail", permanent=True, provider=PROVIDER
        )
    result = report(
        cases.IntakeData(
            source=PROVIDER,
            external_id=str(ticket.number),
            subject=ticket.title[:500],
            body=ticket.summary,
            customer=cases.CustomerData(email=ticket.customer_email, name=ticket.customer_name),
            tags=list(ticket.tags),
            channel=str(ticket.raw.get("type") or "email").lower()[:50],
            received_at=ticket.created_at,
            raw_payload=ticket.raw,
        ),
        actor_label=actor_label,
    )
    return result.case, result.created


def add_customer_message(case: Case, message: Message) -> bool:
    """Add a customer's reply to the case history, once per helpdesk message."""
    if message.note or message.from_agent or not message.body.strip():
        return False
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if CaseEvent.objects.filter(
            case=locked, kind=CaseEvent.Kind.MESSAGE, data__message_id=message.id
        ).exists():
            return False
        suffix = "" if locked.is_open else " (the case is already solved)"
        cases.record(
            locked,
            CaseEvent.Kind.MESSAGE,
            actor_label="groove",
            message=f"Customer replied in Groove{suffix}:\n{message.body.strip()[:10000]}",
            data={"message_id": message.id, "ticket": message.ticket_number},
        )
    return True


def reflect_closed(ticket: Ticket) -> bool:
    """A ticket closed in Groove shows on the case. The case is NOT solved by it: an agent may close the
    ticket after a workaround while the tech problem is still open, so an open case is flagged instead."""
    case = find_case(ticket.number)
    if case is None or not ticket.is_closed:
        return False
    stamp = ticket.updated_at.isoformat() if ticket.updated_at else ""
    if CaseEvent.objects.filter(case=case, data__groove_closed=stamp or "closed").exists():
        return False
    flag = " while the case is still open: check whether the tech problem is solved" if case.is_open else ""
    cases.record(
        case,
        CaseEvent.Kind.SYSTEM,
        actor_label="groove",
        message=f"Groove ticket #{ticket.number} was closed{flag}",
        data={"groove_closed": stamp or "closed", "case_open": case.is_open},
    )
    return True


# -- webhook deliveries (stored by sirene.hooks.groove, processed here by the worker) ---------


def process_delivery(delivery: WebhookDelivery, client: Helpdesk, *, report: Report = cases.intake) -> str:
    """Act on one stored delivery. Raises IntegrationError (transient → retried) or ValueError (bad shape)."""
    data = json.loads(delivery.body)
    if not isinstance(data, dict):
        raise ValueError("body: must be a JSON object")
    event = delivery.event
    if event == "customer_replied":
        return _on_customer_replied(data, client, report)
    if event in TICKET_EVENTS:
        wrapped = data.get("ticket")
        payload: dict[str, Any] = wrapped if isinstance(wrapped, dict) else data
        number = groove.ticket_from_json(payload).number
        ticket = client.fetch_ticket(number)  # the API's version wins over the payload
        cache_ticket(ticket)
        case, created = ingest_ticket(ticket, report=report)
        if created and case is not None:
            refresh_customer_tickets(ticket.customer_email, client)
        closed = reflect_closed(ticket) if ticket.is_closed else False
        return (
            f"ticket #{number}: "
            + ("case created" if created else "case exists" if case else "not a tech case")
            + (", closed" if closed else "")
        )
    return f"ignored event {event!r}"


def _on_customer_replied(data: dict[str, object], client: Helpdesk, report: Report) -> str:
    claimed = groove.message_from_json(data)
    message = client.fetch_message(claimed.id)
    number = message.ticket_number or claimed.ticket_number
    if number is None:
        raise ValueError("links.ticket.href: names no ticket")
    ticket = client.fetch_ticket(number)
    cache_ticket(ticket)
    case, created = ingest_ticket(ticket, report=report)
    if case is None:
        return f"ticket #{number}: not a tech case"
    if created:
        refresh_customer_tickets(ticket.customer_email, client)
        return f"ticket #{number}: case created"
    added = add_customer_message(case, message)
    answer = aftercare.record(case, message)  # ★ an answer to a resolution reply: sorted once
    if answer is not None:
        return f"ticket #{number}: answer after the resolution ({answer.verdict})"
    return f"ticket #{number}: " + ("message added" if added else "message already known")


def process_pending(
    limit: int = 20,
    client: Helpdesk | None = None,
    *,
    report: Report = cases.intake,
    owner: str | None = None,
) -> int:
    """Process stored deliveries (oldest first); each is a core.jobs row: leased, backed off, dead at the end.

    Re-processing after a crash is harmless: the ticket is re-fetched and intake is idempotent."""
    owner = owner or jobs.worker_id()
    now = clock.now()
    # A delivery gets its queue row when the worker first sees it (the webhook view only stores it).
    fresh = list(
        WebhookDelivery.objects.filter(
            source=PROVIDER, processed_at__isnull=True, helpdesk_progress__isnull=True
        )
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    if fresh:
        DeliveryProgress.objects.bulk_create(
            [DeliveryProgress(delivery_id=pk, next_attempt_at=now) for pk in fresh], ignore_conflicts=True
        )
    done = 0
    for progress_id in DELIVERIES.claim(owner, limit=limit):
        progress = DeliveryProgress.objects.select_related("delivery").get(pk=progress_id)
        delivery = progress.delivery
        client = client or helpdesk_client()
        done += 1
        try:
            outcome = process_delivery(delivery, client, report=report)
        except IntegrationError as exc:
            failure = DELIVERIES.fail(
                progress.pk, owner, str(exc), permanent=exc.permanent, retry_after=exc.retry_after
            )
            if failure.dead:
                _finish(delivery, error=str(exc))
            else:
                WebhookDelivery.objects.filter(pk=delivery.pk).update(error=f"will retry: {exc}"[:2000])
            log.warning("Groove delivery %s (%s) failed: %s", delivery.pk, delivery.event, exc)
        except (ValueError, cases.IntakeError) as exc:
            log.warning("Groove delivery %s (%s) is malformed: %s", delivery.pk, delivery.event, exc)
            DELIVERIES.complete(progress.pk, owner, last_error=f"malformed: {exc}"[:2000])
            _finish(delivery, error=f"malformed: {exc}")
        else:
            DELIVERIES.complete(progress.pk, owner)
            _finish(delivery, error="", note=outcome)
    return done


def _finish(delivery: WebhookDelivery, *, error: str, note: str = "") -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        processed_at=clock.now(), error=(error or "")[:2000]
    )
    if note:
        log.info("Groove delivery %s (%s): %s", delivery.pk, delivery.event, note)


# -- polling fallback (sirene sync-groove) ---------------------------------------------------------


@dataclass
class SyncResult:
    pages: int = 0
    tickets: int = 0
    cases_created: int = 0
    completed: bool = False
    resumed_from: int = 1
    answers: int = 0


def sync_tickets(
    *,
    since: datetime | None = None,
    restart: bool = False,
    max_pages: int | None = None,
    client: Helpdesk | None = None,
    on_page: Callable[[int, int | None, int], None] | None = None,
) -> SyncResult:
    """Walk Groove's ticket list page by page, caching every ticket and turning tech tickets into cases.

    The cursor is saved after each page, so an interrupted run resumes where it stopped. Without
    `since`, a run picks up from the start of the last completed run (tickets updated before are skipped).
    """
    client = client or helpdesk_client()
    cursor, _ = SyncCursor.objects.get_or_create(name=PROVIDER)
    if since is not None and since != cursor.since:
        cursor.since, restart = since, True
    if restart or cursor.next_page <= 1 or cursor.run_started_at is None:
        cursor.next_page = 1
        cursor.run_started_at = clock.now()
        cursor.tickets_seen = cursor.cases_created = 0
    cursor.save()
    result = SyncResult(resumed_from=cursor.next_page)
    page: int | None = cursor.next_page
    while page is not None and (max_pages is None or result.pages < max_pages):
        batch = client.list_tickets(page=page)
        created_before = result.cases_created
        for ticket in batch.tickets:
            if cursor.since and ticket.updated_at and ticket.updated_at < cursor.since:
                continue
            cache_ticket(ticket)
            result.tickets += 1
            try:
                _case, created = ingest_ticket(ticket, actor_label="groove-sync")
            except (IntegrationError, cases.IntakeError) as exc:
                log.warning("sync: ticket #%s skipped: %s", ticket.number, exc)
                continue
            result.cases_created += int(created)
        result.pages += 1
        next_page = batch.next_page if batch.next_page and batch.next_page > page else None
        cursor.tickets_seen += len(batch.tickets)
        cursor.cases_created += result.cases_created - created_before
        if next_page is None:
            cursor.since = cursor.run_started_at
            cursor.last_completed_at = clock.now()
            cursor.next_page = 1
            result.completed = True
        else:
            cursor.next_page = next_page
        cursor.save()
        if on_page is not None:
            on_page(page, batch.total_pages, len(batch.tickets))
        page = next_page
    if result.completed:
        # ★ Customers' answers to resolution replies (the webhook's customer_replied, by polling).
        try:
            result.answers = sync_answers(client)
        except IntegrationError as exc:
            log.warning("sync: answers after resolution not read: %s", exc)
    return result


ANSWER_SYNC_DAYS = 7


def sync_answers(client: Helpdesk, *, days: float = ANSWER_SYNC_DAYS, limit: int = 500) -> int:
    """For teams without webhooks (`sirene sync-groove`): read the messages of every ticket whose
    resolution reply went out in the last `days` and sort the customers' answers since (once each:
    one row per message id). Returns how many answers were new."""
    from sirene.helpdesk.models import AfterAnswer, CustomerReply, ReplyKind, ReplyStatus
    from sirene.incidents.models import IncidentStatus

    since = clock.now() - timedelta(days=days)
    replies = (
        CustomerReply.objects.filter(
            kind=ReplyKind.RESOLUTION,
            status=ReplyStatus.SENT,
            sent_at__gte=since,
            incident__status=IncidentStatus.RESOLVED,
        )
        .select_related("case", "incident")
        .order_by("-sent_at")[:limit]
    )
    new = 0
    for reply in replies:
        if reply.sent_at is None:
            continue
        for message in client.ticket_messages(reply.ticket_number, since=reply.sent_at):
            if message.note or message.from_agent or (message.created_at and message.created_at < reply.sent_at):
                continue
            known = AfterAnswer.objects.filter(incident=reply.incident, message_id=message.id).exists()
            add_customer_message(reply.case, message)
            if aftercare.record(reply.case, message) is not None and not known:
                new += 1
    return new
