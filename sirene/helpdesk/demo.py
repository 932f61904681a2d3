"""Demo: the reply templates and, only while Groove is NOT configured (so no real customer is ever written
to), the holding replies of open questions from Groove, delivered into the outbox."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from sirene.cases.models import Case, Status
from sirene.helpdesk import replies, services
from sirene.helpdesk.models import ReplyKind


def load(stdout: Any) -> None:
    created = replies.ensure_defaults()
    if settings.GROOVE_TOKEN:
        stdout.write(
            f"helpdesk demo: {created} reply template(s) created; Groove is configured, nothing sent"
        )
        return
    queued = 0
    for case in Case.objects.filter(source=services.PROVIDER, status=Status.OPEN_QUESTION)[:20]:
        _reply, was_created = services.queue_reply(ReplyKind.HOLDING, case)  # once per case (unique)
        queued += int(was_created)
    sent = services.send_due()
    stdout.write(
        f"helpdesk demo: {created} template(s), {queued} holding reply(ies) queued, {sent} sent to the outbox"
    )
