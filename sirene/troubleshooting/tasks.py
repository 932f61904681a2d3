"""This domain's worker step: remind case owners of follow-ups that are due.

At most once, on purpose (core.jobs `take_once`): a due follow-up is consumed (reminded_at IS NULL → now)
in the same transaction that records the Reminder, before any Slack DM is sent, so several workers never
remind twice and a crash never repeats a DM. The reminder is always recorded in sirene (shown on "My
cases" and the case page); when Slack is configured and the owner has a Slack user id it also goes out
as a direct message, marked "unknown" until Slack answered — a crash in between leaves it visibly unknown.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from sirene.accounts.models import User
from sirene.core import clock, jobs
from sirene.integrations.base import IntegrationError
from sirene.integrations.registry import chat_transport
from sirene.integrations.slack import escape
from sirene.troubleshooting.models import DmState, FollowUp, Reminder

log = logging.getLogger(__name__)
BATCH = 50
FOLLOW_UPS: jobs.Queue[FollowUp] = jobs.Queue(
    "follow_up_reminders",
    FollowUp,
    lane="background",
    due="due_at",
    owner=None,
    lease_until=None,
    tries=None,
    error=None,
    dead=None,
    where=Q(reminded_at__isnull=True, done_at__isnull=True),
)


def tick() -> int:
    return send_due_reminders()


def send_due_reminders(limit: int = BATCH) -> int:
    now = clock.now()
    due = list(
        FOLLOW_UPS.objects()
        .filter(FOLLOW_UPS.due_q(now))
        .order_by("due_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for pk in due:
        with transaction.atomic():
            if not FOLLOW_UPS.take_once(pk, reminded_at=now):
                continue  # another worker got it
            follow_up = FollowUp.objects.select_related("case__owner", "case__customer", "created_by").get(
                pk=pk
            )
            reminder, slack_id = _record(follow_up)
        if reminder is not None and slack_id:
            _send_dm(reminder, slack_id)
        sent += 1
    return sent


def reminder_text(follow_up: FollowUp) -> str:
    # A DM to a German team; the UI shows the same text.
    case = follow_up.case
    when = timezone.localtime(follow_up.due_at).strftime("%d.%m.%Y %H:%M")
    url = f"{settings.PUBLIC_URL}{case.get_absolute_url()}"
    text = f"Follow-up fällig ({when}) mit {case.customer}: Fall #{case.pk} „{case.subject[:80]}“ – {url}"
    if follow_up.note:
        text += f"\nNotiz: {follow_up.note[:300]}"
    return text


def _record(follow_up: FollowUp) -> tuple[Reminder | None, str]:
    """The reminder in sirene, and the Slack id to DM (empty: no DM). Runs inside the claim's transaction."""
    case = follow_up.case
    user: User | None = case.owner or follow_up.created_by
    if user is None:
        # Nobody to remind: the missed follow-up still shows as overdue to the leads.
        log.info("follow-up %s of case %s has no owner to remind", follow_up.pk, case.pk)
        return None, ""
    slack_id = user.slack_user_id if settings.SLACK_TOKEN else ""
    reminder = Reminder.objects.create(
        user=user,
        case=case,
        follow_up=follow_up,
        text=reminder_text(follow_up),
        created_at=clock.now(),
        dm_state=DmState.UNKNOWN if slack_id else DmState.NOT_SENT,
    )
    return reminder, slack_id


def _send_dm(reminder: Reminder, slack_user_id: str) -> None:
    try:
        # The text holds the customer's name, subject and the note: escaped, so a `<!channel>` or
        # `<https://evil|label>` in them stays text (the page shows the unescaped text, HTML-escaped).
        posted = chat_transport().send_dm(slack_user_id, escape(reminder.text))
    except IntegrationError as exc:
        # The reminder stays visible in sirene; the failure is shown next to it, never retried silently.
        reminder.dm_state, reminder.dm_error = DmState.FAILED, str(exc)[:500]
        log.warning("follow-up DM for case %s failed: %s", reminder.case_id, exc)
    else:
        reminder.dm_state = DmState.SENT
        reminder.dm_channel, reminder.dm_ts = posted.channel[:100], posted.ts[:40]
    reminder.save(update_fields=["dm_state", "dm_error", "dm_channel", "dm_ts"])
