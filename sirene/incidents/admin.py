"""Staff access to incident rules in the Django admin (leads edit them under Einstellungen)."""

from __future__ import annotations

from django.contrib import admin

from sirene.incidents.models import EarlyWarning, IncidentRule


@admin.register(IncidentRule)
class IncidentRuleAdmin(admin.ModelAdmin[IncidentRule]):
    """A lead's explicit rule for one category or one known problem (or "never page")."""

    list_display = ("category", "known_problem_key", "threshold", "window_hours", "pages", "updated_at")
    list_filter = ("pages", "category")
    search_fields = ("known_problem_key",)


@admin.register(EarlyWarning)
class EarlyWarningAdmin(admin.ModelAdmin[EarlyWarning]):
    list_display = ("raised_at", "customers", "minutes", "category", "incident", "posted_at")
    readonly_fields = ("raised_at", "customers", "minutes", "example", "category", "incident", "posted_at")
    exclude = ("cases",)
