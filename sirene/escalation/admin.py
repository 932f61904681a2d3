"""Staff access to escalation people and policies in the Django admin (leads use Einstellungen)."""

from __future__ import annotations

from django.contrib import admin

from sirene.escalation.models import Person, Policy


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin[Person]):
    list_display = ("name", "role", "phone", "slack_user_id")


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin[Policy]):
    list_display = ("name", "is_default")
