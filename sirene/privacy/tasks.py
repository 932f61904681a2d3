"""The privacy worker step (background lane): rewrite Slack messages of erased customers, and the daily
retention pass. Both are core.jobs queues.

Slack rewrites are at least once, which is safe here: `chat.update` with the same text changes
nothing the second time. A worker that dies after Slack answered and before the row was completed
leaves the lease to run out; the next worker sends the same rewrite again. A siren post is rendered at
send time from the incident (its counts as they are then); while an escalation attempt on that post is
in flight, the rewrite waits, so the in-flight text (cleaned in the database, maybe not in that
worker's memory) can never land after it.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from sirene.core import clock, jobs
from sirene.escalation import messages
from sirene.escalation.models import Attempt, AttemptKind, AttemptStatus
from sirene.escalation.services import siren_mentions
from sirene.integrations.base import IntegrationError
from sirene.integrations.registry import chat_transport
from sirene.privacy import retention
from sirene.privacy.models import RetentionSchedule, SlackRewrite

log = logging.getLogger(__name__)
BATCH = 20
REWRITES: jobs.Queue[SlackRewrite] = jobs.Queue(
    "slack_rewrites", SlackRewrite, lane="background", backoff=jobs.Backoff(base=30, cap=3600, max_tries=8)
)
RETENTION: jobs.Queue[RetentionSchedule] = jobs.Queue(
    "retention", RetentionSchedule, lane="background", backoff=jobs.Backoff(base=300, cap=3600, max_tries=24)
)
IN_FLIGHT_RETRY = dt.timedelta(seconds=30)


def tick() -> int:
    return send_rewrites() + run_retention_if_due()


# -- Slack rewrites -------------------------------------------------------------------------------


def send_rewrites(limit: int = BATCH) -> int:
    if not REWRITES.objects().filter(REWRITES.due_q(clock.now())).exists():
        return 0  # a read, not a write lock on SQLite, on every loop with nothing to do
    owner = jobs.worker_id()
    with transaction.atomic():
        ids = REWRITES.claim(owner, limit=limit)
    done = 0
    for pk in ids:
        row = SlackRewrite.objects.select_related("run__incident").get(pk=pk)
        if row.run is not None and Attempt.objects.filter(
            run=row.run,
            status=AttemptStatus.SENDING,
            kind__in=[AttemptKind.SLACK_POST, AttemptKind.SLACK_UPDATE],
        ).exists():
            REWRITES.release(pk, owner, due_at=clock.now() + IN_FLIGHT_RETRY)
            continue
        try:
            rewrite(row)
        except IntegrationError as exc:
            failure = REWRITES.fail(pk, owner, str(exc), permanent=exc.permanent, retry_after=exc.retry_after)
            log.warning("slack rewrite %s failed (%s): %s", pk, "dead" if failure.dead else "retry", exc)
            continue
        REWRITES.complete(pk, owner, done_at=clock.now())
        done += 1
    return done


def rewrite(row: SlackRewrite) -> None:
    chat = chat_transport()
    if row.run is not None:
        incident = row.run.incident
        text = messages.siren_text(incident, siren_mentions(row.run))
        chat.update_message(row.channel, row.ts, text, blocks=messages.siren_blocks(incident, text, row.run.pk))
    else:
        chat.update_message(row.channel, row.ts, row.text)


# -- retention ------------------------------------------------------------------------------------


def next_run_at(now: dt.datetime | None = None) -> dt.datetime:
    """The next pass: tonight at 03:00 local time (quiet hours), or the due time already scheduled."""
    row = RetentionSchedule.objects.filter(name="daily").first()
    if row is not None and row.due_at is not None:
        return row.due_at
    return _tonight(now or clock.now())


def _tonight(now: dt.datetime) -> dt.datetime:
    local = timezone.localtime(now)
    at = local.replace(hour=3, minute=0, second=0, microsecond=0)
    if at <= local:
        at += dt.timedelta(days=1)
    return at


def run_retention_if_due() -> int:
    now = clock.now()
    if not RetentionSchedule.objects.filter(name="daily").exists():
        RetentionSchedule.objects.get_or_create(name="daily", defaults={"due_at": _tonight(now)})
    if not RETENTION.objects().filter(RETENTION.due_q(now)).exists():
        return 0
    owner = jobs.worker_id()
    with transaction.atomic():
        ids = RETENTION.claim(owner, limit=1)
    if not ids:
        return 0
    try:
        report = retention.run(now=now)
    except Exception as exc:  # noqa: BLE001 - recorded on the row, retried with backoff
        RETENTION.fail(ids[0], owner, f"{type(exc).__name__}: {exc}")
        log.exception("retention pass failed")
        return 0
    RETENTION.release(
        ids[0], owner, due_at=_tonight(now), last_run_at=now, last_counts=report.as_dict(), tries=0
    )
    return 1
