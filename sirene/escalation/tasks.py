"""This domain's worker step: called by `sirene worker` on every loop; returns how much it did."""

from __future__ import annotations

from sirene.escalation.worker import claim_due, process_run, worker_id


def tick() -> int:
    owner = worker_id()
    done = 0
    for run_id in claim_due(owner):
        done += 1 + process_run(run_id, owner)
    return done
