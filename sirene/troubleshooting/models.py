"""The guided per-case workspace: the troubleshooting guide's stages, snapshots, backups, follow-ups."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from sirene.cases.models import Case
from sirene.core import clock
from sirene.knowledge.models import KnownProblem


class Stage(models.TextChoices):
    """The stages of the team's troubleshooting guide, in the guide's order."""

    PREPARATION = "preparation", _("Preparation")
    HISTORY = "history", _("Ticket history")
    OPEN_TICKETS = "open_tickets", _("All open tickets of the customer")
    ARTICLES = "articles", _("Help articles already read")
    QUESTIONS = "questions", _("Questions to the customer")
    PROJECT = "project", _("Project status and conversion")
    BACKUP = "backup", _("Data backup")
    REPRODUCTION = "reproduction", _("Reproducibility")
    DOCUMENTATION = "documentation", _("Final documentation")
    FOLLOW_UP = "follow_up", _("Follow-up")


# Stages whose work changes the customer's data: the guide demands a backup before they count as done.
CHANGES_CUSTOMER_DATA = frozenset({Stage.PROJECT})


class StageState(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    NOT_NEEDED = "not_needed", _("Not needed")


class Workspace(models.Model):
    """One per case, created on first use. Holds what belongs to the case as a whole."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="workspace")
    created_at = models.DateTimeField(default=clock.now)
    # Answers to the questions that are not customer attributes (when it first happened, what came before).
    answers = models.JSONField(default=dict, blank=True)
    repro_steps = models.TextField(_("exact steps"), blank=True, default="")
    repro_environment = models.TextField(_("environment"), blank=True, default="")
    repro_test_account_result = models.TextField(_("test-account result"), blank=True, default="")
    doc_title = models.CharField(_("title"), max_length=200, blank=True, default="")
    doc_symptoms = models.TextField(_("symptoms"), blank=True, default="")
    doc_solution_steps = models.TextField(_("solution steps"), blank=True, default="")
    doc_text = models.TextField(_("documentation"), blank=True, default="")
    doc_updated_at = models.DateTimeField(null=True, blank=True)
    # The knowledge entry made from this documentation; deleting that entry keeps the documentation.
    known_problem = models.ForeignKey(
        KnownProblem, on_delete=models.SET_NULL, null=True, blank=True, related_name="workspaces"
    )
    forwarded_to_tech_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"workspace #{self.case_id}"


class StageEntry(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="stages")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    state = models.CharField(max_length=12, choices=StageState.choices, default=StageState.OPEN)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "stage"], name="stageentry_unique")]

    def __str__(self) -> str:
        return f"{self.workspace.case_id} {self.stage} {self.state}"


class SnapshotKind(models.TextChoices):
    ORIGINAL = "original", _("Original (before conversion)")
    CURRENT = "current", _("Current state")


class Snapshot(models.Model):
    """A structured copy of the customer's project/account state at one moment. Never edited."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="snapshots")
    kind = models.CharField(max_length=10, choices=SnapshotKind.choices)
    label = models.CharField(max_length=200, blank=True, default="")
    data = models.JSONField()
    size_bytes = models.IntegerField()
    checksum = models.CharField(max_length=64)
    taken_at = models.DateTimeField(default=clock.now)
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        ordering = ["taken_at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.taken_at:%Y-%m-%d %H:%M}"


class BackupKind(models.TextChoices):
    EXPORT = "export", _("Export stored in sirene")
    REFERENCE = "reference", _("Reference to an external export")


class Backup(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="backups")
    kind = models.CharField(max_length=10, choices=BackupKind.choices)
    data = models.JSONField(null=True, blank=True)
    # Where an external export lives (file share path, storage URL, admin-tool export id).
    location = models.CharField(max_length=500, blank=True, default="")
    # SHA-256 of the canonical JSON for exports; for references, the checksum the export tool reported.
    checksum = models.CharField(max_length=64, blank=True, default="")
    size_bytes = models.IntegerField(null=True, blank=True)
    snapshot = models.ForeignKey(Snapshot, on_delete=models.SET_NULL, null=True, blank=True)
    note = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    restored_at = models.DateTimeField(null=True, blank=True)
    restored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    restore_note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.checksum[:12]}"


class ConversionResult(models.TextChoices):
    SUCCESS = "success", _("Succeeded")
    PARTIAL = "partial", _("Partly succeeded")
    FAILED = "failed", _("Failed")


class Conversion(models.Model):
    """One re-conversion (or other fix on customer data) and what came of it."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="conversions")
    action = models.CharField(max_length=200, default="re-convert")
    result = models.CharField(max_length=10, choices=ConversionResult.choices)
    note = models.TextField(blank=True, default="")
    backup = models.ForeignKey(Backup, on_delete=models.PROTECT, related_name="conversions")
    at = models.DateTimeField(default=clock.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.result}"


class CaseLink(models.Model):
    """Two cases that belong together (the same customer's related tickets). Stored once, low id first."""

    case_a = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    case_b = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    note = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case_a", "case_b"], name="caselink_unique"),
            models.CheckConstraint(
                condition=models.Q(case_a__lt=models.F("case_b")), name="caselink_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_a_id} <-> {self.case_b_id}"


class FollowUp(models.Model):
    """A date with the customer. The worker reminds the case owner once it is due."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="follow_ups")
    due_at = models.DateTimeField(db_index=True)
    note = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Set by the worker when it claims the reminder, so two workers never remind twice.
    reminded_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    outcome = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["due_at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} follow-up {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def is_missed(self) -> bool:
        return self.done_at is None and self.due_at <= clock.now()


class DmState(models.TextChoices):
    NOT_SENT = "not_sent", _("Shown in sirene only")
    SENT = "sent", _("Sent by Slack")
    FAILED = "failed", _("Slack failed")
    # The DM was on its way when the worker stopped: at most once, so it is not sent again.
    UNKNOWN = "unknown", _("Slack: interrupted, maybe not sent")


class Reminder(models.Model):
    """A follow-up reminder shown to its user in sirene (and sent by Slack DM when configured)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    follow_up = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="reminders")
    text = models.TextField()
    created_at = models.DateTimeField(default=clock.now)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dm_state = models.CharField(max_length=10, choices=DmState.choices, default=DmState.NOT_SENT)
    dm_error = models.CharField(max_length=500, blank=True, default="")
    # Where Slack put the DM (its IM channel and ts), so an erased customer's address can be rewritten.
    dm_channel = models.CharField(max_length=100, blank=True, default="")
    dm_ts = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.case_id} {self.created_at:%Y-%m-%d %H:%M}"
