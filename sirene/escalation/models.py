"""People, absences, policies (ordered steps), runs and attempts.

A run holds its state in explicit columns (status, step_index, cycle, next_action_at, lease) and a
frozen copy of its policy (`snapshot`), so editing a policy never changes a running escalation.
Every side effect is an Attempt row, written before the call and completed after.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from sirene.core import clock
from sirene.escalation.snapshot import PolicySnapshot
from sirene.incidents.models import Incident

e164 = RegexValidator(r"^\+[1-9]\d{6,14}$", _("Enter the number in E.164 format, e.g. +4930123456."))


class PersonRole(models.TextChoices):
    LEAD = "lead", _("Lead")
    DEPUTY = "deputy", _("Deputy")
    RESPONDER = "responder", _("Responder")


class Person(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    slack_user_id = models.CharField(_("Slack user id"), max_length=30, blank=True, default="")
    phone = models.CharField(_("phone number"), max_length=20, blank=True, default="", validators=[e164])
    time_zone = models.CharField(_("time zone"), max_length=60, default="Europe/Berlin")
    role = models.CharField(
        _("role"), max_length=20, choices=PersonRole.choices, default=PersonRole.RESPONDER
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Working hours (issue 22): weekdays as digits, 0 = Monday ("01234" = Monday to Friday), local time.
    work_days = models.CharField(_("working days"), max_length=7, blank=True, default="01234")
    work_start = models.TimeField(_("working hours from"), default=dt.time(8, 0))
    work_end = models.TimeField(_("working hours until"), default=dt.time(18, 0))

    class Meta:
        ordering = ["name"]
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        return self.name


class AbsenceKind(models.TextChoices):
    VACATION = "vacation", _("Vacation")
    SICK = "sick", _("Sick")
    OTHER = "other", _("Other")


class Absence(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="absences")
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    kind = models.CharField(
        _("kind"), max_length=20, choices=AbsenceKind.choices, default=AbsenceKind.VACATION
    )
    note = models.CharField(_("note"), max_length=200, blank=True, default="")
    # "" for entries made in the UI; the calendar's name/URL for imported ones (re-import replaces them).
    source = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["person", "ends_at"], name="absence_person_end")]

    def __str__(self) -> str:
        return f"{self.person} {self.starts_at:%Y-%m-%d}–{self.ends_at:%Y-%m-%d}"


class OnCallShift(models.Model):
    """The on-call rota (Rufbereitschaft): a weekly slot (weekday, from–until local time; an end at or
    before the start runs into the next morning) or an override (starts_at–ends_at), which wins over
    the weekly pattern while it lasts. Outside working hours only whoever is on call is phoned."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="on_call_shifts")
    weekday = models.PositiveSmallIntegerField(_("weekday"), null=True, blank=True)
    start = models.TimeField(_("from"), null=True, blank=True)
    end = models.TimeField(_("until"), null=True, blank=True)
    starts_at = models.DateTimeField(_("override from"), null=True, blank=True)
    ends_at = models.DateTimeField(_("override until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True, default="")

    class Meta:
        ordering = ["weekday", "start", "starts_at", "id"]
        verbose_name = _("on-call shift")
        verbose_name_plural = _("on-call rota")

    def __str__(self) -> str:
        return f"{self.person} {self.weekday} {self.start}–{self.end} {self.starts_at or ''}"


class Policy(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    is_default = models.BooleanField(_("default policy"), default=False)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-is_default", "name"]
        verbose_name = _("policy")
        verbose_name_plural = _("policies")

    def __str__(self) -> str:
        return self.name


class StepKind(models.TextChoices):
    SLACK_POST = "slack_post", _("Post to a Slack channel")
    WAIT_ACK = "wait_ack", _("Wait for acknowledgement")
    CALL = "call", _("Phone a person")
    TASK = "task", _("Assign a task")
    REPEAT = "repeat", _("Repeat")


class Step(models.Model):
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(_("kind"), max_length=20, choices=StepKind.choices)
    channel = models.CharField(_("channel"), max_length=100, blank=True, default="")
    mentions = models.ManyToManyField(Person, blank=True, related_name="+", verbose_name=_("mention"))
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("person")
    )
    minutes = models.PositiveIntegerField(_("minutes"), default=15)
    attempts = models.PositiveIntegerField(_("attempts"), default=2)
    gap_minutes = models.PositiveIntegerField(_("minutes between attempts"), default=5)
    ring_seconds = models.PositiveIntegerField(_("ring seconds"), default=30)
    title = models.CharField(_("task"), max_length=200, blank=True, default="")
    text = models.TextField(_("prepared text"), blank=True, default="")
    repeat_times = models.PositiveIntegerField(_("repeat times"), default=1)
    repeat_from = models.PositiveIntegerField(_("repeat from step"), default=1)

    class Meta:
        ordering = ["policy", "position", "id"]

    def __str__(self) -> str:
        return f"{self.policy} #{self.position} {self.kind}"


class RunStatus(models.TextChoices):
    ACTIVE = "active", _("Escalating")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")
    EXHAUSTED = "exhausted", _("All steps done, nobody answered")


class Run(models.Model):
    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="escalation_run")
    policy = models.ForeignKey(Policy, on_delete=models.SET_NULL, null=True, blank=True, related_name="runs")
    snapshot = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.ACTIVE)
    step_index = models.PositiveIntegerField(default=0)
    cycle = models.PositiveIntegerField(default=0)
    step_started_at = models.DateTimeField(default=clock.now)
    next_action_at = models.DateTimeField(null=True, blank=True, db_index=True)
    lease_owner = models.CharField(max_length=100, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(default=clock.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The siren message, once posted (channel id and ts as Slack returned them).
    slack_channel = models.CharField(max_length=100, blank=True, default="")
    slack_ts = models.CharField(max_length=40, blank=True, default="", db_index=True)
    # How many customers the siren post last showed: a new count updates the post in place.
    siren_customers = models.PositiveIntegerField(default=0)
    # "Jetzt eskalieren" (Slack button, page) or "2" on the phone: the next pass leaves the current step.
    escalate_requested_at = models.DateTimeField(null=True, blank=True)
    escalate_requested_by = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"run {self.pk} for {self.incident_id}"

    @property
    def policy_snapshot(self) -> PolicySnapshot:
        """The frozen policy, typed and checked (SnapshotError names a malformed field)."""
        return PolicySnapshot.parse(self.snapshot)


class AttemptKind(models.TextChoices):
    SLACK_POST = "slack_post", _("Slack post")
    SLACK_UPDATE = "slack_update", _("Slack message update")
    STATUS_UPDATE = "status_update", _("Status update")
    CALL = "call", _("Phone call")
    TASK = "task", _("Task")
    # A task message sent whatever the escalation does (Facebook groups, reminders): never canceled.
    DM = "dm", _("Direct message")
    # A reply in the siren post's thread (acknowledged, status update, resolved, test-account task).
    THREAD_REPLY = "thread_reply", _("Reply in the Slack thread")


class AttemptStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    ANSWERED = "answered", _("Answered (pressed 1)")
    UNANSWERED = "unanswered", _("Not answered")
    FAILED = "failed", _("Failed")
    CANCELED = "canceled", _("Canceled")


class Attempt(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="attempts")
    kind = models.CharField(max_length=20, choices=AttemptKind.choices)
    step_index = models.IntegerField(default=-1)
    cycle = models.PositiveIntegerField(default=0)
    number = models.PositiveIntegerField(default=1)
    person = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    person_name = models.CharField(max_length=100, blank=True, default="")
    target = models.CharField(max_length=100, blank=True, default="")
    text = models.TextField(blank=True, default="")
    status = models.CharField(max_length=20, choices=AttemptStatus.choices, default=AttemptStatus.PENDING)
    provider = models.CharField(max_length=20, blank=True, default="")
    provider_id = models.CharField(max_length=100, blank=True, default="", db_index=True)
    provider_status = models.CharField(max_length=30, blank=True, default="")
    digits = models.CharField(max_length=10, blank=True, default="")
    error = models.TextField(blank=True, default="")
    permanent_error = models.BooleanField(default=False)
    tries = models.PositiveIntegerField(default=0)
    # When the run's clock said this should happen (lateness = sending_at - due_at).
    due_at = models.DateTimeField(default=clock.now)
    retry_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    sending_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A call not reported final by then counts as unanswered.
    deadline = models.DateTimeField(null=True, blank=True)
    # A call outside working hours to whoever was on call (a call-out, counted per month).
    on_call = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["run", "status"], name="attempt_run_status")]

    def __str__(self) -> str:
        return f"{self.kind} {self.person_name or self.target} {self.status}"


class TaskKind(models.TextChoices):
    POLICY = "policy", _("Escalation step")
    FACEBOOK = "facebook", _("Facebook groups")
    TEST_ACCOUNT = "test_account", _("Reproduce in the test account")


class Task(models.Model):
    """A human task: the Facebook groups check (no API can post there), reproducing in the test
    account (both assigned when an incident opens), or a task step of the escalation policy."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(max_length=20, choices=TaskKind.choices, default=TaskKind.POLICY)
    person = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks")
    # Why this person got it (e.g. "Vertretung für Lea (abwesend)"), shown on the incident page.
    assigned_note = models.CharField(max_length=200, blank=True, default="")
    title = models.CharField(max_length=200)
    text = models.TextField(blank=True, default="")
    link = models.URLField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    not_needed = models.BooleanField(default=False)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # One Facebook task and one test-account task per incident, however often open is retried.
            models.UniqueConstraint(
                fields=["run", "kind"], condition=~models.Q(kind="policy"), name="task_one_per_kind"
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def shown_title(self) -> str:
        """The title in the viewer's language: the tasks sirene itself gives at open are stored in
        German (the words of the Slack DM) and shown translated; a lead's own task title as written."""
        from django.utils.translation import gettext

        known = {
            "Facebook-Gruppen prüfen und antworten": gettext("Check the Facebook groups and answer"),
            "Im Testkonto nachstellen": gettext("Reproduce in the test account"),
        }
        return known.get(self.title, self.title)
