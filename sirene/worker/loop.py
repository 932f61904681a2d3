"""The `sirene worker` loop. It only schedules: each domain's `tick()` decides and acts on due work,
claiming rows atomically so several workers can run side by side."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.db import close_old_connections

from sirene.escalation import tasks as escalation_tasks
from sirene.flows import intake
from sirene.helpdesk import tasks as helpdesk_tasks
from sirene.incidents import tasks as incidents_tasks
from sirene.troubleshooting import tasks as troubleshooting_tasks

log = logging.getLogger("sirene.worker")

# The worker steps, registered here (the composition root) and nowhere else. Order matters a little:
# analyse new cases first (may open incidents), then escalate, then reply. A case the helpdesk step
# creates from a Groove delivery is stored and analysed in that step (flows.intake.report_case).
STEPS: list[tuple[str, Callable[[], int]]] = [
    ("intake.analyse_pending", intake.analyse_pending),
    ("incidents.tick", incidents_tasks.tick),
    ("escalation.tick", escalation_tasks.tick),
    ("helpdesk.tick", partial(helpdesk_tasks.tick, report=intake.report_case)),
    ("troubleshooting.tick", troubleshooting_tasks.tick),
]


def run_once() -> int:
    done = 0
    for name, step in STEPS:
        try:
            done += int(step() or 0)
        except Exception:
            # One failing domain must not stop the others; the failed work stays due and is retried.
            log.exception("worker step %s failed", name)
        finally:
            close_old_connections()
    return done


def run_forever(stop: threading.Event | None = None, poll: float | None = None) -> None:
    stop = stop or threading.Event()
    interval = settings.WORKER_POLL_SECONDS if poll is None else poll
    log.info("worker started (poll every %.1fs)", interval)
    while not stop.is_set():
        did = run_once()
        if not did:
            stop.wait(interval)
    log.info("worker stopped")
