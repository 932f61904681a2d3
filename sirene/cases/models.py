"""Tech cases and the customers who report them (the spreadsheet "Technikfälle-Tracking", as data)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from sirene.cases.search import search_key
from sirene.core import clock
from sirene.core.jobs import Job


def _with_search_text(update_fields: Any, sources: set[str]) -> Any:
    """A partial save that touches a searched field also writes the search key."""
    if update_fields is None:
        return None
    fields = list(update_fields)
    if sources & set(fields) and "search_text" not in fields:
        fields.append("search_text")
    return fields


class Category(models.TextChoices):
    APP_ERROR = "app_error", _("Error message in members' area / app")
    SYNC = "sync", _("App ↔ members' area sync")
    LOGIN = "login", _("Login")
    CONTENT = "content", _("Lesson / content won't open")
    CHECKOUT = "checkout", _("Checkout")
    OTHER = "other", _("Other")


# The categories the process calls critical when many customers report them.
CRITICAL_CATEGORIES = frozenset(
    {Category.APP_ERROR, Category.SYNC, Category.LOGIN, Category.CONTENT, Category.CHECKOUT}
)


class Status(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING = "waiting", _("Waiting for customer")
    OPEN_QUESTION = "open_question", _("Open question")
    SOLVED = "solved", _("Solved")


OPEN_STATUSES = frozenset({Status.NEW, Status.IN_PROGRESS, Status.WAITING, Status.OPEN_QUESTION})


class Reproduced(models.TextChoices):
    NOT_TRIED = "not_tried", _("Not tried")
    YES = "yes", _("Yes")
    NO = "no", _("No")


class Customer(models.Model):
    """A customer, identified by normalised e-mail or, failing that, a stable helpdesk id."""

    email = models.EmailField(_("e-mail"), max_length=254, null=True, blank=True)
    external_id = models.CharField(_("helpdesk customer id"), max_length=200, null=True, blank=True)
    name = models.CharField(_("name"), max_length=200, blank=True, default="")
    # Known attributes (platform, device, os, browser, app_version, club_member, plan, country, language)
    # and any extra ones, as reported or extracted. One JSON object keeps the schema open.
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)
    # Name and e-mail folded for search (umlauts, ß, case); filled on save, see cases/search.py.
    search_text = models.TextField(blank=True, default="", editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["email"], condition=Q(email__isnull=False), name="customer_email_unique"
            ),
            models.UniqueConstraint(
                fields=["external_id"],
                condition=Q(external_id__isnull=False),
                name="customer_external_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(email__isnull=False) | Q(external_id__isnull=False), name="customer_has_identity"
            ),
        ]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.email or f"#{self.external_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_text = search_key(self.name, self.email)
        kwargs["update_fields"] = _with_search_text(kwargs.get("update_fields"), {"name", "email"})
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("cases:customer", args=[self.pk])

    @property
    def identity(self) -> str:
        """The key by which distinct customers are counted."""
        return f"email:{self.email}" if self.email else f"ext:{self.external_id}"

    @property
    def email_domain(self) -> str:
        return self.email.rsplit("@", 1)[-1] if self.email else ""


class Case(models.Model):
    source = models.CharField(_("source"), max_length=50)
    external_id = models.CharField(_("external id"), max_length=200)
    subject = models.CharField(_("subject"), max_length=500, blank=True, default="")
    body = models.TextField(_("text"), blank=True, default="")
    # Exactly what arrived, kept before anything was parsed out of it.
    raw_payload = models.JSONField(_("raw payload"), default=dict, blank=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="cases", verbose_name=_("customer")
    )
    category = models.CharField(
        _("category"), max_length=20, choices=Category.choices, default=Category.OTHER
    )
    tags = models.JSONField(_("tags"), default=list, blank=True)
    # ",tag1,tag2," so a tag filter is one indexed-friendly LIKE on every database.
    tag_index = models.CharField(max_length=1000, blank=True, default="", editable=False)
    channel = models.CharField(_("channel"), max_length=50, blank=True, default="email")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.NEW)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_cases",
        verbose_name=_("owner"),
    )
    reproduced = models.CharField(
        _("reproduced in test account"),
        max_length=10,
        choices=Reproduced.choices,
        default=Reproduced.NOT_TRIED,
    )
    reproduced_note = models.TextField(_("test-account note"), blank=True, default="")
    solution = models.TextField(_("solution"), blank=True, default="")
    received_at = models.DateTimeField(_("received"), default=clock.now)
    created_at = models.DateTimeField(_("created"), default=clock.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)
    solved_at = models.DateTimeField(_("solved"), null=True, blank=True)
    # When the customer last heard from us; drives "overdue" (no news for longer than the configured time).
    last_customer_contact_at = models.DateTimeField(null=True, blank=True)
    # Cleaned text and its embedding, computed once at intake and reused by knowledge and incidents.
    clean_text = models.TextField(blank=True, default="", editable=False)
    embedding = models.BinaryField(null=True, blank=True, editable=False)
    # The encoder that made `embedding` (its `name`): vectors of different encoders are never compared.
    encoder = models.CharField(max_length=100, blank=True, default="", editable=False)
    # Set once knowledge matching and incident grouping ran; the worker retries cases left unset.
    analysed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The subject folded for search (umlauts, ß, case); filled on save, see cases/search.py.
    search_text = models.TextField(blank=True, default="", editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="case_source_external_id_unique"),
        ]
        indexes = [
            models.Index(fields=["status", "-received_at"], name="case_status_received"),
            models.Index(fields=["category", "-received_at"], name="case_category_received"),
            models.Index(fields=["owner", "status"], name="case_owner_status"),
            models.Index(fields=["-received_at", "-id"], name="case_received_id"),
            # The detector's window (detection/store.py): its consistency check counts the embedded
            # cases of one encoder in the kept period, and it reads what was analysed since a stamp.
            models.Index(
                fields=["encoder", "received_at"],
                condition=Q(embedding__isnull=False),
                name="case_embedded_encoder_received",
            ),
            models.Index(fields=["analysed_at"], name="case_analysed_at"),
        ]
        verbose_name = _("case")
        verbose_name_plural = _("cases")

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject[:60]}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_text = search_key(self.subject)
        kwargs["update_fields"] = _with_search_text(kwargs.get("update_fields"), {"subject"})
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("cases:detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def text(self) -> str:
        return f"{self.subject}\n\n{self.body}".strip()


class CaseEvent(models.Model):
    """The audit trail: every change to a case, who made it and when."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        CHANGED = "changed", _("Changed")
        NOTE = "note", _("Note")
        MESSAGE = "message", _("Message")
        DUPLICATE = "duplicate", _("Duplicate delivery")
        SYSTEM = "system", _("System")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=clock.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    # For actors that are not users: "api", "import", "groove", "system".
    actor_label = models.CharField(max_length=100, blank=True, default="")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    field = models.CharField(max_length=50, blank=True, default="")
    old_value = models.TextField(blank=True, default="")
    new_value = models.TextField(blank=True, default="")
    message = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="caseevent_case_at")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.field}"

    @property
    def who(self) -> str:
        if self.actor is not None:
            return self.actor.display_name()
        return self.actor_label or "sirene"

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "who": self.who,
            "kind": self.kind,
            "field": self.field,
            "old": self.old_value,
            "new": self.new_value,
            "message": self.message,
        }


class AnalysisJob(Job):
    """The retry state of a case whose analysis (embed, match, group) has not succeeded yet.

    Created for every case the worker finds unanalysed; failures back off (core.jobs) and end in a
    visible dead state on the case page, with a retry button. Deleted once the analysis succeeded.
    """

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="analysis_job")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        indexes = [models.Index(fields=["due_at"], name="analysisjob_due")]

    def __str__(self) -> str:
        return f"analysis of case {self.case_id}"


class UntrackedReport(models.Model):
    """A report that is not a tech case (tagged, but not with the tech tag, or tagged as an application
    error like #helga): kept for the audit only — which delivery, when, which tags, why — never a case, so
    it never shows in the list, a problem group or detection. No customer data and no text is kept."""

    source = models.CharField(max_length=200)
    external_id = models.CharField(max_length=200)
    tags = models.JSONField(default=list, blank=True)
    reason = models.CharField(max_length=300)
    received_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="untrackedreport_source_external_unique")
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id} ({self.reason})"
