"""This domain's worker step: called by `sirene worker` on every loop; returns how much it did."""

from __future__ import annotations

from sirene.escalation import worker
from sirene.escalation.services import refresh_siren_posts, remind_tasks


def tick() -> int:
    # Both only queue Attempt rows (and wake their run), so the claim below sends them at once.
    done = refresh_siren_posts() + remind_tasks()
    return done + worker.tick(worker.worker_id())
