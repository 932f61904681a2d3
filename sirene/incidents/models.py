"""Problem groups (every tracked case joins one), the per-category detection rule, and critical incidents.

A ProblemGroup keeps its running centroid and a few recent member vectors as float32 bytes, so the
grouping decision of `sirene.similarity` can run against the database without re-reading cases.
GroupMembership stores, per case, the customer identity and arrival time the detection rule counts.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from sirene.cases.models import Case, Category, Reproduced
from sirene.core import clock
from sirene.incidents.brief_shape import Brief


class IncidentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


def new_version() -> int:
    """A ProblemGroup version: random, so two writers never hand out the same one."""
    return secrets.randbits(62)


class ProblemGroupQuerySet(models.QuerySet["ProblemGroup"]):
    def update(self, **kwargs: Any) -> int:
        kwargs.setdefault("version", new_version())
        return super().update(**kwargs)


class ProblemGroup(models.Model):
    """Reports about the same problem; the unit the detection rule counts customers in."""

    title = models.CharField(_("title"), max_length=300, blank=True, default="")
    category = models.CharField(
        _("category"), max_length=20, choices=Category.choices, default=Category.OTHER
    )
    # Set when the group is anchored to a confirmed known problem of the knowledge base.
    known_problem_key = models.CharField(max_length=100, blank=True, default="", db_index=True)
    centroid = models.BinaryField(null=True, blank=True, editable=False)
    # Up to GroupingParams.max_members recent member vectors, concatenated float32 rows.
    recent_vectors = models.BinaryField(null=True, blank=True, editable=False)
    count = models.PositiveIntegerField(default=0)
    # Error codes quoted by members ("502", "E-1234"): a shared code is strong evidence of one problem.
    codes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    first_seen_at = models.DateTimeField(default=clock.now)
    last_seen_at = models.DateTimeField(default=clock.now, db_index=True)
    # A group merged into another keeps existing (for the audit trail) but takes no new cases.
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged_groups"
    )
    # A new random value on every write (`save`, and `update` on its querysets): each process caches
    # the groups' vectors by id and version (grouping) and re-reads a group whose version changed.
    version = models.BigIntegerField(default=0, editable=False)

    objects = ProblemGroupQuerySet.as_manager()

    class Meta:
        ordering = ["-last_seen_at"]
        verbose_name = _("problem group")
        verbose_name_plural = _("problem groups")

    def __str__(self) -> str:
        return f"G-{self.pk} {self.title}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.version = new_version()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "version" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "version"]
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("incidents:group", args=[self.pk])


class GroupMembership(models.Model):
    """One case in one group, with what the rule counts (who, when) copied for cheap queries."""

    class How(models.TextChoices):
        NEW = "new", _("opened a new group")
        SIMILAR = "similar", _("similar reports")
        KNOWN_PROBLEM = "known_problem", _("confirmed known problem")
        MOVED = "moved", _("moved by an agent")
        MERGED = "merged", _("groups merged")
        SPLIT = "split", _("group split")
        DETECTED = "detected", _("same problem in the window")

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="problem_membership")
    group = models.ForeignKey(ProblemGroup, on_delete=models.CASCADE, related_name="memberships")
    # Customer.identity: e-mail, else helpdesk id; one customer writing four times counts once.
    identity = models.CharField(max_length=300)
    received_at = models.DateTimeField()
    score = models.FloatField(default=0.0)
    how = models.CharField(max_length=20, choices=How.choices, default=How.NEW)
    joined_at = models.DateTimeField(default=clock.now)

    class Meta:
        indexes = [
            models.Index(fields=["group", "received_at"], name="membership_group_received"),
            # The agents' corrections of recent reports: the detector's window checks them on every
            # report (detection/store.py), so another process's move, merge or split reaches it.
            models.Index(
                fields=["received_at"],
                condition=Q(how__in=["moved", "merged", "split"]),
                name="membership_agent_received",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} in {self.group_id}"


class IncidentRule(models.Model):
    """A lead's explicit rule (more than `threshold` customers in the window, or never page) for one
    category or, when `known_problem_key` is set, for one known problem (it wins over the category)."""

    category = models.CharField(
        _("category"), max_length=20, choices=Category.choices, blank=True, default=""
    )
    known_problem_key = models.CharField(_("known problem"), max_length=100, blank=True, default="")
    threshold = models.PositiveIntegerField(_("more than N customers"))
    window_hours = models.FloatField(_("window (hours)"))
    # False: "never page, it is an application error" (the reports are still grouped and shown).
    pages = models.BooleanField(_("opens incidents"), default=True)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["category"], condition=Q(known_problem_key=""), name="incidentrule_one_per_category"
            ),
            models.UniqueConstraint(
                fields=["known_problem_key"],
                condition=~Q(known_problem_key=""),
                name="incidentrule_one_per_known_problem",
            ),
        ]
        verbose_name = _("incident rule")
        verbose_name_plural = _("incident rules")

    def __str__(self) -> str:
        subject = self.known_problem_key or self.category
        return f"{subject}: >{self.threshold} / {self.window_hours}h" + ("" if self.pages else " (never)")

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if not self.category and not self.known_problem_key:
            raise ValidationError(_("A rule is for a category or for a known problem."))


class EarlyWarning(models.Model):
    """★ Vorwarnung: a problem not seen for days that accelerates (e.g. 3 customers in 60 minutes).

    Shown in the incident list and posted as one quiet line to the internal channel (no paging).
    When the problem reaches the rule, `incident` is set and the lead time is opened - raised.
    """

    raised_at = models.DateTimeField(default=clock.now, db_index=True)
    customers = models.PositiveIntegerField(default=0)
    minutes = models.FloatField(default=60.0)
    example = models.TextField(blank=True, default="")
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.OTHER)
    cases = models.ManyToManyField(Case, related_name="early_warnings", blank=True)
    incident = models.ForeignKey(
        "Incident", on_delete=models.SET_NULL, null=True, blank=True, related_name="early_warnings"
    )
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        verbose_name = _("early warning")
        verbose_name_plural = _("early warnings")

    def __str__(self) -> str:
        return f"EW-{self.pk} {self.customers} customers"

    @property
    def lead_minutes(self) -> float | None:
        if self.incident is None:
            return None
        return (self.incident.opened_at - self.raised_at).total_seconds() / 60.0


class Incident(models.Model):
    title = models.CharField(_("title"), max_length=300)
    # What customers read (replies, status page): no codes, no internal words. Built with the title
    # (incidents/title.py); once the lead edits either, sirene stops rebuilding them.
    customer_title = models.CharField(_("title for customers"), max_length=300, blank=True, default="")
    title_edited = models.BooleanField(default=False)
    # The public status page (/status/) shows an incident only once the lead publishes it.
    published = models.BooleanField(_("shown on the status page"), default=False)
    public_text = models.TextField(_("status text for customers"), blank=True, default="")
    public_updated_at = models.DateTimeField(null=True, blank=True)
    # The text customers get on resolve (separate from the internal resolution).
    customer_text = models.TextField(_("resolution text for customers"), blank=True, default="")
    description = models.TextField(_("description"), blank=True, default="")
    category = models.CharField(
        _("category"), max_length=20, choices=Category.choices, default=Category.OTHER
    )
    status = models.CharField(
        _("status"), max_length=20, choices=IncidentStatus.choices, default=IncidentStatus.OPEN
    )
    # "auto" when sirene opened it from the detection rule, "manual" when a person did.
    origin = models.CharField(max_length=10, default="manual")
    opened_at = models.DateTimeField(_("opened"), default=clock.now, db_index=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Who acknowledged when it was not a sirene user (Slack user, phone number) and through what.
    acknowledged_label = models.CharField(max_length=200, blank=True, default="")
    acknowledged_via = models.CharField(max_length=30, blank=True, default="")
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolution = models.TextField(_("resolution"), blank=True, default="")
    # Every affected customer's case, linked so each hears back.
    cases = models.ManyToManyField(Case, related_name="incidents", blank=True)
    # The problem group that triggered it (auto) or that an agent attached; null for manual ones.
    group = models.ForeignKey(
        ProblemGroup, on_delete=models.SET_NULL, null=True, blank=True, related_name="incidents"
    )
    # The brief (what, first/last seen, counts, examples, common thread), rebuilt as cases arrive.
    brief = models.JSONField(default=dict, blank=True)
    brief_updated_at = models.DateTimeField(null=True, blank=True)
    customers_affected = models.PositiveIntegerField(default=0)
    reports = models.PositiveIntegerField(default=0)
    first_seen = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    test_reproduced = models.CharField(
        _("reproduced in test account"),
        max_length=10,
        choices=Reproduced.choices,
        default=Reproduced.NOT_TRIED,
    )
    test_note = models.TextField(_("test-account note"), blank=True, default="")

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            # The backstop behind the row lock: one group never has two live incidents.
            models.UniqueConstraint(
                fields=["group"],
                condition=Q(group__isnull=False) & ~Q(status="resolved"),
                name="incident_one_live_per_group",
            )
        ]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")

    def __str__(self) -> str:
        return f"INC-{self.pk} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("incidents:detail", args=[self.pk])

    @property
    def brief_data(self) -> Brief:
        """The brief, typed and checked (pydantic's ValidationError names a malformed field)."""
        return Brief.read(self.brief)

    @property
    def is_critical_category(self) -> bool:
        """One of the categories the process calls critical (members' area errors, sync, login, …)."""
        from sirene.cases.models import CRITICAL_CATEGORIES

        return self.category in CRITICAL_CATEGORIES


class IncidentEvent(models.Model):
    """The incident timeline: cases joining, brief changes, escalation steps, status updates."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=clock.now)
    kind = models.CharField(max_length=40)
    message = models.TextField(blank=True, default="")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    actor_label = models.CharField(max_length=200, blank=True, default="")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["incident", "at"], name="incidentevent_incident_at")]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.kind}"


class SameProblemAnswer(models.Model):
    """The team in the loop, counted: one agent's answer to "Gleiches Problem wie …?" (and the
    one-click split of a near miss). Stored as data (who, when, which reports); the words are
    rendered at display time. Detection reads the answer through the groups it changed
    (`team_loop`), this row is the record and the count ("vom Team bestätigt: 2")."""

    class Answer(models.TextChoices):
        YES = "yes", _("same problem")
        NO = "no", _("a different problem")
        SPLIT = "split", _("split into two problems")

    class Source(models.TextChoices):
        CASE = "case", _("case page")
        WARNING = "warning", _("early warning")
        INCIDENT = "incident", _("incident page")
        PROPOSAL = "proposal", _("sirene's proposal")
        API = "api", _("API")

    # The report asked about (null for a split, and after the case was deleted: the count stays).
    case = models.ForeignKey(
        Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="same_problem_answers"
    )
    # The problem it was compared with: its group and, when it had one, its incident.
    group = models.ForeignKey(
        ProblemGroup, on_delete=models.SET_NULL, null=True, blank=True, related_name="team_answers"
    )
    incident = models.ForeignKey(
        Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="team_answers"
    )
    answer = models.CharField(max_length=10, choices=Answer.choices)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.CASE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    at = models.DateTimeField(default=clock.now, db_index=True)
    # The reports of the problem at the time of the answer (a split: the part taken out).
    case_ids = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("team answer")
        verbose_name_plural = _("team answers")

    def __str__(self) -> str:
        return f"{self.answer} #{self.case_id} ~ G-{self.group_id}"
