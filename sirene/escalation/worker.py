"""Carrying out the engine's decisions: claim due runs, execute Attempt rows, reconcile after a crash.

Claiming: due runs (next_action_at <= now) whose lease is free or expired are leased to this worker in
one transaction (SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's IMMEDIATE transaction is
exclusive). A killed worker's lease expires and another worker takes the run over.

Exactly once: every side effect is an Attempt row created (pending) in the same transaction as the
state change that decided it; before the provider is called it is marked `sending` (committed), after
it `sent` with the provider id. An attempt found still `sending` by the next owner was interrupted
mid-call: it is looked up at the provider (Slack metadata, Twilio call list) before anything is redone.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When

from sirene.accounts.models import User
from sirene.core import clock, jobs
from sirene.escalation import engine, messages
from sirene.escalation.models import (
    Absence,
    Attempt,
    AttemptKind,
    AttemptStatus,
    Person,
    PersonRole,
    Run,
    RunStatus,
    Task,
    TaskKind,
)
from sirene.incidents import events as incident_events
from sirene.incidents.models import Incident, IncidentStatus
from sirene.integrations.base import IntegrationError, PermanentError, TransientError
from sirene.integrations.registry import chat_transport, phone_transport
from sirene.integrations.twilio import FINAL_STATUSES, gather_twiml
from sirene.preferences import services as preferences

log = logging.getLogger("sirene.escalation")

# Transient provider errors are retried with backoff; after this many tries the attempt fails.
MAX_TRIES = 8
# Runs claimed per tick: small, so that several workers share a burst instead of one taking it all.
CLAIM_BATCH = 10


class _LeaseLost(Exception):
    pass


@dataclass(frozen=True)
class _Done:
    """What a provider call returned: recorded on the attempt (and, for the siren, on the run)."""

    provider: str
    provider_id: str
    provider_status: str
    slack_channel: str = ""


def worker_id() -> str:
    return jobs.worker_id()


# The runs as a core.jobs queue: due at next_action_at, leased to one worker. Runs never die (the
# engine ends them); a failed attempt is reported on the incident and in the health report instead.
RUNS: jobs.Queue[Run] = jobs.Queue(
    "escalation_runs",
    Run,
    lane="escalation",
    due="next_action_at",
    tries=None,
    error=None,
    dead=None,
    # Short (issue 22, crash loops): renewed before every call, see `_Lease`.
    lease_seconds=settings.ESCALATION_LEASE_SECONDS,
)


def _lease_span() -> dt.timedelta:
    return dt.timedelta(seconds=settings.ESCALATION_LEASE_SECONDS)


def claim_due(owner: str, limit: int = CLAIM_BATCH) -> list[int]:
    return RUNS.claim(owner, limit=limit)


class _Lease:
    """This worker's lease on one run: renewed only when half of it is used up (one round trip saved per
    side effect), and always before a provider call could outlast it."""

    def __init__(self, run_id: int, owner: str, claimed_at: dt.datetime | None = None) -> None:
        self.run_id, self.owner = run_id, owner
        self.until = (claimed_at or clock.now()) + _lease_span()

    def ensure(self) -> None:
        lease = _lease_span()
        # Enough left for a provider call that runs into its timeout, or renew first.
        if self.until - clock.now() > dt.timedelta(seconds=settings.OUTBOUND_TIMEOUT_SECONDS + 1):
            return
        now = clock.now()
        if not Run.objects.filter(pk=self.run_id, lease_owner=self.owner).update(lease_until=now + lease):
            raise _LeaseLost(self.run_id)
        self.until = now + lease


def _renew(run_id: int, owner: str) -> None:
    now = clock.now()
    renewed = Run.objects.filter(pk=run_id, lease_owner=owner).update(lease_until=now + _lease_span())
    if not renewed:
        raise _LeaseLost(run_id)


def tick(owner: str, limit: int = CLAIM_BATCH) -> int:
    """Claim a batch of due runs and process them; returns runs handled + side effects carried out.

    The batch is loaded in three queries (runs with incidents, their attempts, today's absences) instead
    of three per run: round trips are what a step costs."""
    claimed_at = clock.now()
    ids = RUNS.claim(owner, limit=limit, now=claimed_at)
    if not ids:
        return 0
    runs = {r.pk: r for r in Run.objects.select_related("incident").filter(pk__in=ids)}
    attempts: dict[int, list[Attempt]] = {pk: [] for pk in ids}
    for attempt in Attempt.objects.filter(run_id__in=ids).order_by("id"):
        attempts[attempt.run_id].append(attempt)
    now = clock.now()
    absent = frozenset(
        str(pk)
        for pk in Absence.objects.filter(starts_at__lte=now, ends_at__gt=now).values_list(
            "person_id", flat=True
        )
    )
    done = 0
    plain: list[Run] = []
    for run_id in ids:
        run = runs.get(run_id)
        if run is None:
            continue
        unfinished = any(
            a.kind == AttemptKind.CALL and a.status in (AttemptStatus.PENDING, AttemptStatus.SENDING)
            for a in attempts[run_id]
        )
        if run.status == RunStatus.ACTIVE and not unfinished:
            plain.append(run)
            continue
        # Reconciliation after a crash, retries, a run that ended: the careful path, one run at a time.
        try:
            done += 1 + _process(run, owner, attempts[run_id], absent, claimed_at)
        except _LeaseLost:
            log.warning("lost the lease on escalation run %s; another worker has it", run_id)
            done += 1
    if plain:
        done += len(plain) + _process_batch(plain, owner, attempts, absent, claimed_at)
    return done


def _process_batch(
    runs: list[Run],
    owner: str,
    attempts: dict[int, list[Attempt]],
    absent: frozenset[str],
    claimed_at: dt.datetime,
) -> int:
    """Runs with nothing unfinished: decide them all in one transaction (their side effects recorded
    `sending`), carry the side effects out, then record every outcome and release every run in one
    transaction. Commits (WAL flushes) are what a step costs; the discipline is unchanged: each mark is
    committed before its provider call, and a crash anywhere leaves `sending` attempts to reconcile."""
    decided: list[tuple[Run, dt.datetime | None, dt.datetime | None, list[Attempt]]] = []
    with transaction.atomic():
        for run in runs:
            claimed_next = run.next_action_at
            next_at, recorded = _decide_and_record(
                run, owner, due=claimed_next, attempts=attempts[run.pk], absent=absent
            )
            decided.append((run, claimed_next, next_at, recorded))
    outcomes: list[tuple[Attempt, _Done | IntegrationError]] = []
    lost: set[int] = set()
    for run, _claimed, _next, recorded in decided:
        lease = _Lease(run.pk, owner, claimed_at)
        for attempt in recorded:
            attempt.run = run  # already loaded, with its incident
            try:
                lease.ensure()
            except _LeaseLost:
                log.warning("lost the lease on escalation run %s; another worker has it", run.pk)
                lost.add(run.pk)
                break
            try:
                outcomes.append((attempt, _perform(attempt)))
            except IntegrationError as exc:
                outcomes.append((attempt, exc))
    done = 0
    retrying: set[int] = set()
    with transaction.atomic():
        for attempt, outcome in outcomes:
            if isinstance(outcome, IntegrationError):
                _record_failure(attempt, outcome)
                retrying.add(attempt.run_id)
            else:
                _record_sent(attempt, outcome)
                done += 1
        for run, claimed_next, next_at, _recorded in decided:
            if run.pk not in lost:
                _release(run.pk, owner, claimed_next, next_at, active=True, check_pending=run.pk in retrying)
    return done


def process_run(run_id: int, owner: str) -> int:
    """Do everything due for one leased run; returns the number of side effects carried out."""
    run = Run.objects.select_related("incident").get(pk=run_id)
    try:
        return _process(run, owner, list(run.attempts.order_by("id")), None, None)
    except _LeaseLost:
        log.warning("lost the lease on escalation run %s; another worker has it", run_id)
        return 0


def _process(
    run: Run,
    owner: str,
    attempts: list[Attempt],
    absent: frozenset[str] | None,
    claimed_at: dt.datetime | None,
) -> int:
    claimed_next = run.next_action_at
    lease = _Lease(run.pk, owner, claimed_at)
    done = 0
    # Only calls are this lane's: chat attempts (siren, thread replies, DMs) go out on the chat lane.
    unfinished = [
        a
        for a in attempts
        if a.kind == AttemptKind.CALL and a.status in (AttemptStatus.PENDING, AttemptStatus.SENDING)
    ]
    if unfinished:
        for attempt in unfinished:
            if attempt.status == AttemptStatus.SENDING:
                _reconcile(attempt, owner)
        done += _execute_pending(run, owner)
        run.refresh_from_db()
        attempts = list(run.attempts.order_by("id"))
    decided_next: dt.datetime | None = None
    active = run.status == RunStatus.ACTIVE
    retries_left = bool(unfinished)
    if active:
        decided_next, recorded = _decide_and_record(
            run, owner, due=claimed_next, attempts=attempts, absent=absent
        )
        for attempt in recorded:
            attempt.run = run  # already loaded, with its incident
            lease.ensure()
            if _perform_recorded(attempt):
                done += 1
            else:
                retries_left = True
    _release(run.pk, owner, claimed_next, decided_next, active=active, check_pending=retries_left)
    return done


def _release(
    run_id: int,
    owner: str,
    claimed_next: dt.datetime | None,
    decided: dt.datetime | None,
    *,
    active: bool,
    check_pending: bool = True,
) -> None:
    candidates = [t for t in (decided,) if t is not None]
    if check_pending:  # only when something may still wait for a retry (saves a query per step)
        for retry_at in Attempt.objects.filter(
            run_id=run_id, status=AttemptStatus.PENDING, kind=AttemptKind.CALL
        ).values_list(
            "retry_at", flat=True
        ):
            candidates.append(retry_at or clock.now())
    if active and decided is None and not candidates:
        candidates.append(clock.now() + dt.timedelta(seconds=5))
    wake = min(candidates) if candidates else None
    # Common case in one statement: nobody poked the run while we held it.
    if Run.objects.filter(pk=run_id, lease_owner=owner, next_action_at=claimed_next).update(
        next_action_at=wake, lease_owner="", lease_until=None
    ):
        return
    with transaction.atomic():
        run = (
            Run.objects.select_for_update().filter(pk=run_id, lease_owner=owner).first()
            if connection.vendor == "postgresql"
            else Run.objects.filter(pk=run_id, lease_owner=owner).first()
        )
        if run is None:
            return
        if run.next_action_at is not None:
            candidates.append(run.next_action_at)  # a callback or ack poked the run while we held it
        Run.objects.filter(pk=run_id, lease_owner=owner).update(
            next_action_at=min(candidates) if candidates else None, lease_owner="", lease_until=None
        )


def absent_keys(snapshot: dict[str, Any], at: dt.datetime) -> frozenset[str]:
    keys = [k for k in (snapshot.get("people") or {}) if str(k).isdigit()]
    ids = Absence.objects.filter(person_id__in=keys, starts_at__lte=at, ends_at__gt=at).values_list(
        "person_id", flat=True
    )
    return frozenset(str(i) for i in ids)


def run_view(run: Run, loaded: list[Attempt] | None = None) -> engine.RunView:
    """The engine's view of the run; `loaded` are the run's attempts in id order, if already fetched."""
    skip = (AttemptKind.SLACK_UPDATE, AttemptKind.STATUS_UPDATE, AttemptKind.DM, AttemptKind.THREAD_REPLY)
    if loaded is None:
        loaded = list(run.attempts.order_by("id"))
    attempts = [
        a for a in loaded if a.step_index == run.step_index and a.cycle == run.cycle and a.kind not in skip
    ]
    return engine.RunView(
        status=run.status,
        step_index=run.step_index,
        cycle=run.cycle,
        step_started_at=run.step_started_at,
        attempts=tuple(
            engine.AttemptView(a.number, a.status, a.created_at, a.finished_at, a.deadline) for a in attempts
        ),
    )


def _decide_and_record(
    run: Run,
    owner: str,
    due: dt.datetime | None = None,
    *,
    attempts: list[Attempt] | None = None,
    absent: frozenset[str] | None = None,
) -> tuple[dt.datetime | None, list[Attempt]]:
    """`due` is when the run asked to be woken; attempts record it so lateness can be measured.

    Side effects are recorded already `sending` (with the state change, in one transaction): the mark
    is committed before the provider is called, as the discipline requires, without a second write. A
    crash before the call leaves an attempt that reconciliation finds missing and performs."""
    now = clock.now()
    incident = run.incident
    requested = run.escalate_requested_at
    facts = engine.Facts(
        acknowledged=incident.status == IncidentStatus.ACKNOWLEDGED,
        resolved=incident.status == IncidentStatus.RESOLVED,
        absent=absent_keys(run.snapshot, now) if absent is None else absent,
        escalate_now=requested is not None,
    )
    decision = engine.decide(run_view(run, attempts), run.policy_snapshot, facts, now)
    people = run.snapshot.get("people") or {}
    recorded: list[Attempt] = []
    with transaction.atomic(savepoint=False):
        updated = Run.objects.filter(pk=run.pk, lease_owner=owner, status=RunStatus.ACTIVE).update(
            status=decision.status,
            step_index=decision.step_index,
            cycle=decision.cycle,
            step_started_at=decision.step_started_at,
            finished_at=now if decision.status != RunStatus.ACTIVE else None,
        )
        if not updated:
            return None, []  # acknowledged/resolved meanwhile, or the lease is gone: decide nothing
        if requested is not None:
            # Consumed (only this request: one made meanwhile waits for the next pass).
            Run.objects.filter(pk=run.pk, escalate_requested_at=requested).update(escalate_requested_at=None)
        for action in decision.actions:
            attempt = _record_action(run, incident, action, people, now, due=min(due, now) if due else now)
            if attempt is not None and attempt.kind == AttemptKind.CALL:
                recorded.append(attempt)  # calls are placed by this lane; chat attempts by the chat lane
    return decision.next_action_at, recorded


def _person(key: str | None) -> Person | None:
    if not key or not str(key).isdigit():
        return None
    return Person.objects.filter(pk=int(key)).first()


def _record_action(
    run: Run,
    incident: Incident,
    action: engine.Action,
    people: dict[str, Any],
    now: dt.datetime,
    *,
    due: dt.datetime,
) -> Attempt | None:
    info = people.get(action.person or "", {}) if action.person else {}
    name = str(info.get("name") or "")
    common: dict[str, Any] = {
        "run": run,
        "step_index": action.step_index,
        "cycle": action.cycle,
        "number": action.number,
        "person": _person(action.person),
        "person_name": name,
        "due_at": due,
        "created_at": now,
        "status": AttemptStatus.SENDING,
        "sending_at": now,
        "tries": 1,
    }
    chat = {**common, "status": AttemptStatus.PENDING, "sending_at": None, "tries": 0}
    if action.kind == "slack_post":
        mention_ids = [
            str(people.get(k, {}).get("slack_user_id") or "") for k in action.detail.get("mentions", [])
        ]
        channel = action.detail.get("channel") or preferences.get("slack_channel")
        Run.objects.filter(pk=run.pk).update(siren_customers=incident.customers_affected)
        return Attempt.objects.create(
            kind=AttemptKind.SLACK_POST,
            target=channel,
            text=messages.siren_text(incident, mention_ids),
            **chat,
        )
    elif action.kind == "call":
        on_call = bool(action.detail.get("on_call"))
        call = Attempt.objects.create(
            kind=AttemptKind.CALL,
            target=str(info.get("phone") or ""),
            text=messages.call_message(incident),
            deadline=action.deadline,
            on_call=on_call,
            **common,
        )
        incident_events.record(
            incident, "escalation", step="call", who=name, n=action.number, of=action.of, run=run.pk
        )
        instead = str((people.get(str(action.detail.get("instead_of") or ""), {}) or {}).get("name") or "")
        if on_call and instead:
            incident_events.record(
                incident, "escalation", step="on_call", what="on_call", run=run.pk, who=name, instead=instead
            )
        # Nobody reacted: say so in the siren's thread, so the channel sees who is woken up now.
        _chat_line(run, AttemptKind.THREAD_REPLY, run.slack_channel or _siren_channel(run), messages.calling_text(name, action.number, action.of, on_call=on_call), now, due)
        return call
    elif action.kind == "task":
        title = str(action.detail.get("title") or "")
        text = str(action.detail.get("text") or "")
        if "facebook" in title.lower() and run.tasks.filter(kind=TaskKind.FACEBOOK).exists():
            return None  # a policy from before issue 12: the Facebook task went out when the incident opened
        Task.objects.create(run=run, person=common["person"], title=title, text=text, created_at=now)
        task = Attempt.objects.create(
            kind=AttemptKind.TASK,
            target=str(info.get("slack_user_id") or preferences.get("slack_channel")),
            text=messages.task_text(incident, title, text),
            **chat,
        )
        incident_events.record(incident, "escalation", step="task", who=name, title=title, note="", run=run.pk)
        return task
    elif action.kind == "skip":
        incident_events.record(
            incident, "escalation", step="skipped", who=name or "", reason=action.detail.get("reason"), run=run.pk
        )
    elif action.kind == "escalated":
        who = run.escalate_requested_by or "sirene"
        incident_events.record(incident, "escalation", step="escalated_now", what="escalated_now", run=run.pk, who=who)
        _chat_line(run, AttemptKind.THREAD_REPLY, run.slack_channel or _siren_channel(run), messages.escalated_text(who), now, due)
    elif action.kind == "repeat":
        round_no = int(action.detail.get("round") or action.cycle + 1)
        incident_events.record(incident, "escalation", step="repeat", what="repeat", run=run.pk, cycle=round_no)
        _chat_line(run, AttemptKind.THREAD_REPLY, run.slack_channel or _siren_channel(run), messages.repeat_text(round_no), now, due)
    elif action.kind == "stop" and action.detail.get("reason") == "exhausted":
        incident_events.record(incident, "escalation", step="ended", run=run.pk, what="nobody_reacted")
        if not any(step.get("kind") == "call" for step in run.snapshot.get("steps") or []):
            return None  # a policy that only posts (the fallback) has nobody it failed to reach
        # Loud, not silent: every lead gets a DM, and the channel a last line (not only the thread).
        for lead in Person.objects.filter(role=PersonRole.LEAD).exclude(slack_user_id=""):
            _chat_line(run, AttemptKind.DM, lead.slack_user_id, messages.nobody_reacted_dm(incident), now, due, person=lead)
        channel = run.slack_channel or str(_siren_channel(run) or settings.SLACK_CHANNEL)
        _chat_line(run, AttemptKind.DM, channel, messages.nobody_reacted_line(incident), now, due)
    return None


def _siren_channel(run: Run) -> str:
    for step in run.snapshot.get("steps") or []:
        if step.get("kind") == "slack_post" and step.get("channel"):
            return str(step["channel"])
    return ""


def _chat_line(
    run: Run,
    kind: str,
    target: str,
    text: str,
    now: dt.datetime,
    due: dt.datetime,
    *,
    person: Person | None = None,
) -> Attempt:
    """A chat message decided with the run's state, sent by the chat lane (never in front of a call)."""
    return Attempt.objects.create(
        run=run,
        kind=kind,
        target=target,
        text=text,
        person=person,
        person_name=person.name if person else "",
        due_at=due,
        created_at=now,
    )


def _execute_pending(run: Run, owner: str) -> int:
    done = 0
    now = clock.now()
    pending = run.attempts.filter(status=AttemptStatus.PENDING, kind=AttemptKind.CALL).filter(
        Q(retry_at__isnull=True) | Q(retry_at__lte=now)
    )
    for attempt in list(pending.order_by("id")):
        attempt.run = run  # already loaded, with its incident: saves two queries per side effect
        done += _execute(attempt, owner)
    return done


def _perform_recorded(attempt: Attempt) -> bool:
    """Carry out an attempt recorded `sending` by this pass's decision. True when it went out."""
    try:
        done = _perform(attempt)
    except IntegrationError as exc:
        _record_failure(attempt, exc)
        return False
    _record_sent(attempt, done)
    return True


def _execute(attempt: Attempt, owner: str) -> int:
    now = clock.now()
    # No transaction around these: the renewed lease keeps other workers off this run, and the
    # `sending` mark is committed on its own before the provider is called.
    _renew(attempt.run_id, owner)
    if attempt.kind in (AttemptKind.CALL, AttemptKind.TASK):
        status = (
            Incident.objects.filter(escalation_run__pk=attempt.run_id)
            .values_list("status", flat=True)
            .first()
        )
        if status != IncidentStatus.OPEN:
            # Acknowledged between the decision and now: nobody gets woken up for nothing.
            Attempt.objects.filter(pk=attempt.pk, status=AttemptStatus.PENDING).update(
                status=AttemptStatus.CANCELED, finished_at=now
            )
            return 0
    return _claim_and_send(attempt, now)


def _claim_and_send(attempt: Attempt, now: dt.datetime) -> int:
    """Claim a pending attempt (pending → sending; another worker's claim wins) and perform it; a retry
    first asks the provider whether the previous try went through anyway. 1 when it was sent."""
    claimed = Attempt.objects.filter(pk=attempt.pk, status=AttemptStatus.PENDING).update(
        status=AttemptStatus.SENDING, sending_at=now, tries=F("tries") + 1
    )
    if not claimed:
        return 0
    retried = attempt.tries > 0
    attempt.status, attempt.sending_at = AttemptStatus.SENDING, now
    attempt.tries += 1
    try:
        if retried:
            # The previous try failed transiently, e.g. a timeout: the provider may have done it anyway.
            found = _find_at_provider(attempt)
            if found is not None:
                _adopt(attempt, found)
                return 1
        performed = _perform(attempt)
    except IntegrationError as exc:
        _record_failure(attempt, exc)
        return 0
    _record_sent(attempt, performed)
    return 1


# --- the chat lane ---------------------------------------------------------------------------------
# Slack attempts (siren, thread replies, DMs, updates) are sent here, in their own lane, so a slow or
# hung Slack never holds up a call: the escalation lane records them `pending` with its decision and
# places only the calls itself. The same discipline holds: claimed `pending` → `sending` (committed)
# before Slack is called; one left `sending` longer than a lease by a dead worker is looked up at Slack
# (attempt id in the message metadata) before it is redone.

CHAT_KINDS = (
    AttemptKind.SLACK_POST,
    AttemptKind.SLACK_UPDATE,
    AttemptKind.STATUS_UPDATE,
    AttemptKind.TASK,
    AttemptKind.DM,
    AttemptKind.THREAD_REPLY,
)
# What an incident's run still had queued when it was resolved is not sent any more (issue 22):
# the resolution's own thread reply, siren update and status update are queued after it.
STALE_AFTER_RESOLVE = (
    AttemptKind.SLACK_POST,
    AttemptKind.TASK,
    AttemptKind.DM,
    AttemptKind.THREAD_REPLY,
    AttemptKind.SLACK_UPDATE,
)
CHAT_BATCH = 20


def send_chat(owner: str, limit: int = CHAT_BATCH) -> int:
    """One pass of the chat lane: take over attempts a dead worker left `sending`, then send what is due
    (siren posts first). Returns how many went out."""
    now = clock.now()
    # A live worker ends every Slack call within its timeout: older than that (twice, for margin) it died.
    stale = now - max(_lease_span(), dt.timedelta(seconds=2 * settings.OUTBOUND_TIMEOUT_SECONDS))
    done = 0
    orphans = Attempt.objects.filter(kind__in=CHAT_KINDS, status=AttemptStatus.SENDING).filter(
        Q(sending_at__lt=stale) | Q(sending_at__isnull=True)
    )
    for attempt in list(orphans.select_related("run__incident")[:limit]):
        if not Attempt.objects.filter(
            pk=attempt.pk, status=AttemptStatus.SENDING, sending_at=attempt.sending_at
        ).update(sending_at=now):
            continue  # another worker took it over first
        try:
            found = _find_at_provider(attempt)
        except IntegrationError as exc:
            Attempt.objects.filter(pk=attempt.pk).update(error=f"reconcile: {exc}"[:2000])
            continue  # cannot tell yet: stays `sending`, looked at again after a lease
        if found is not None:
            _adopt(attempt, found)
            done += 1
        else:
            Attempt.objects.filter(pk=attempt.pk, status=AttemptStatus.SENDING).update(
                status=AttemptStatus.PENDING
            )
    first = Case(When(kind=AttemptKind.SLACK_POST, then=Value(0)), default=Value(1))
    due = (
        Attempt.objects.filter(kind__in=CHAT_KINDS, status=AttemptStatus.PENDING)
        .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
        .select_related("run__incident")
        .order_by(first, "due_at", "id")
    )
    for attempt in list(due[:limit]):
        done += _execute_chat(attempt)
    return done


def _waits_for_siren(attempt: Attempt) -> bool:
    """A DM or thread reply of a run whose siren is not out yet follows it (the siren goes first)."""
    run = attempt.run
    if run.slack_ts or run.status != RunStatus.ACTIVE or attempt.kind not in (AttemptKind.DM, AttemptKind.THREAD_REPLY):
        return False
    if not any(s.get("kind") == "slack_post" for s in run.snapshot.get("steps") or []):
        return False
    posts = Attempt.objects.filter(run_id=run.pk, kind=AttemptKind.SLACK_POST)
    return not posts.exists() or posts.filter(status__in=[AttemptStatus.PENDING, AttemptStatus.SENDING]).exists()


def _execute_chat(attempt: Attempt) -> int:
    now = clock.now()
    incident = attempt.run.incident
    resolved_at = incident.resolved_at if incident.status == IncidentStatus.RESOLVED else None
    drop = (attempt.kind == AttemptKind.TASK and incident.status != IncidentStatus.OPEN) or (
        resolved_at is not None and attempt.kind in STALE_AFTER_RESOLVE and attempt.created_at < resolved_at
    )
    if drop:
        Attempt.objects.filter(pk=attempt.pk, status=AttemptStatus.PENDING).update(
            status=AttemptStatus.CANCELED, finished_at=now
        )
        return 0
    if _waits_for_siren(attempt):
        Attempt.objects.filter(pk=attempt.pk, status=AttemptStatus.PENDING).update(
            retry_at=now + dt.timedelta(seconds=2)
        )
        return 0
    return _claim_and_send(attempt, now)


def _perform(attempt: Attempt) -> _Done:
    run = attempt.run
    incident = run.incident
    if attempt.kind in (AttemptKind.SLACK_UPDATE, AttemptKind.THREAD_REPLY):
        run.refresh_from_db(fields=["slack_channel", "slack_ts"])
    if attempt.kind == AttemptKind.CALL:
        phone = phone_transport()
        if not attempt.target:
            raise PermanentError("no phone number for this person", provider=phone.name)
        base = settings.PUBLIC_URL
        twiml = gather_twiml(attempt.text, f"{base}/hooks/twilio/gather?attempt={attempt.pk}")
        placed = phone.place_call(
            attempt.target,
            twiml=twiml,
            status_callback=f"{base}/hooks/twilio/status?attempt={attempt.pk}",
            ring_seconds=run.policy_snapshot.ring_seconds(attempt.step_index),
        )
        return _Done(phone.name, placed.sid, placed.status)
    chat = chat_transport()
    if attempt.kind == AttemptKind.SLACK_POST:
        posted = chat.post_message(
            attempt.target,
            attempt.text,
            blocks=messages.siren_blocks(incident, attempt.text, run.pk),
            metadata={"attempt_id": str(attempt.pk), "incident_id": str(incident.pk)},
        )
        return _Done(chat.name, posted.ts, "posted", slack_channel=posted.channel)
    if attempt.kind in (AttemptKind.SLACK_UPDATE, AttemptKind.THREAD_REPLY) and not run.slack_ts:
        posts = run.attempts.filter(kind=AttemptKind.SLACK_POST)
        waiting = posts.filter(status__in=[AttemptStatus.PENDING, AttemptStatus.SENDING]).exists() or (
            attempt.kind == AttemptKind.THREAD_REPLY
            and not posts.exists()
            and run.status == RunStatus.ACTIVE
            and any(s.get("kind") == "slack_post" for s in run.snapshot.get("steps") or [])
        )
        if waiting:
            # The siren itself is still waiting (not decided yet, or rate limited): follow it once it is out.
            raise TransientError("the Slack message is not posted yet", retry_after=5, provider=chat.name)
        if attempt.kind == AttemptKind.THREAD_REPLY:
            # No siren post to answer under (failed for good, or a policy without one): the channel.
            posted = chat.post_message(
                attempt.target or preferences.get("slack_channel"), attempt.text, metadata={"attempt_id": str(attempt.pk)}
            )
            return _Done(chat.name, posted.ts, "posted")
    if attempt.kind == AttemptKind.THREAD_REPLY:
        posted = chat.post_message(
            run.slack_channel, attempt.text, thread_ts=run.slack_ts, metadata={"attempt_id": str(attempt.pk)}
        )
        return _Done(chat.name, posted.ts, "thread")
    if attempt.kind == AttemptKind.DM:
        if attempt.target.startswith(("U", "W")):
            sent = chat.send_dm(attempt.target, attempt.text, metadata={"attempt_id": str(attempt.pk)})
            return _Done(chat.name, sent.ts, "dm")
        posted = chat.post_message(attempt.target, attempt.text, metadata={"attempt_id": str(attempt.pk)})
        return _Done(chat.name, posted.ts, "posted")
    if attempt.kind == AttemptKind.SLACK_UPDATE:
        if not run.slack_ts:
            if run.attempts.filter(
                kind=AttemptKind.SLACK_POST, status__in=[AttemptStatus.PENDING, AttemptStatus.SENDING]
            ).exists():
                # The siren itself is still waiting (e.g. rate limited): update it once it is out.
                raise TransientError("the Slack message is not posted yet", retry_after=5, provider=chat.name)
            return _Done(chat.name, "", "no message to update")
        incident.refresh_from_db(fields=["status"])
        chat.update_message(
            run.slack_channel, run.slack_ts, attempt.text, blocks=messages.siren_blocks(incident, attempt.text, run.pk)
        )
        return _Done(chat.name, run.slack_ts, "updated")
    if attempt.kind == AttemptKind.STATUS_UPDATE:
        posted = chat.post_message(attempt.target, attempt.text, metadata={"attempt_id": str(attempt.pk)})
        return _Done(chat.name, posted.ts, "posted")
    # Task: tell the person directly when we know their Slack id, else in the channel.
    if attempt.target.startswith(("U", "W")):
        sent = chat.send_dm(attempt.target, attempt.text, metadata={"attempt_id": str(attempt.pk)})
        return _Done(chat.name, sent.ts, "dm")
    posted = chat.post_message(attempt.target, attempt.text, metadata={"attempt_id": str(attempt.pk)})
    return _Done(chat.name, posted.ts, "posted")


def _record_sent(attempt: Attempt, done: _Done) -> None:
    now = clock.now()
    provider, provider_id, provider_status = done.provider, done.provider_id, done.provider_status
    # No savepoint inside the batch's transaction (a savepoint is two more round trips).
    with transaction.atomic(savepoint=False):
        if done.slack_channel:
            Run.objects.filter(pk=attempt.run_id, slack_ts="").update(
                slack_channel=done.slack_channel, slack_ts=provider_id
            )
        fields: dict[str, Any] = {
            "provider": provider,
            "sent_at": now,
            "error": "",
            # A status callback may already have filled these in (Twilio calls back while create() returns).
            "provider_id": Case(When(provider_id="", then=Value(provider_id)), default=F("provider_id")),
            "provider_status": Case(
                When(provider_status="", then=Value(provider_status[:30])), default=F("provider_status")
            ),
        }
        if attempt.kind == AttemptKind.CALL:
            Attempt.objects.filter(pk=attempt.pk, status=AttemptStatus.SENDING).update(
                status=AttemptStatus.SENT, **fields
            )
        else:
            Attempt.objects.filter(pk=attempt.pk, status=AttemptStatus.SENDING).update(
                status=AttemptStatus.SENT, finished_at=now, **fields
            )
        if attempt.kind == AttemptKind.SLACK_POST:
            # Thread replies and updates that waited for the siren can go now, not after their backoff.
            Attempt.objects.filter(
                run_id=attempt.run_id,
                status=AttemptStatus.PENDING,
                kind__in=[AttemptKind.THREAD_REPLY, AttemptKind.SLACK_UPDATE],
            ).update(retry_at=None)
            incident_events.record(
                attempt.run.incident,
                "escalation",
                step="slack_sent",
                channel=attempt.target,
                run=attempt.run_id,
                attempt=attempt.pk,
                provider_id=provider_id,
            )


def _record_failure(attempt: Attempt, exc: IntegrationError) -> None:
    now = clock.now()
    if exc.permanent or attempt.tries >= MAX_TRIES:
        log.warning("escalation attempt %s failed for good: %s", attempt.pk, exc)
        Attempt.objects.filter(pk=attempt.pk).update(
            status=AttemptStatus.FAILED, error=str(exc)[:2000], permanent_error=exc.permanent, finished_at=now
        )
        incident_events.record(
            attempt.run.incident,
            "escalation_error",
            attempt=attempt.kind,
            error=str(exc)[:500],
            run=attempt.run_id,
        )
        Run.objects.filter(pk=attempt.run_id).update(next_action_at=now)
        return
    delay = exc.retry_after if exc.retry_after is not None else min(60.0, 2.0**attempt.tries)
    Attempt.objects.filter(pk=attempt.pk).update(
        status=AttemptStatus.PENDING, error=str(exc)[:2000], retry_at=now + dt.timedelta(seconds=delay)
    )


def _find_at_provider(attempt: Attempt) -> tuple[str, str, str] | None:
    """(provider, id, status) of this attempt's side effect if the provider has it, else None.

    Calls are found in Twilio's call list (to the same number since the attempt was created, not yet
    claimed by another attempt); Slack messages by the attempt id in their metadata."""
    since = attempt.created_at
    if attempt.kind == AttemptKind.CALL and attempt.target:
        phone = phone_transport()
        known = set(
            Attempt.objects.filter(kind=AttemptKind.CALL, target=attempt.target)
            .exclude(provider_id="")
            .exclude(pk=attempt.pk)
            .values_list("provider_id", flat=True)
        )
        calls = [c for c in phone.find_calls(attempt.target, since=since) if c.sid not in known]
        if calls:
            call = min(calls, key=lambda c: c.start_time or since)
            return phone.name, call.sid, call.status
    elif attempt.kind in (
        AttemptKind.SLACK_POST,
        AttemptKind.STATUS_UPDATE,
        AttemptKind.TASK,
        AttemptKind.DM,
        AttemptKind.THREAD_REPLY,
    ):
        chat = chat_transport()
        channel, thread_ts = attempt.target, None
        if attempt.kind == AttemptKind.THREAD_REPLY:
            run = Run.objects.get(pk=attempt.run_id)
            channel, thread_ts = (run.slack_channel or channel), (run.slack_ts or None)
        found = chat.find_message(
            channel, key="attempt_id", value=str(attempt.pk), oldest=since, thread_ts=thread_ts
        )
        if found:
            if attempt.kind == AttemptKind.SLACK_POST:
                Run.objects.filter(pk=attempt.run_id, slack_ts="").update(
                    slack_channel=found.channel, slack_ts=found.ts
                )
            return chat.name, found.ts, "posted"
    return None


def _adopt(attempt: Attempt, found: tuple[str, str, str]) -> None:
    provider, provider_id, provider_status = found
    _record_sent(attempt, _Done(provider, provider_id, provider_status))
    if attempt.kind == AttemptKind.CALL and provider_status in FINAL_STATUSES:
        apply_call_status(attempt.pk, provider_id, provider_status, "")
    log.info("adopted escalation attempt %s: %s %s", attempt.pk, provider, provider_id)


def _reconcile(attempt: Attempt, owner: str) -> None:
    """An attempt left `sending` by a worker that died mid-call: find out whether it happened."""
    _renew(attempt.run_id, owner)
    try:
        found = _find_at_provider(attempt)
    except IntegrationError as exc:
        # Cannot tell yet: keep it `sending` so nobody repeats it blindly; try again shortly.
        Run.objects.filter(pk=attempt.run_id).update(next_action_at=clock.now() + dt.timedelta(seconds=5))
        Attempt.objects.filter(pk=attempt.pk).update(error=f"reconcile: {exc}"[:2000])
        raise _LeaseLost(attempt.run_id) from exc
    if found is not None:
        _adopt(attempt, found)
        return
    # The provider has no trace of it: it never went out, so doing it now is the first time.
    Attempt.objects.filter(pk=attempt.pk, status=AttemptStatus.SENDING).update(status=AttemptStatus.PENDING)


def apply_call_status(attempt_id: int, call_sid: str, call_status: str, answered_by: str) -> bool:
    """A Twilio status callback (or reconciliation) for one call attempt. Returns True if it changed anything."""
    now = clock.now()
    with transaction.atomic():
        attempt = (
            Attempt.objects.select_for_update().filter(pk=attempt_id, kind=AttemptKind.CALL).first()
            if connection.vendor == "postgresql"
            else Attempt.objects.filter(pk=attempt_id, kind=AttemptKind.CALL).first()
        )
        if attempt is None or (attempt.provider_id and attempt.provider_id != call_sid):
            return False
        if attempt.status in (
            AttemptStatus.ANSWERED,
            AttemptStatus.UNANSWERED,
            AttemptStatus.FAILED,
            AttemptStatus.CANCELED,
        ):
            return False  # final already: a late or repeated callback changes nothing
        label = call_status + (f" ({answered_by})" if answered_by else "")
        fields: dict[str, Any] = {"provider_status": label[:30], "provider_id": call_sid}
        if call_status in FINAL_STATUSES:
            # "completed" without a keypress is a voicemail or a hang-up: not an answer.
            fields.update(status=AttemptStatus.UNANSWERED, finished_at=now)
        Attempt.objects.filter(pk=attempt.pk).update(**fields)
        if call_status in FINAL_STATUSES:
            incident_events.record(
                attempt.run.incident,
                "escalation",
                step="call_unanswered",
                who=attempt.person_name,
                why=label,
                run=attempt.run_id,
                attempt=attempt.pk,
                provider_id=call_sid,
            )
            Run.objects.filter(pk=attempt.run_id).update(next_action_at=now)
    return True


@dataclass(frozen=True)
class Keypress:
    """A recorded keypress; `answered` when it was a (first) "1": the Twilio hook then acknowledges
    `incident` through `flows.incidents.acknowledge` (first ack wins), as `user` / `label`."""

    answered: bool
    passed_on: bool = False
    incident: Incident | None = None
    user: User | None = None
    label: str = ""


def apply_keypress(attempt_id: int, call_sid: str, digits: str) -> Keypress:
    """Gather digits: record them on the call attempt. Only "1" is an answer."""
    now = clock.now()
    with transaction.atomic():
        attempt = (
            Attempt.objects.filter(pk=attempt_id, kind=AttemptKind.CALL)
            .select_related("run__incident", "person")
            .first()
        )
        if attempt is None or (attempt.provider_id and attempt.provider_id != call_sid):
            return Keypress(answered=False)
        if digits == "2":
            # "An die nächste Person weitergeben": this call is over, the run leaves the step now.
            passed = (
                Attempt.objects.filter(pk=attempt.pk)
                .exclude(status__in=[AttemptStatus.ANSWERED, AttemptStatus.UNANSWERED])
                .update(status=AttemptStatus.UNANSWERED, digits="2", finished_at=now, provider_id=call_sid)
            )
            if passed:
                Run.objects.filter(pk=attempt.run_id, status=RunStatus.ACTIVE).update(
                    escalate_requested_at=now, escalate_requested_by=attempt.person_name[:200], next_action_at=now
                )
                incident_events.record(
                    attempt.run.incident,
                    "escalation",
                    step="passed_on",
                    what="passed_on",
                    run=attempt.run_id,
                    who=attempt.person_name,
                )
            return Keypress(answered=False, passed_on=bool(passed))
        if digits != "1":
            Attempt.objects.filter(pk=attempt.pk).update(digits=digits[:10])
            return Keypress(answered=False)
        changed = (
            Attempt.objects.filter(pk=attempt.pk)
            .exclude(status=AttemptStatus.ANSWERED)
            .update(status=AttemptStatus.ANSWERED, digits="1", finished_at=now, provider_id=call_sid)
        )
        if not changed:
            return Keypress(answered=False)
        Run.objects.filter(pk=attempt.run_id).update(next_action_at=now)
    person = attempt.person
    return Keypress(
        answered=True,
        incident=attempt.run.incident,
        user=person.user if person else None,
        label=attempt.person_name,
    )
