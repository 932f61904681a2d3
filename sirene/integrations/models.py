from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from sirene.core import clock
from sirene.core.jobs import Job


class OutboxMessage(models.Model):
    """What would have been sent when an integration is not configured (demo, offline), and shown in the UI."""

    class Channel(models.TextChoices):
        SLACK = "slack", "Slack"
        PHONE = "phone", _("Phone call")
        HELPDESK = "helpdesk", _("Helpdesk reply")
        EMAIL = "email", _("E-mail")

    channel = models.CharField(max_length=20, choices=Channel.choices)
    kind = models.CharField(max_length=40, help_text="e.g. post, update, call, reply, note, dm")
    recipient = models.CharField(max_length=300, blank=True, default="")
    subject = models.CharField(max_length=300, blank=True, default="")
    body = models.TextField(blank=True, default="")
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=clock.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.channel} {self.kind} → {self.recipient}"


class WebhookDelivery(models.Model):
    """Every inbound webhook request as received, stored before it is parsed.

    (source, delivery_key) is unique, so a re-delivered event (same Slack event_id, same Twilio
    CallSid+status, same Groove payload hash) is recognised and changes nothing.
    """

    source = models.CharField(max_length=20)
    event = models.CharField(max_length=100, blank=True, default="")
    delivery_key = models.CharField(max_length=200)
    headers = models.JSONField(default=dict, blank=True)
    body = models.TextField(blank=True, default="")
    received_at = models.DateTimeField(default=clock.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "delivery_key"], name="webhook_delivery_unique")
        ]
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.source}:{self.event}:{self.delivery_key}"


class ChannelPost(Job):
    """One chat message to a channel that belongs to no escalation run (the Vorwarnung), sent on the
    `core.jobs` primitive: tries with backoff, dead after a permanent error or the last try (shown in
    the health report), looked up at Slack by its id before a retry so it is posted once."""

    key = models.CharField(max_length=200, unique=True, help_text="e.g. early_warning:5: enqueued once")
    channel = models.CharField(max_length=100)
    text = models.TextField()
    created_at = models.DateTimeField(default=clock.now)
    posted_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.key} → {self.channel}"
