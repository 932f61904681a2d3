"""Critical incidents. (Problem groups, the detection rule and the brief are added by the incident-detection work.)"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from sirene.cases.models import Case, Category
from sirene.core import clock


class IncidentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


class Incident(models.Model):
    title = models.CharField(_("title"), max_length=300)
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

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")

    def __str__(self) -> str:
        return f"INC-{self.pk} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("incidents:detail", args=[self.pk])


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
