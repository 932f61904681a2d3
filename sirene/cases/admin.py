"""The Django admin shows cases read-only: every change to a case goes through `cases.services` (or a flow),
which write the audit trail and queue the customer's holding reply. The admin would skip both."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from sirene.cases.models import Case, CaseEvent, Customer


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin[Customer]):
    list_display = ("email", "external_id", "name", "created_at")
    search_fields = ("email", "external_id", "name")


class CaseEventInline(admin.TabularInline[CaseEvent, Case]):
    model = CaseEvent
    extra = 0
    readonly_fields = ("at", "actor", "actor_label", "kind", "field", "old_value", "new_value", "message")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin[Case]):
    list_display = ("id", "subject", "customer", "category", "status", "owner", "received_at")
    list_filter = ("status", "category", "source")
    search_fields = ("subject", "external_id", "customer__email")
    inlines = [CaseEventInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Case | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Case | None = None) -> bool:
        return False
