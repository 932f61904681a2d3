"""This domain's worker step: called by `sirene worker` on every loop; returns how much it did."""

from __future__ import annotations

from sirene.escalation import worker


def tick() -> int:
    return worker.tick(worker.worker_id())
