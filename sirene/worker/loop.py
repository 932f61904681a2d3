"""The `sirene worker` loop. It only schedules: each domain's `tick()` decides and acts on due work,
claiming rows atomically (core.jobs) so several workers can run side by side.

Work runs in lanes, each in its own thread (or its own process: `sirene worker --lane escalation`):
- `escalation`: the escalation runs (decisions and phone calls). Nothing else runs here, so a slow
  helpdesk, a big brief, a slow Slack or a hung connection never delays a call.
- `chat`: the escalation's Slack messages (siren, thread replies, DMs, updates), decided by the
  runs and sent here.
- `background`: analysis of new cases, incident briefs, helpdesk (webhook deliveries, customer replies,
  delay reminders), follow-up reminders.
Every loop of a lane leaves a heartbeat (core.models.LaneBeat) for `sirene status` and /api/v1/health.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections, connections

from sirene.core import jobs

log = logging.getLogger("sirene.worker")

ESCALATION = "escalation"
BACKGROUND = "background"
CHAT = "chat"
Step = tuple[str, Callable[[], int]]
# The worker steps per lane, registered here (the composition root) and nowhere else. Order matters a
# little inside a lane: analyse new cases first (may open incidents), then reply. Cases the helpdesk step
# creates from a Groove delivery is stored and analysed in that step (flows.intake.report_case).
# Each step imports its domain when it first runs, in its lane's thread (issue 22): a fresh worker's
# escalation lane starts placing calls at once instead of waiting for the background lane's imports
# (analysis, briefs: numpy/scipy, the encoder), which are loaded by their own lane meanwhile.


def _escalation_runs() -> int:
    from sirene.escalation import tasks

    return tasks.runs_tick()


def _escalation_chat() -> int:
    from sirene.escalation import tasks

    return tasks.chat_tick()


def _channel_posts() -> int:
    from sirene.integrations import posts

    return posts.tick()


def _analyse_pending() -> int:
    from sirene.flows import intake

    return intake.analyse_pending()


def _incidents_tick() -> int:
    from sirene.incidents import tasks

    return tasks.tick()


def _helpdesk_tick() -> int:
    from sirene.flows import intake
    from sirene.helpdesk import tasks

    return tasks.tick(report=intake.report_case)


def _troubleshooting_tick() -> int:
    from sirene.troubleshooting import tasks

    return tasks.tick()


def _privacy_tick() -> int:
    from sirene.privacy import tasks

    return tasks.tick()


LANES: dict[str, list[Step]] = {
    ESCALATION: [("escalation.runs", _escalation_runs)],
    # Slack for the escalation (siren, thread replies, DMs) and channel posts (the Vorwarnung): its own
    # lane, so a slow Slack never delays a call.
    CHAT: [("escalation.chat", _escalation_chat), ("integrations.posts", _channel_posts)],
    BACKGROUND: [
        ("intake.analyse_pending", _analyse_pending),
        ("incidents.tick", _incidents_tick),
        ("helpdesk.tick", _helpdesk_tick),
        ("troubleshooting.tick", _troubleshooting_tick),
        ("privacy.tick", _privacy_tick),
    ],
}
LANE_CHOICES = (ESCALATION, CHAT, BACKGROUND, "all")
# `run_once()` without a lane (tests, `--once`): every step in one pass, escalation after analysis.
STEPS: list[Step] = [*LANES[BACKGROUND][:2], *LANES[ESCALATION], *LANES[CHAT], *LANES[BACKGROUND][2:]]


def run_once(lane: str | None = None) -> int:
    """One pass over a lane's steps (all steps when `lane` is None or "all")."""
    done = 0
    steps = STEPS if lane is None or lane == "all" else LANES[lane]
    for name, step in steps:
        try:
            done += int(step() or 0)
        except Exception:
            # One failing domain must not stop the others; the failed work stays due and is retried.
            log.exception("worker step %s failed", name)
        finally:
            close_old_connections()
    return done


def run_forever(stop: threading.Event | None = None, poll: float | None = None, lane: str = "all") -> None:
    """Run `lane` until `stop` is set; "all" runs every lane, each in its own thread."""
    stop = stop or threading.Event()
    if lane == "all":
        for thread in start_lanes(stop, poll):
            thread.join()
        return
    interval = settings.WORKER_POLL_SECONDS if poll is None else poll
    beat = jobs.Heartbeat(lane, jobs.worker_id())
    log.info("worker lane %s started (poll every %.1fs)", lane, interval)
    try:
        while not stop.is_set():
            started = time.monotonic()
            did = run_once(lane)
            beat.loop(time.monotonic() - started, did)
            if not did:
                stop.wait(interval)
    finally:
        connections.close_all()  # this thread's connections
    log.info("worker lane %s stopped", lane)


def start_lanes(
    stop: threading.Event, poll: float | None = None, lanes: list[str] | None = None
) -> list[threading.Thread]:
    """One daemon thread per lane (`sirene run`, `sirene worker --lane all`)."""
    threads = []
    for name in lanes or list(LANES):
        thread = threading.Thread(
            target=run_forever, args=(stop, poll, name), name=f"sirene-{name}", daemon=True
        )
        thread.start()
        threads.append(thread)
    return threads
