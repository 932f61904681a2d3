"""Talking back to customers through the helpdesk: holding replies, delay notices, resolution replies.

Every message is a CustomerReply row queued here and sent by the worker (`tasks.tick`), never inside a web
request; each try is a ReplyAttempt. Queuing is idempotent per (incident, ticket, kind) — or (case, ticket,
kind) outside an incident — so a retried action or two people clicking queue one reply, and a sent one is
never sent again. Inbound (webhooks, polling) lives in `inbound.py`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sirene.accounts.models import User
from sirene.cases import services as cases
from sirene.cases.models import Case, CaseEvent, Customer, Status
from sirene.core import clock, jobs
from sirene.core.errors import FieldError
from sirene.helpdesk import replies
from sirene.helpdesk.inbound import customer_tickets
from sirene.helpdesk.models import CustomerReply, DelayState, ReplyAttempt, ReplyKind, ReplyStatus
from sirene.incidents import events as incident_events
from sirene.incidents import services as incidents
from sirene.incidents.models import Incident, IncidentStatus
from sirene.integrations.base import Helpdesk, IntegrationError
from sirene.integrations.models import OutboxMessage
from sirene.integrations.registry import chat_transport, helpdesk_client
from sirene.integrations.slack import escape
from sirene.preferences import voice

log = logging.getLogger(__name__)

PROVIDER = "groove"
# Transient failures are retried automatically this many times in all (1, 2, 4 minutes apart, ± 20 %),
# then the reply is "failed" and waits for a person's retry (the report shows it).
MAX_AUTO_ATTEMPTS = 4
RETRY_BASE_SECONDS = 60.0
CLAIM_SECONDS = 120.0
REPLIES: jobs.Queue[CustomerReply] = jobs.Queue(
    "customer_replies",
    CustomerReply,
    lane="background",
    backoff=jobs.Backoff(base=RETRY_BASE_SECONDS, cap=3600.0, max_tries=MAX_AUTO_ATTEMPTS, jitter=0.2),
    lease_seconds=CLAIM_SECONDS,
    due="next_attempt_at",
    lease_until="claimed_until",
    tries="attempts",
    where=Q(status__in=[ReplyStatus.QUEUED, ReplyStatus.SENDING]),
)


class ReplyError(FieldError):
    """Bad input for this domain; `field` names the offending field."""


def delay_notice_hours() -> float:
    """settings.DELAY_NOTICE_HOURS: after this long unsolved, the owner is reminded to update customers."""
    return float(settings.DELAY_NOTICE_HOURS)


def ticket_number(case: Case) -> int | None:
    """The helpdesk ticket a case came from (cases from other sources have none to reply to)."""
    if case.source == PROVIDER and case.external_id.isdigit():
        return int(case.external_id)
    return None


def case_url(case: Case) -> str:
    return f"{settings.PUBLIC_URL}{case.get_absolute_url()}"


def _values(case: Case, incident: Incident | None = None) -> dict[str, Any]:
    name = (case.customer.name or "").strip()
    # Customers read the customer-facing title and text, never the internal title or cause.
    title = (incident.customer_title or incident.title) if incident is not None else ""
    if incident is not None:
        resolution = incident.customer_text or replies.default_customer_text(incident)
    else:
        resolution = case.solution or ""
    return {
        "greeting": f"Hallo {name}," if name else "Hallo,",
        "customer_name": name,
        "ticket_number": case.external_id,
        "subject": title or case.subject,
        "case_id": case.pk,
        "case_url": case_url(case),
        "incident_title": title,
        "resolution": resolution,
    }


def voice_for(case: Case, *, earlier_voice: str | None = None, looked_up: bool = False) -> str:
    """The voice of this case's conversation (`voice.choose`); `looked_up`: the caller already read the
    conversation's first voice (`earlier_voice`, None when it had none) with `earlier_voices`."""
    if not looked_up:
        earlier_voice = (
            CustomerReply.objects.filter(case=case)
            .exclude(voice="")
            .order_by("created_at", "id")
            .values_list("voice", flat=True)
            .first()
        )
    return voice.choose(f"{case.subject}\n{case.body}", earlier_voice)


def earlier_voices(cases: list[Case]) -> dict[int, str]:
    """{case id: the voice of its conversation's first text} for many cases in one query."""
    first: dict[int, str] = {}
    rows = (
        CustomerReply.objects.filter(case__in=[c.pk for c in cases])
        .exclude(voice="")
        .order_by("created_at", "id")
        .values_list("case_id", "voice")
    )
    for case_id, value in rows:
        first.setdefault(case_id, value)
    return first


def voice_conflict(text: str, cases: list[Case]) -> str | None:
    """A customer text written in one voice without "[Sie-Form|du-Form]" would mix voices for a customer
    addressed in the other one: the German reason, or None when every recipient reads one voice."""
    unmarked = voice.forms_of(voice.ALTERNATIVE.sub(" ", text))
    written = {v for v in (voice.SIE, voice.DU) if unmarked[v]}
    if not written:
        return None
    if len(written) == 2:
        return _("The text uses both “Sie” and “du”: write the form of address as [Sie form|du form].")
    earlier = earlier_voices(cases)
    other = [c for c in cases if voice_for(c, earlier_voice=earlier.get(c.pk), looked_up=True) not in written]
    if not other:
        return None
    return ngettext(
        "The text says “%(form)s”, but %(n)d customer is addressed the other way: write the form of address as [Sie form|du form].",
        "The text says “%(form)s”, but %(n)d customers are addressed the other way: write the form of address as [Sie form|du form].",
        len(other),
    ) % {"form": "Sie" if voice.SIE in written else "du", "n": len(other)}


def preview_reply(kind: str, case: Case | None, incident: Incident) -> str:
    """The exact text `kind` would send to this case's customer (the resolve preview)."""
    if case is None:
        return replies.render(kind, {"greeting": "Hallo,", "subject": incident.customer_title or incident.title,
                                     "incident_title": incident.customer_title or incident.title,
                                     "resolution": incident.customer_text or replies.default_customer_text(incident)})
    return replies.render(kind, _values(case, incident), which=voice_for(case))


def case_reply_text(case: Case) -> str:
    """The ready reply for one case (no incident): the confirmed known problem's hints for this platform,
    or the customer-side checks, in this conversation's voice (`GET /api/v1/cases/{id}/reply`)."""
    from sirene.incidents.panels import customer_hints_reply
    from sirene.knowledge.panels import confirmed_problem

    return customer_hints_reply(case, confirmed_problem(case), which=voice_for(case))


@transaction.atomic
def send_case_reply(case: Case, *, user: User | None = None) -> tuple[CustomerReply, bool]:
    """Queue the case's ready reply to its Groove ticket, exactly once (the reply queue sends it; a second
    click finds the row). Refused (ReplyError) for a case without a ticket or inside an incident (the
    incident answers its customers)."""
    if ticket_number(case) is None:
        raise ReplyError("case", "this case has no helpdesk ticket to reply to")
    if case.incidents.exists():
        raise ReplyError("case", "this case is part of an incident: the incident answers its customers")
    which = voice_for(case)
    text = case_reply_text(case)
    reply, created = queue_reply(ReplyKind.ANSWER, case, user=user, body=text, which=which)
    assert reply is not None
    if created:
        cases.record(
            case,
            CaseEvent.Kind.SYSTEM,
            actor=user,
            actor_label="sirene",
            data={"v": 2, "event": "case_reply_queued", "customer_reply": reply.pk, "ticket": reply.ticket_number},
        )
    return reply, created


def queue_reply(
    kind: str,
    case: Case,
    *,
    incident: Incident | None = None,
    user: User | None = None,
    body: str | None = None,
    which: str | None = None,
) -> tuple[CustomerReply | None, bool]:
    """Queue one reply of `kind` to the case's ticket, in the conversation's voice (`body`: a text already
    written in `which` voice). Returns (row, created); (None, False) without a ticket."""
    number = ticket_number(case)
    if number is None:
        return None, False
    lookup: dict[str, Any] = {"kind": kind, "ticket_number": number}
    if incident is not None:
        lookup["incident"] = incident
    else:
        lookup.update(case=case, incident__isnull=True)
    existing = CustomerReply.objects.filter(**lookup).first()
    if existing is not None:
        return existing, False
    which = which or voice_for(case)
    try:
        with transaction.atomic():
            reply = CustomerReply.objects.create(
                kind=kind,
                incident=incident,
                case=case,
                provider=PROVIDER,
                ticket_number=number,
                voice=which,
                body=body if body is not None else replies.render(kind, _values(case, incident), which=which),
                created_at=clock.now(),
                next_attempt_at=clock.now(),
                created_by=user,
            )
    except IntegrityError:
        # Someone queued the same reply a moment ago (two clicks): theirs stands.
        return CustomerReply.objects.filter(**lookup).first(), False
    return reply, True


def queue_replies(kind: str, cases: list[Case], *, incident: Incident) -> tuple[int, int]:
    """`queue_reply` for many cases of one incident in a few queries (resolving an incident with
    hundreds of cases stays one short transaction). Returns (queued, without_ticket)."""
    numbered = [(case, ticket_number(case)) for case in cases]
    wanted = {number: case for case, number in reversed(numbered) if number is not None}
    without_ticket = sum(1 for _case, number in numbered if number is None)
    existing = set(
        CustomerReply.objects.filter(kind=kind, incident=incident, ticket_number__in=list(wanted)).values_list(
            "ticket_number", flat=True
        )
    )
    own = replies.own_template(kind)
    earlier = earlier_voices(list(wanted.values()))
    now = clock.now()
    new = []
    for number, case in wanted.items():
        if number in existing:
            continue
        which = voice_for(case, earlier_voice=earlier.get(case.pk), looked_up=True)
        new.append(
            CustomerReply(
                kind=kind,
                incident=incident,
                case=case,
                provider=PROVIDER,
                ticket_number=number,
                voice=which,
                # The template was read once above; the built-in one is per voice (no query per case).
                body=replies.render(
                    kind, _values(case, incident), text=own if own is not None else replies.defaults(which)[kind], which=which
                ),
                created_at=now,
                next_attempt_at=now,
            )
        )
    try:
        with transaction.atomic():
            CustomerReply.objects.bulk_create(new)
    except IntegrityError:
        # Someone queued some of them a moment ago: queue the rest one by one, theirs stand.
        return sum(1 for c in cases if queue_reply(kind, c, incident=incident)[1]), without_ticket
    return len(new), without_ticket


# -- called by the flows (sirene.flows.cases / sirene.flows.incidents) ------------------------------


def queue_holding_reply_if_entered(case: Case, old: str, new: str) -> None:
    """Called after a case's status changed (inside its transaction).

    Entering "open question" queues the holding reply, once per case however often the status flips.
    """
    if new == Status.OPEN_QUESTION and old != Status.OPEN_QUESTION:
        reply, created = queue_reply(ReplyKind.HOLDING, case)
        if created and reply is not None:
            cases.record(
                case,
                CaseEvent.Kind.SYSTEM,
                actor_label="sirene",
                data={"v": 2, "event": "holding_reply_queued", "customer_reply": reply.pk, "ticket": reply.ticket_number},
            )


def queue_resolution_replies(incident: Incident) -> None:
    """Queue the resolution reply to every linked customer's ticket (exactly once per ticket)."""
    cases = list(incidents.linked_cases(incident))
    queued, without_ticket = queue_replies(ReplyKind.RESOLUTION, cases, incident=incident)
    incident_events.record(
        incident,
        "customer_replies",
        actor_label="sirene",
        queued=queued,
        without_ticket=without_ticket,
    )


def holding_reply_status(
    case: Case, *, replies: list[CustomerReply] | None = None
) -> tuple[str, datetime | None]:
    """("sent"|"queued"|"failed"|"unknown"|"none", when) for the case's holding reply (`replies`: all
    the case's replies, when the caller already read them)."""
    if replies is not None:
        reply = next((r for r in replies if r.kind == ReplyKind.HOLDING and r.incident_id is None), None)
    else:
        reply = CustomerReply.objects.filter(case=case, kind=ReplyKind.HOLDING, incident__isnull=True).first()
    if reply is None:
        return "none", None
    if reply.status == ReplyStatus.SENT:
        return "sent", reply.sent_at
    if reply.status in (ReplyStatus.FAILED, ReplyStatus.UNKNOWN):
        last = reply.attempt_rows.order_by("-at").first()
        return str(reply.status), last.at if last else reply.created_at
    return "queued", reply.created_at


# -- actions people take ---------------------------------------------------------------------------


_RETRYABLE = [ReplyStatus.FAILED, ReplyStatus.UNKNOWN]


def _requeue(rows: Any) -> int:
    # A person checked: for an "unknown" reply, that it is not on the ticket. Sending is the first time.
    # The count of tries stays (the page shows it), so each click buys at least one more try.
    return int(
        rows.filter(status__in=_RETRYABLE).update(
            status=ReplyStatus.QUEUED,
            next_attempt_at=clock.now(),
            claimed_until=None,
            lease_owner="",
            dead_at=None,
            sending_at=None,
        )
    )


def retry_reply(reply: CustomerReply, *, user: User | None = None) -> bool:
    """Queue a failed or unknown reply again (the retry button). A sent or queued reply is left alone."""
    return bool(_requeue(CustomerReply.objects.filter(pk=reply.pk)))


def mark_reply_sent(reply: CustomerReply, *, user: User | None = None) -> bool:
    """A person found an "unknown" reply on the Groove ticket: record it as sent, never send it again."""
    now = clock.now()
    with transaction.atomic():
        changed = CustomerReply.objects.filter(pk=reply.pk, status=ReplyStatus.UNKNOWN).update(
            status=ReplyStatus.SENT, sent_at=now, last_error="", next_attempt_at=None
        )
        if changed:
            ReplyAttempt.objects.create(
                reply=reply,
                at=now,
                outcome=ReplyAttempt.Outcome.FOUND,
                error=f"confirmed in Groove by {user.display_name() if user else 'a person'}"[:2000],
            )
    return bool(changed)


def retry_failed(incident: Incident, *, user: User | None = None) -> int:
    return _requeue(CustomerReply.objects.filter(incident=incident))


def post_case_note(case: Case, *, user: User | None) -> CustomerReply:
    """Queue a private note on the case's Groove ticket that links to the sirene case (once per case)."""
    reply, _created = queue_reply(ReplyKind.NOTE, case, user=user)
    if reply is None:
        raise ReplyError("case", "this case did not come from a Groove ticket")
    return reply


@transaction.atomic
def send_delay_notice(
    *, incident: Incident | None = None, case: Case | None = None, user: User | None = None
) -> int:
    """Queue the delay notice to every affected customer (an incident's linked cases, or one case)."""
    if (incident is None) == (case is None):
        raise ReplyError("target", "give exactly one of incident or case")
    if incident is not None:
        if incident.status == IncidentStatus.RESOLVED:
            raise ReplyError("incident", "is already resolved")
        targets = list(incidents.linked_cases(incident))
    else:
        assert case is not None
        if not case.is_open:
            raise ReplyError("case", "is already solved")
        targets = [case]
    queued = 0
    for target in targets:
        _reply, created = queue_reply(ReplyKind.DELAY, target, incident=incident, user=user)
        queued += int(created)
    state = _delay_state(incident=incident, case=case)
    if state.notified_at is None:
        DelayState.objects.filter(pk=state.pk).update(notified_at=clock.now())
    if incident is not None:
        incident_events.record(incident, "delay_notice", actor=user, queued=queued)
    elif case is not None:
        cases.record(case, CaseEvent.Kind.SYSTEM, actor=user, data={"v": 2, "event": "delay_notice_queued"})
    return queued


def _delay_state(*, incident: Incident | None = None, case: Case | None = None) -> DelayState:
    lookup: dict[str, Any] = {"incident": incident} if incident is not None else {"case": case}
    try:
        with transaction.atomic():
            state, _created = DelayState.objects.get_or_create(**lookup)
    except IntegrityError:
        state = DelayState.objects.get(**lookup)
    return state


# -- the worker's side: sending --------------------------------------------------------------------
#
# The escalation discipline (escalation/worker.py) for customer replies: a reply is claimed (core.jobs lease),
# marked `sending` with `sending_at` (committed) before the POST, and recorded `sent` after it. A reply
# whose `sending_at` is set but not confirmed (the worker died mid-POST, or the POST timed out / got a
# 5xx) may already be on the ticket: before it is posted again the ticket is searched for the reply's
# marker. Where the helpdesk cannot be searched the reply becomes "unknown — check Groove" (at most once,
# on purpose) and waits for a person.


def send_due(limit: int = 50, client: Helpdesk | None = None, *, owner: str | None = None) -> int:
    """Send queued replies whose time has come; returns how many were tried."""
    owner = owner or jobs.worker_id()
    tried = 0
    for reply_id in REPLIES.claim(owner, limit=limit):
        reply = CustomerReply.objects.select_related("case", "case__customer").get(pk=reply_id)
        client = client or helpdesk_client()
        _deliver(reply, client, owner)
        tried += 1
    return tried


def _deliver(reply: CustomerReply, client: Helpdesk, owner: str) -> None:
    if reply.sending_at is not None:
        found = _look_up(reply, client, owner)
        if found is not _NOT_THERE:
            return
    now = clock.now()
    marked = CustomerReply.objects.filter(pk=reply.pk, lease_owner=owner).update(
        status=ReplyStatus.SENDING, sending_at=now
    )
    if not marked:
        return  # the lease ran out meanwhile: another worker has the row
    try:
        if reply.kind == ReplyKind.NOTE:
            message_id = client.add_note(reply.ticket_number, reply.body, marker=reply.marker)
        else:
            message_id = client.reply(reply.ticket_number, reply.body, marker=reply.marker)
    except IntegrationError as exc:
        failure = REPLIES.fail(
            reply.pk,
            owner,
            str(exc),
            permanent=exc.permanent,
            retry_after=exc.retry_after,
            on_retry={"status": ReplyStatus.QUEUED},
            on_dead={"status": ReplyStatus.FAILED},
            # A permanent refusal (4xx) proves nothing was stored; anything else may have been.
            **({"sending_at": None} if exc.permanent else {}),
        )
        ReplyAttempt.objects.create(
            reply=reply,
            at=now,
            outcome=ReplyAttempt.Outcome.PERMANENT if failure.dead else ReplyAttempt.Outcome.TRANSIENT,
            error=str(exc)[:2000],
        )
        log.warning(
            "helpdesk %s to ticket #%s failed (%s): %s",
            reply.kind,
            reply.ticket_number,
            "giving up" if failure.dead else "will retry",
            exc,
        )
        return
    _record_sent(reply, client, owner, message_id, ReplyAttempt.Outcome.SENT)


class _Missing:
    pass


_NOT_THERE = _Missing()


def _look_up(reply: CustomerReply, client: Helpdesk, owner: str) -> object:
    """A previous POST's outcome is unknown: find it on the ticket. Returns _NOT_THERE when it is not there
    (then sending is the first time); anything else means the row is settled or rescheduled."""
    since = reply.sending_at
    try:
        message_id = client.find_posted(reply.ticket_number, reply.marker, since=since)
    except IntegrationError as exc:
        if not exc.permanent:
            REPLIES.fail(
                reply.pk,
                owner,
                f"lookup: {exc}",
                retry_after=exc.retry_after,
                on_retry={"status": ReplyStatus.QUEUED},
                on_dead={"status": ReplyStatus.UNKNOWN},
            )
            return None
        # No lookup is possible: do not guess. At most once, and a person decides.
        REPLIES.complete(
            reply.pk,
            owner,
            status=ReplyStatus.UNKNOWN,
            last_error=f"not findable on the ticket: {exc}"[:2000],
        )
        ReplyAttempt.objects.create(
            reply=reply, at=clock.now(), outcome=ReplyAttempt.Outcome.UNKNOWN, error=str(exc)[:2000]
        )
        log.warning("helpdesk %s to ticket #%s: outcome unknown (%s)", reply.kind, reply.ticket_number, exc)
        return None
    if message_id is None:
        return _NOT_THERE
    log.info("helpdesk %s to ticket #%s was posted before a crash; recorded", reply.kind, reply.ticket_number)
    _record_sent(reply, client, owner, message_id, ReplyAttempt.Outcome.FOUND)
    return message_id


def _record_sent(
    reply: CustomerReply, client: Helpdesk, owner: str, message_id: str, outcome: ReplyAttempt.Outcome
) -> None:
    now = clock.now()
    with transaction.atomic():
        done = REPLIES.complete(
            reply.pk,
            owner,
            status=ReplyStatus.SENT,
            sent_at=now,
            provider_message_id=message_id[:100],
        )
        if not done:
            return
        ReplyAttempt.objects.create(
            reply=reply, at=now, outcome=outcome, provider_message_id=message_id[:100]
        )
        _after_sent(reply, client)


def _after_sent(reply: CustomerReply, client: Helpdesk) -> None:
    where = (
        f"Groove #{reply.ticket_number}" if client.configured else f"outbox (Groove #{reply.ticket_number})"
    )
    if reply.kind == ReplyKind.NOTE:
        cases.record(
            reply.case,
            CaseEvent.Kind.SYSTEM,
            actor_label="sirene",
            message=f"Private note linking to this case posted to {where}",
        )
        return
    label = ReplyKind(reply.kind).label
    cases.mark_customer_contacted(reply.case, how=f"{label} sent via {where}")


# -- delay reminders (worker) ----------------------------------------------------------------------


def open_question_since(case: Case, *, events: list[CaseEvent] | None = None) -> datetime | None:
    """When the case last became an open question (`events`: all its events, when already read)."""
    if events is not None:
        entered = [e for e in events if e.field == "status" and e.new_value == Status.OPEN_QUESTION]
        latest = max(entered, key=lambda e: (e.at, e.pk), default=None)
        return latest.at if latest is not None else None
    event = (
        CaseEvent.objects.filter(case=case, field="status", new_value=Status.OPEN_QUESTION)
        .order_by("-at", "-id")
        .first()
    )
    return event.at if event is not None else None


def remind_delays(limit: int = 50) -> int:
    """Remind owners of incidents and open questions unsolved for longer than the configured time."""
    cutoff = clock.now() - timedelta(hours=delay_notice_hours())
    done = 0
    incidents_due = (
        Incident.objects.exclude(status=IncidentStatus.RESOLVED)
        .filter(opened_at__lte=cutoff)
        .exclude(delay_state__reminded_at__isnull=False)
        .select_related("acknowledged_by", "opened_by")[:limit]
    )
    for incident in incidents_due:
        owner = incident.acknowledged_by or incident.opened_by
        if _claim_reminder(incident=incident):
            via = _remind(
                owner,
                f"INC-{incident.pk} „{escape(incident.title)}“",
                f"{settings.PUBLIC_URL}{incident.get_absolute_url()}",
            )
            DelayState.objects.filter(incident=incident).update(reminded_via=via)
            incident_events.record(
                incident,
                "delay_reminder",
                actor_label="sirene",
                hours=delay_notice_hours(),
                via=via,
            )
            done += 1
    cases_due = (
        Case.objects.filter(status=Status.OPEN_QUESTION)
        .exclude(delay_state__reminded_at__isnull=False)
        .select_related("owner")[:limit]
    )
    for case in cases_due:
        since = open_question_since(case)
        if since is None or since > cutoff or not _claim_reminder(case=case):
            continue
        via = _remind(case.owner, f"#{case.pk} „{escape(case.subject)}“", case_url(case))
        DelayState.objects.filter(case=case).update(reminded_via=via)
        cases.record(
            case,
            CaseEvent.Kind.SYSTEM,
            actor_label="sirene",
            message=f"Open question unsolved for over {delay_notice_hours():g} h: owner reminded ({via})",
        )
        done += 1
    return done


def _claim_reminder(*, incident: Incident | None = None, case: Case | None = None) -> bool:
    """At most once (core.jobs.take_once): the reminder is consumed before the DM is sent, so two
    workers never remind twice and a crash in between loses one reminder rather than repeating it."""
    state = _delay_state(incident=incident, case=case)
    return jobs.take_once(
        DelayState.objects.filter(reminded_at__isnull=True), state.pk, reminded_at=clock.now()
    )


def _remind(owner: User | None, what: str, url: str) -> str:
    text = (
        f"{what} ist seit über {delay_notice_hours():g} Stunden ungelöst. "
        f"Bitte informiere die betroffenen Kunden mit einem Zwischenstand: {url}"
    )
    slack_id = getattr(owner, "slack_user_id", "") if owner is not None else ""
    if slack_id:
        try:
            chat_transport().send_dm(slack_id, text)
            return "slack"
        except IntegrationError as exc:
            log.warning("delay reminder DM failed: %s", exc)
    OutboxMessage.objects.create(
        channel=OutboxMessage.Channel.SLACK,
        kind="dm",
        recipient=owner.display_name() if owner is not None else "(no owner)",
        body=text,
        payload={"url": url},
    )
    return "outbox"


def open_tickets_for(customer: Customer) -> list[dict[str, Any]]:
    """The customer's open helpdesk tickets from the cache (the troubleshooting workspace's joint view)."""
    if not customer.email:
        return []
    return [
        {
            "number": t.number,
            "title": t.title,
            "state": t.state,
            "url": t.url,
            "updated_at": t.remote_updated_at,
        }
        for t in customer_tickets(customer.email)
        if t.is_open
    ]
