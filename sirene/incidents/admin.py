"""Staff access to incident rules in the Django admin (leads edit them under Einstellungen)."""

from __future__ import annotations

from django.contrib import admin

from sirene.incidents.models import IncidentRule


@admin.register(IncidentRule)
class IncidentRuleAdmin(admin.ModelAdmin[IncidentRule]):
    list_display = ("__str__", "threshold", "window_hours", "updated_at")
