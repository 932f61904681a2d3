"""What leads set inside sirene, and who changed what when.

A `Preference` overrides its environment default (the env stays the default a deployment starts with;
a lead's change in the UI wins until it is reset). Every change, here and to incident rules, people
and escalation steps made on the settings pages, leaves a `SettingChange` row: the audit trail.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from sirene.core import clock


class Preference(models.Model):
    key = models.CharField(_("setting"), max_length=50, unique=True)
    value = models.TextField(_("value"), blank=True, default="")
    updated_at = models.DateTimeField(default=clock.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("setting")
        verbose_name_plural = _("settings")

    def __str__(self) -> str:
        return f"{self.key}={self.value!r}"


class SettingChange(models.Model):
    """One change made on the settings pages (the audit trail a lead can read)."""

    at = models.DateTimeField(default=clock.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    area = models.CharField(max_length=30)  # preference | incident_rule | person | step
    subject = models.CharField(max_length=200, blank=True, default="")
    field = models.CharField(max_length=50, blank=True, default="")
    old_value = models.TextField(blank=True, default="")
    new_value = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("settings change")
        verbose_name_plural = _("settings changes")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.area} {self.subject} {self.field}"
