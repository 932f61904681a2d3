"""Privacy (DSGVO): the erasure log, the queue of Slack messages to rewrite, the retention schedule.

None of these rows holds a customer's address or name: an erasure is recorded under the customer's
keyed pseudonym (`pseudonym.label`), and a Slack rewrite carries only the already cleaned text.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from sirene.core import clock
from sirene.core.jobs import Job


class Erasure(models.Model):
    """One erasure (a person's request, Art. 17) or one retention pass: the audit trail, without the address."""

    class Kind(models.TextChoices):
        REQUEST = "request", "request"
        RETENTION = "retention", "retention"

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.REQUEST)
    at = models.DateTimeField(default=clock.now, db_index=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    # "cli", "api", "retention" (who else asked), beside `by` when a user did.
    actor_label = models.CharField(max_length=100, blank=True, default="")
    # The customer's pseudonym label ("gelöscht-…", empty for a retention pass): the same customer
    # erased again is recognised by it, the address is nowhere.
    pseudonym = models.CharField(max_length=100, blank=True, default="", db_index=True)
    # What was removed, per kind (counts only).
    counts = models.JSONField(default=dict, blank=True)
    slack_updates = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.pseudonym} {self.at:%Y-%m-%d %H:%M}"


class SlackRewrite(Job):
    """A Slack message sirene sent that named an erased customer, to be rewritten with `chat.update`.

    A core.jobs queue row (background lane): claimed with a lease, retried with backoff, dead after the
    last try. `chat.update` with the same text is idempotent, so a worker that dies after Slack answered
    and before `complete` only repeats the same rewrite: nothing is lost, nothing is posted twice.
    A siren post (`run` set) is rendered at send time from the incident as it is then, so a rewrite
    never puts back an older count.
    """

    erasure = models.ForeignKey(Erasure, on_delete=models.CASCADE, related_name="slack_rewrites")
    channel = models.CharField(max_length=100)
    ts = models.CharField(max_length=40)
    run = models.ForeignKey(
        "escalation.Run", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    text = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["due_at"], name="slackrewrite_due")]
        constraints = [
            models.UniqueConstraint(fields=["erasure", "channel", "ts"], name="slackrewrite_once_per_erasure")
        ]

    def __str__(self) -> str:
        return f"rewrite {self.channel} {self.ts}"


class RetentionSchedule(Job):
    """One row: when the next daily retention pass is due (a core.jobs queue of one)."""

    name = models.CharField(max_length=20, unique=True, default="daily")
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_counts = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"retention {self.name} due {self.due_at}"
