"""Worker health per lane (a flow: it reads every domain's queue): the age of the oldest due item, dead items, the last loop.

Read by `sirene status`, GET /api/v1/health and the overview page (a warning when a lane lags). A lane
lags when its oldest due item has waited longer than LAG_WARNING_SECONDS, or when no loop of it has
left a heartbeat for that long, due work or not (no worker runs it, or it hangs: a monitor must learn
that before the next incident, not during it). A worker beats every few seconds (core.jobs.Heartbeat).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import Max, Min, Q

from sirene.cases.models import Case
from sirene.core import clock, jobs
from sirene.core.models import LaneBeat
from sirene.escalation.models import Attempt, AttemptStatus, RunStatus
from sirene.escalation.worker import CHAT_KINDS, RUNS
from sirene.helpdesk.inbound import DELIVERIES, PROVIDER
from sirene.helpdesk.loop import OUTREACH
from sirene.helpdesk.services import REPLIES
from sirene.integrations.models import WebhookDelivery
from sirene.integrations.posts import POSTS
from sirene.privacy.tasks import REWRITES
from sirene.troubleshooting.tasks import FOLLOW_UPS

LAG_WARNING_SECONDS = 60.0
FORGET_AFTER = jobs.Heartbeat.FORGET_AFTER


@dataclass
class LaneHealth:
    lane: str
    oldest_due_age_s: float
    due: int
    dead: int
    last_loop_at: dt.datetime | None
    last_loop_age_s: float | None
    workers: int
    lagging: bool
    queues: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["last_loop_at"] = self.last_loop_at.isoformat() if self.last_loop_at else None
        return data


# -- what each lane has waiting -------------------------------------------------------------------


def _escalation() -> list[jobs.Backlog]:
    runs = RUNS.backlog()
    failed = Attempt.objects.filter(status=AttemptStatus.FAILED, run__status=RunStatus.ACTIVE).count()
    return [jobs.Backlog(runs.queue, runs.lane, runs.due, runs.oldest_due_at, failed)]


def _background() -> list[jobs.Backlog]:
    now = clock.now()
    found = [REPLIES.backlog(now), FOLLOW_UPS.backlog(now), REWRITES.backlog(now), OUTREACH.backlog(now)]
    # Analysis: a stored case waits from its arrival until analysed, unless its retry is scheduled later.
    waiting = Case.objects.filter(analysed_at__isnull=True).filter(
        Q(analysis_job__isnull=True) | Q(analysis_job__due_at__lte=now, analysis_job__dead_at__isnull=True)
    )
    agg = waiting.aggregate(oldest=Min("created_at"))
    dead = Case.objects.filter(analysis_job__dead_at__isnull=False).count()
    found.append(jobs.Backlog("case_analysis", "background", waiting.count(), agg["oldest"], dead))
    # Webhook deliveries: stored and not processed, new ones (no progress row yet) included.
    pending = WebhookDelivery.objects.filter(source=PROVIDER, processed_at__isnull=True).filter(
        Q(helpdesk_progress__isnull=True)
        | Q(helpdesk_progress__next_attempt_at__lte=now, helpdesk_progress__dead_at__isnull=True)
    )
    deliveries = DELIVERIES.backlog(now)
    found.append(
        jobs.Backlog(
            deliveries.queue,
            deliveries.lane,
            pending.count(),
            pending.aggregate(oldest=Min("received_at"))["oldest"],
            deliveries.dead,
        )
    )
    return found


def _chat() -> list[jobs.Backlog]:
    """The chat lane (issue 22): the escalation's Slack attempts and the channel posts (Vorwarnung)."""
    now = clock.now()
    waiting = Attempt.objects.filter(kind__in=CHAT_KINDS, status=AttemptStatus.PENDING).filter(
        Q(retry_at__isnull=True) | Q(retry_at__lte=now)
    )
    failed = Attempt.objects.filter(
        kind__in=CHAT_KINDS, status=AttemptStatus.FAILED, run__status=RunStatus.ACTIVE
    ).count()
    attempts = jobs.Backlog(
        "escalation_chat", "chat", waiting.count(), waiting.aggregate(oldest=Min("due_at"))["oldest"], failed
    )
    return [attempts, POSTS.backlog(now)]


SOURCES: dict[str, Callable[[], list[jobs.Backlog]]] = {
    "escalation": _escalation,
    "chat": _chat,
    "background": _background,
}


def lanes(now: dt.datetime | None = None) -> list[LaneHealth]:
    now = now or clock.now()
    beats = {
        row["lane"]: row
        for row in LaneBeat.objects.filter(last_loop_at__gte=now - FORGET_AFTER)
        .values("lane")
        .annotate(last=Max("last_loop_at"))
    }
    report = []
    for lane, source in SOURCES.items():
        backlogs = source()
        oldest = max((b.oldest_age_seconds(now) for b in backlogs), default=0.0)
        due = sum(b.due for b in backlogs)
        beat = beats.get(lane)
        last = beat["last"] if beat else None
        age = (now - last).total_seconds() if last else None
        workers = LaneBeat.objects.filter(
            lane=lane, last_loop_at__gte=now - dt.timedelta(seconds=LAG_WARNING_SECONDS)
        ).count()
        stalled = age is None or age > LAG_WARNING_SECONDS
        report.append(
            LaneHealth(
                lane=lane,
                oldest_due_age_s=round(oldest, 1),
                due=due,
                dead=sum(b.dead for b in backlogs),
                last_loop_at=last,
                last_loop_age_s=round(age, 1) if age is not None else None,
                workers=workers,
                lagging=oldest > LAG_WARNING_SECONDS or stalled,
                queues=[
                    {
                        "name": b.queue,
                        "due": b.due,
                        "oldest_due_age_s": round(b.oldest_age_seconds(now), 1),
                        "dead": b.dead,
                    }
                    for b in backlogs
                ],
            )
        )
    return report
