"""Demo: the reply templates, and (without Groove configured) a holding reply in the outbox."""

from __future__ import annotations

from typing import Any

from sirene.cases.models import Case, Status
from sirene.helpdesk import replies, services, tasks
from sirene.helpdesk.models import CustomerReply


def load(stdout: Any) -> None:
    created = replies.ensure_defaults()
    queued = 0
    # Open questions from Groove get their holding reply (once; idempotent through the unique constraint).
    for case in Case.objects.filter(source=services.PROVIDER, status=Status.OPEN_QUESTION)[:20]:
        if not CustomerReply.objects.filter(case=case, kind="holding").exists():
            _reply, was_created = services.queue_reply("holding", case)
            queued += int(was_created)
    sent = tasks.tick() if queued else 0
    stdout.write(
        f"helpdesk demo: {created} reply template(s) created, {queued} holding reply(ies) queued, {sent} handled"
    )
