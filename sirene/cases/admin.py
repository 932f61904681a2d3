from django.contrib import admin

from sirene.cases.models import Case, CaseEvent, Customer


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("email", "external_id", "name", "created_at")
    search_fields = ("email", "external_id", "name")


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    readonly_fields = ("at", "actor", "actor_label", "kind", "field", "old_value", "new_value", "message")
    can_delete = False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("id", "subject", "customer", "category", "status", "owner", "received_at")
    list_filter = ("status", "category", "source")
    search_fields = ("subject", "external_id", "customer__email")
    raw_id_fields = ("customer", "owner")
    readonly_fields = ("raw_payload", "clean_text", "analysed_at", "created_at", "updated_at")
    inlines = [CaseEventInline]
