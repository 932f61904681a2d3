"""This domain's worker steps: called by `sirene worker` on every loop; each returns how much it did.

Two lanes (issue 22): `runs_tick` decides the escalation runs and places the calls; `chat_tick` sends
every Slack message the runs queued. A slow Slack therefore never delays a call.
"""

from __future__ import annotations

from sirene.escalation import worker
from sirene.escalation.services import refresh_siren_posts, remind_tasks


def runs_tick() -> int:
    return worker.tick(worker.worker_id())


def chat_tick() -> int:
    # Both only queue Attempt rows, which the chat lane then sends at once.
    done = refresh_siren_posts() + remind_tasks()
    return done + worker.send_chat(worker.worker_id())


def tick() -> int:
    """Both lanes once, runs first (tests, `sirene worker --once`)."""
    return runs_tick() + chat_tick()
