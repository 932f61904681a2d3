"""Helpdesk state kept by sirene: a cache of the customers' tickets, the polling cursor, the reply
templates, and every reply to a customer with each attempt to send it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sirene.core import clock


class CachedTicket(models.Model):
    """A helpdesk ticket as last fetched from the API (for the case page: the customer's other tickets)."""

    provider = models.CharField(max_length=20, default="groove")
    number = models.PositiveBigIntegerField()
    customer_email = models.CharField(max_length=254, blank=True, default="", db_index=True)
    title = models.CharField(max_length=500, blank=True, default="")
    state = models.CharField(max_length=30, blank=True, default="")
    tags = models.JSONField(default=list, blank=True)
    url = models.URLField(max_length=500, blank=True, default="")
    summary = models.TextField(blank=True, default="")
    remote_created_at = models.DateTimeField(null=True, blank=True)
    remote_updated_at = models.DateTimeField(null=True, blank=True)
    fetched_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "number"], name="cachedticket_unique")]
        ordering = ["-remote_created_at", "-number"]

    def __str__(self) -> str:
        return f"{self.provider} #{self.number}"

    @property
    def is_open(self) -> bool:
        return self.state not in {"closed", "spam", "deleted"}


class CustomerTicketsFetch(models.Model):
    """When a customer's ticket list was last fetched, so the page shows the cache's age."""

    provider = models.CharField(max_length=20, default="groove")
    customer_email = models.CharField(max_length=254)
    fetched_at = models.DateTimeField(default=clock.now)
    error = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "customer_email"], name="customerticketsfetch_unique")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.customer_email}"


class SyncCursor(models.Model):
    """Where `sirene sync-groove` stands: a run that stops part-way resumes at `next_page`."""

    name = models.CharField(max_length=50, unique=True)
    since = models.DateTimeField(null=True, blank=True, help_text="tickets updated before this are skipped")
    next_page = models.PositiveIntegerField(default=1)
    run_started_at = models.DateTimeField(null=True, blank=True)
    last_completed_at = models.DateTimeField(null=True, blank=True)
    tickets_seen = models.PositiveIntegerField(default=0)
    cases_created = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} page {self.next_page}"


class ReplyKind(models.TextChoices):
    HOLDING = "holding", _("Holding reply")
    DELAY = "delay", _("Delay notice")
    RESOLUTION = "resolution", _("Resolution")
    NOTE = "note", _("Private note")
    # The ready reply of a single case (no incident), sent from the case page or the API.
    ANSWER = "answer", _("Reply to the case")


class ReplyTemplate(models.Model):
    """The German text sent to customers; editable in the UI, with {placeholders}."""

    kind = models.CharField(max_length=20, choices=ReplyKind.choices, unique=True)
    body = models.TextField()
    updated_at = models.DateTimeField(default=clock.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return self.kind


class ReplyStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    # Left mid-send by a crashed worker and not findable on the ticket: sirene does not guess (at most
    # once); a person checks Groove and sends it again or marks it sent.
    UNKNOWN = "unknown", _("Unknown — check Groove")


class CustomerReply(models.Model):
    """One message to one ticket (a reply to the customer, or a private note), sent by the worker.

    Unique per (incident, ticket, kind) or, outside an incident, (case, ticket, kind): queuing the same
    reply twice — a retried action, two people clicking — finds the existing row and sends nothing more.
    """

    kind = models.CharField(max_length=20, choices=ReplyKind.choices)
    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, null=True, blank=True, related_name="customer_replies"
    )
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="customer_replies")
    provider = models.CharField(max_length=20, default="groove")
    ticket_number = models.PositiveBigIntegerField()
    body = models.TextField()
    # "sie" or "du": the voice the body is written in (a conversation keeps the voice of its first text).
    voice = models.CharField(max_length=3, blank=True, default="")
    status = models.CharField(max_length=10, choices=ReplyStatus.choices, default=ReplyStatus.QUEUED)
    # The queue columns (core.jobs): due time (empty once sent, failed or unknown), lease, tries, dead.
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=clock.now, null=True, blank=True)
    lease_owner = models.CharField(max_length=200, blank=True, default="")
    # A worker that claimed the row owns it until then; a crashed worker's claim runs out.
    claimed_until = models.DateTimeField(null=True, blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)
    # Set when a POST to the helpdesk started and its outcome is not known yet (crash, timeout, 5xx):
    # before anything is sent again the ticket is searched for the reply's marker.
    sending_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=100, blank=True, default="")
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "ticket_number", "kind"],
                condition=Q(incident__isnull=False),
                name="customerreply_incident_ticket_kind",
            ),
            models.UniqueConstraint(
                fields=["case", "ticket_number", "kind"],
                condition=Q(incident__isnull=True),
                name="customerreply_case_ticket_kind",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="customerreply_due")]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} → #{self.ticket_number} ({self.status})"

    @property
    def marker(self) -> str:
        """What the helpdesk message carries so a restarted worker can find it (unique across databases)."""
        return f"reply-{self.pk}-{int(self.created_at.timestamp())}"


class ReplyAttempt(models.Model):
    """Every try to send a CustomerReply, with its outcome (nothing happens invisibly)."""

    class Outcome(models.TextChoices):
        SENT = "sent", _("Sent")
        FOUND = "found", _("Found on the ticket after an interruption")
        TRANSIENT = "transient", _("Failed, will retry")
        PERMANENT = "permanent", _("Failed")
        UNKNOWN = "unknown", _("Interrupted, not findable: check Groove")

    reply = models.ForeignKey(CustomerReply, on_delete=models.CASCADE, related_name="attempt_rows")
    at = models.DateTimeField(default=clock.now)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    provider_message_id = models.CharField(max_length=100, blank=True, default="")
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.reply_id} {self.outcome}"


class DelayState(models.Model):
    """Delay-notice bookkeeping for one incident or one open-question case: reminded once, notified once."""

    incident = models.OneToOneField(
        "incidents.Incident", on_delete=models.CASCADE, null=True, blank=True, related_name="delay_state"
    )
    case = models.OneToOneField(
        "cases.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="delay_state"
    )
    reminded_at = models.DateTimeField(null=True, blank=True)
    reminded_via = models.CharField(max_length=20, blank=True, default="")
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(incident__isnull=False) | Q(case__isnull=False), name="delaystate_has_target"
            )
        ]

    def __str__(self) -> str:
        return f"delay {self.incident_id or ''}/{self.case_id or ''}"


class DeliveryProgress(models.Model):
    """Processing state of a stored Groove webhook delivery: a core.jobs queue row (lease, backoff, dead)."""

    delivery = models.OneToOneField(
        "integrations.WebhookDelivery", on_delete=models.CASCADE, related_name="helpdesk_progress"
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=clock.now, null=True, blank=True)
    lease_owner = models.CharField(max_length=200, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    dead_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"delivery {self.delivery_id} ({self.attempts})"


class Outreach(models.Model):
    """A customer of an incident whose case has no helpdesk ticket, and what the team decided:
    start a new conversation (a new ticket to their e-mail address, sent by the worker) or no reply
    needed. One per (incident, case, kind); every customer without a ticket is listed until decided."""

    class Decision(models.TextChoices):
        NEW_CONVERSATION = "new_conversation", _("Start a new conversation")
        NOT_NEEDED = "not_needed", _("No reply needed")

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="outreach")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="outreach")
    kind = models.CharField(max_length=20, choices=ReplyKind.choices, default=ReplyKind.RESOLUTION)
    email = models.CharField(max_length=254)
    decision = models.CharField(max_length=20, choices=Decision.choices)
    subject = models.CharField(max_length=300, blank=True, default="")
    body = models.TextField(blank=True, default="")
    status = models.CharField(max_length=10, choices=ReplyStatus.choices, default=ReplyStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=clock.now, null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # core.jobs (issue 22): the worker holding the lease, and when the retries gave up.
    lease_owner = models.CharField(max_length=200, blank=True, default="")
    dead_at = models.DateTimeField(null=True, blank=True)
    ticket_number = models.PositiveBigIntegerField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    decided_at = models.DateTimeField(default=clock.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "case", "kind"], name="outreach_incident_case_kind")
        ]
        ordering = ["decided_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} → {self.email} ({self.decision}, {self.status})"


class AfterAnswer(models.Model):
    """★ A customer's answer on a ticket after the incident's resolution reply, sorted (aftercare.py):
    one row per helpdesk message, so a repeated webhook delivery changes nothing."""

    class Verdict(models.TextChoices):
        FIXED = "fixed", _("fix confirmed")
        STILL_BROKEN = "still_broken", _("still broken")
        OTHER = "other", _("another topic")
        THANKS = "thanks", _("only thanks")

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="after_answers")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="after_answers")
    message_id = models.CharField(max_length=100)
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    # The cue words that decided (or "similar"), kept as data for the page.
    cues = models.JSONField(default=list, blank=True)
    similarity = models.FloatField(null=True, blank=True)
    received_at = models.DateTimeField(default=clock.now)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "message_id"], name="afteranswer_incident_message")
        ]
        ordering = ["received_at", "id"]

    def __str__(self) -> str:
        return f"{self.incident_id}/{self.case_id}: {self.verdict}"


class AfterAlert(models.Model):
    """★ Two or more customers say "still broken" within 48 h of a resolution: one per resolution.
    `posted_at` is the at-most-once claim of the quiet line to the lead."""

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="after_alerts")
    resolved_at = models.DateTimeField()
    still_broken = models.PositiveIntegerField(default=0)
    raised_at = models.DateTimeField(default=clock.now)
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "resolved_at"], name="afteralert_once_per_resolution")
        ]

    def __str__(self) -> str:
        return f"{self.incident_id}: {self.still_broken} still broken"
