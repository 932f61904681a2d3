from __future__ import annotations

from typing import Any

from django.contrib import admin

from sirene.knowledge import services
from sirene.knowledge.models import ArticleView, KnownProblem, Phrasing, Suggestion


class PhrasingInline(admin.TabularInline[Phrasing, KnownProblem]):
    model = Phrasing
    extra = 1
    fields = ("text", "source", "case")
    raw_id_fields = ("case",)


@admin.register(KnownProblem)
class KnownProblemAdmin(admin.ModelAdmin[KnownProblem]):
    list_display = ("title", "title_en", "category", "active", "updated_at")
    list_filter = ("category", "active")
    search_fields = ("title", "title_en", "key", "symptoms", "solution_steps")
    inlines = [PhrasingInline]

    # The admin writes past services.py; every change must still make each process refit its matcher.
    def save_related(self, request: Any, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        services.notify_changed()

    def delete_model(self, request: Any, obj: Any) -> None:
        super().delete_model(request, obj)
        services.notify_changed()

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        super().delete_queryset(request, queryset)
        services.notify_changed()


@admin.register(Suggestion)
class SuggestionAdmin(admin.ModelAdmin[Suggestion]):
    list_display = ("case", "known_problem", "rank", "confidence", "state", "decided_by")
    list_filter = ("state",)
    raw_id_fields = ("case", "known_problem")


@admin.register(ArticleView)
class ArticleViewAdmin(admin.ModelAdmin[ArticleView]):
    list_display = ("customer", "article", "title", "viewed_at", "source")
    search_fields = ("article", "title", "customer__email")
    raw_id_fields = ("customer",)
