"""The `sirene worker` loop. It only schedules: each domain's `tick()` decides and acts on due work,
claiming rows atomically so several workers can run side by side."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections

log = logging.getLogger("sirene.worker")

# Order matters a little: analyse new cases first (may open incidents), then escalate, then reply.
STEPS = [
    "sirene.cases.pipeline:analyse_pending",
    "sirene.incidents.tasks:tick",
    "sirene.escalation.tasks:tick",
    "sirene.helpdesk.tasks:tick",
    "sirene.troubleshooting.tasks:tick",
]


def _resolve(spec: str) -> Callable[[], int]:
    module, name = spec.split(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def run_once() -> int:
    done = 0
    for spec in STEPS:
        try:
            done += int(_resolve(spec)() or 0)
        except Exception:
            # One failing domain must not stop the others; the failed work stays due and is retried.
            log.exception("worker step %s failed", spec)
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
