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
import os
import socket
import threading
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When

from sirene.accounts.models import User
from sirene.core import clock
from sirene.escalation import engine, messages
from sirene.escalation.models import (
    Absence,
    Attempt,
    AttemptKind,
    AttemptStatus,
    Person,
    Run,
    RunStatus,
    Task,
)
from sirene.incidents import services as incidents
from sirene.incidents.models import Incident, IncidentStatus
from sirene.integrations.base import IntegrationError, PermanentError, TransientError
from sirene.integrations.registry import chat_transport, phone_transport
from sirene.integrations.twilio import FINAL_STATUSES, gather_twiml

log = logging.getLogger("sirene.escalation")

# Transient provider errors are retried with backoff; after this many tries the attempt fails.
MAX_TRIES = 8
# Runs claimed per tick: small, so that several workers share a burst instead of one taking it all.
CLAIM_BATCH = 10


class _LeaseLost(Exception):
    pass


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def claim_due(owner: str, limit: int = CLAIM_BATCH) -> list[int]:
    now = clock.now()
    lease = dt.timedelta(seconds=settings.WORKER_LEASE_SECONDS)
    with transaction.atomic():
        qs = (
            Run.objects.filter(next_action_at__lte=now)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .order_by("next_action_at", "id")
        )
        if connection.vendor == "postgresql":
            qs = qs.select_for_update(skip_locked=True)
        ids = list(qs.values_list("id", flat=True)[:limit])
        if ids:
            Run.objects.filter(id__in=ids).update(lease_owner=owner, lease_until=now + lease)
    return ids


def _renew(run_id: int, owner: str) -> None:
    now = clock.now()
    renewed = Run.objects.filter(pk=run_id, lease_owner=owner).update(
        lease_until=now + dt.timedelta(seconds=settings.WORKER_LEASE_SECONDS)
    )
    if not renewed:
        raise _LeaseLost(run_id)


def process_run(run_id: int, owner: str) -> int:
    """Do everything due for one leased run; returns the number of side effects carried out."""
    try:
        return _process(run_id, owner)
    except _LeaseLost:
        log.warning("lost the lease on escalation run %s; another worker has it", run_id)
        return 0


def _process(run_id: int, owner: str) -> int:
    run = Run.objects.select_related("incident").get(pk=run_id)
    claimed_next = run.next_action_at
    done = 0
    # Round trips are the cost of a step (each commit is a WAL flush), so skip what is not needed.
    unfinished = list(
        run.attempts.filter(status__in=[AttemptStatus.PENDING, AttemptStatus.SENDING]).order_by("id")
    )
    if unfinished:
        for attempt in unfinished:
            if attempt.status == AttemptStatus.SENDING:
                _reconcile(attempt, owner)
        done += _execute_pending(run, owner)
        run.refresh_from_db()
    decided_next: dt.datetime | None = None
    active = run.status == RunStatus.ACTIVE
    if active:
        decided_next, recorded = _decide_and_record(run, owner, due=claimed_next)
        if recorded:
            done += _execute_pending(run, owner)
    _release(run_id, owner, claimed_next, decided_next, active=active)
    return done


def _release(
    run_id: int, owner: str, claimed_next: dt.datetime | None, decided: dt.datetime | None, *, active: bool
) -> None:
    candidates = [t for t in (decided,) if t is not None]
    for retry_at in Attempt.objects.filter(run_id=run_id, status=AttemptStatus.PENDING).values_list(
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


def run_view(run: Run) -> engine.RunView:
    attempts = run.attempts.filter(step_index=run.step_index, cycle=run.cycle).exclude(
        kind__in=[AttemptKind.SLACK_UPDATE, AttemptKind.STATUS_UPDATE]
    )
    return engine.RunView(
        status=run.status,
        step_index=run.step_index,
        cycle=run.cycle,
        step_started_at=run.step_started_at,
        attempts=tuple(
            engine.AttemptView(a.number, a.status, a.created_at, a.finished_at, a.deadline)
            for a in attempts.order_by("id")
        ),
    )


def _decide_and_record(
    run: Run, owner: str, due: dt.datetime | None = None
) -> tuple[dt.datetime | None, int]:
    """`due` is when the run asked to be woken; attempts record it so lateness can be measured."""
    now = clock.now()
    incident = run.incident
    facts = engine.Facts(
        acknowledged=incident.status == IncidentStatus.ACKNOWLEDGED,
        resolved=incident.status == IncidentStatus.RESOLVED,
        absent=absent_keys(run.snapshot, now),
    )
    decision = engine.decide(run_view(run), run.policy_snapshot, facts, now)
    people = run.snapshot.get("people") or {}
    with transaction.atomic():
        updated = Run.objects.filter(pk=run.pk, lease_owner=owner, status=RunStatus.ACTIVE).update(
            status=decision.status,
            step_index=decision.step_index,
            cycle=decision.cycle,
            step_started_at=decision.step_started_at,
            finished_at=now if decision.status != RunStatus.ACTIVE else None,
        )
        if not updated:
            return None, 0  # acknowledged/resolved meanwhile, or the lease is gone: decide nothing
        for action in decision.actions:
            _record_action(run, incident, action, people, now, due=min(due, now) if due else now)
    return decision.next_action_at, len(decision.actions)


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
) -> None:
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
    }
    if action.kind == "slack_post":
        mention_ids = [
            str(people.get(k, {}).get("slack_user_id") or "") for k in action.detail.get("mentions", [])
        ]
        channel = action.detail.get("channel") or settings.SLACK_CHANNEL
        Attempt.objects.create(
            kind=AttemptKind.SLACK_POST,
            target=channel,
            text=messages.siren_text(incident, mention_ids),
            **common,
        )
    elif action.kind == "call":
        Attempt.objects.create(
            kind=AttemptKind.CALL,
            target=str(info.get("phone") or ""),
            text=messages.call_message(incident),
            deadline=action.deadline,
            **common,
        )
        incidents.add_event(
            incident, "escalation", f"Anruf bei {name} ({action.number}/{action.of})", data={"run": run.pk}
        )
    elif action.kind == "task":
        title = str(action.detail.get("title") or "")
        text = str(action.detail.get("text") or "")
        Task.objects.create(run=run, person=common["person"], title=title, text=text, created_at=now)
        Attempt.objects.create(
            kind=AttemptKind.TASK,
            target=str(info.get("slack_user_id") or settings.SLACK_CHANNEL),
            text=messages.task_text(incident, title, text),
            **common,
        )
        incidents.add_event(incident, "escalation", f"Aufgabe für {name}: {title}", data={"run": run.pk})
    elif action.kind == "skip":
        incidents.add_event(
            incident,
            "escalation",
            f"{name or '—'} übersprungen ({action.detail.get('reason')})",
            data={"run": run.pk},
        )
    elif action.kind == "stop" and action.detail.get("reason") == "exhausted":
        incidents.add_event(
            incident,
            "escalation",
            "Eskalation beendet: alle Schritte ausgeführt, niemand hat übernommen.",
            data={"run": run.pk},
        )


def _execute_pending(run: Run, owner: str) -> int:
    done = 0
    now = clock.now()
    pending = run.attempts.filter(status=AttemptStatus.PENDING).filter(
        Q(retry_at__isnull=True) | Q(retry_at__lte=now)
    )
    for attempt in list(pending.order_by("id")):
        attempt.run = run  # already loaded, with its incident: saves two queries per side effect
        done += _execute(attempt, owner)
    return done


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
    claimed = Attempt.objects.filter(pk=attempt.pk, status=AttemptStatus.PENDING).update(
        status=AttemptStatus.SENDING, sending_at=now, tries=F("tries") + 1
    )
    if not claimed:
        return 0
    attempt.status, attempt.sending_at = AttemptStatus.SENDING, now
    attempt.tries += 1
    try:
        provider, provider_id, provider_status = _perform(attempt)
    except IntegrationError as exc:
        _record_failure(attempt, exc)
        return 0
    _record_sent(attempt, provider, provider_id, provider_status)
    return 1


def _perform(attempt: Attempt) -> tuple[str, str, str]:
    run = attempt.run
    incident = run.incident
    if attempt.kind == AttemptKind.SLACK_UPDATE:
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
        return phone.name, placed.sid, placed.status
    chat = chat_transport()
    if attempt.kind == AttemptKind.SLACK_POST:
        posted = chat.post_message(
            attempt.target,
            attempt.text,
            blocks=messages.siren_blocks(incident, attempt.text, run.pk),
            metadata={"attempt_id": str(attempt.pk), "incident_id": str(incident.pk)},
        )
        Run.objects.filter(pk=run.pk, slack_ts="").update(slack_channel=posted.channel, slack_ts=posted.ts)
        return chat.name, posted.ts, "posted"
    if attempt.kind == AttemptKind.SLACK_UPDATE:
        if not run.slack_ts:
            if run.attempts.filter(
                kind=AttemptKind.SLACK_POST, status__in=[AttemptStatus.PENDING, AttemptStatus.SENDING]
            ).exists():
                # The siren itself is still waiting (e.g. rate limited): update it once it is out.
                raise TransientError("the Slack message is not posted yet", retry_after=5, provider=chat.name)
            return chat.name, "", "no message to update"
        chat.update_message(
            run.slack_channel,
            run.slack_ts,
            attempt.text,
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": attempt.text[:2900]}}],
        )
        return chat.name, run.slack_ts, "updated"
    if attempt.kind == AttemptKind.STATUS_UPDATE:
        posted = chat.post_message(attempt.target, attempt.text, metadata={"attempt_id": str(attempt.pk)})
        return chat.name, posted.ts, "posted"
    # Task: tell the person directly when we know their Slack id, else in the channel.
    if attempt.target.startswith(("U", "W")):
        sent = chat.send_dm(attempt.target, attempt.text, metadata={"attempt_id": str(attempt.pk)})
        return chat.name, sent.ts, "dm"
    posted = chat.post_message(attempt.target, attempt.text, metadata={"attempt_id": str(attempt.pk)})
    return chat.name, posted.ts, "posted"


def _record_sent(attempt: Attempt, provider: str, provider_id: str, provider_status: str) -> None:
    now = clock.now()
    with transaction.atomic():
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
            incidents.add_event(
                attempt.run.incident,
                "escalation",
                f"Slack-Nachricht in {attempt.target} gesendet",
                data={"run": attempt.run_id, "attempt": attempt.pk, "provider_id": provider_id},
            )


def _record_failure(attempt: Attempt, exc: IntegrationError) -> None:
    now = clock.now()
    if exc.permanent or attempt.tries >= MAX_TRIES:
        log.warning("escalation attempt %s failed for good: %s", attempt.pk, exc)
        Attempt.objects.filter(pk=attempt.pk).update(
            status=AttemptStatus.FAILED, error=str(exc)[:2000], permanent_error=exc.permanent, finished_at=now
        )
        incidents.add_event(
            attempt.run.incident,
            "escalation_error",
            f"{attempt.get_kind_display()}: {exc}",
            data={"run": attempt.run_id, "attempt": attempt.pk},
        )
        Run.objects.filter(pk=attempt.run_id).update(next_action_at=now)
        return
    delay = exc.retry_after if exc.retry_after is not None else min(60.0, 2.0**attempt.tries)
    Attempt.objects.filter(pk=attempt.pk).update(
        status=AttemptStatus.PENDING, error=str(exc)[:2000], retry_at=now + dt.timedelta(seconds=delay)
    )


def _reconcile(attempt: Attempt, owner: str) -> None:
    """An attempt left `sending` by a worker that died mid-call: find out whether it happened."""
    _renew(attempt.run_id, owner)
    since = attempt.sending_at or attempt.created_at
    try:
        if attempt.kind == AttemptKind.CALL and attempt.target:
            phone = phone_transport()
            known = set(
                Attempt.objects.filter(kind=AttemptKind.CALL, target=attempt.target)
                .exclude(provider_id="")
                .values_list("provider_id", flat=True)
            )
            calls = [c for c in phone.find_calls(attempt.target, since=since) if c.sid not in known]
            if calls:
                call = min(calls, key=lambda c: c.start_time or since)
                _record_sent(attempt, phone.name, call.sid, call.status)
                if call.status in FINAL_STATUSES:
                    apply_call_status(attempt.pk, call.sid, call.status, "")
                log.info("reconciled call attempt %s with %s", attempt.pk, call.sid)
                return
        elif attempt.kind in (AttemptKind.SLACK_POST, AttemptKind.STATUS_UPDATE, AttemptKind.TASK):
            chat = chat_transport()
            channel = attempt.target
            found = chat.find_message(channel, key="attempt_id", value=str(attempt.pk), oldest=since)
            if found:
                if attempt.kind == AttemptKind.SLACK_POST:
                    Run.objects.filter(pk=attempt.run_id, slack_ts="").update(
                        slack_channel=found.channel, slack_ts=found.ts
                    )
                _record_sent(attempt, chat.name, found.ts, "posted")
                log.info("reconciled slack attempt %s with ts %s", attempt.pk, found.ts)
                return
    except IntegrationError as exc:
        # Cannot tell yet: keep it `sending` so nobody repeats it blindly; try again shortly.
        Run.objects.filter(pk=attempt.run_id).update(next_action_at=clock.now() + dt.timedelta(seconds=5))
        Attempt.objects.filter(pk=attempt.pk).update(error=f"reconcile: {exc}"[:2000])
        raise _LeaseLost(attempt.run_id) from exc
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
            incidents.add_event(
                attempt.run.incident,
                "escalation",
                f"Anruf bei {attempt.person_name}: nicht angenommen ({label})",
                data={"run": attempt.run_id, "attempt": attempt.pk, "provider_id": call_sid},
            )
            Run.objects.filter(pk=attempt.run_id).update(next_action_at=now)
    return True


@dataclass(frozen=True)
class Keypress:
    """A recorded keypress; `answered` when it was a (first) "1": the Twilio hook then acknowledges
    `incident` through `flows.incidents.acknowledge` (first ack wins), as `user` / `label`."""

    answered: bool
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
