"""Admin for the treatment catalog: clinics set their own prices and wording."""

from django.contrib import admin

from calculators.models import Procedure


@admin.register(Procedure)
class ProcedureAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "price_min", "price_max", "price_unit", "sessions", "downtime", "is_active"]
    list_editable = ["price_min", "price_max", "is_active"]
    list_filter = ["category", "price_unit", "is_active"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "slug", "category", "description", "is_active", "order"]}),
        ("What it treats", {"fields": ["concerns", "areas", "keywords", "kinds"]}),
        ("Price and course", {
            "fields": ["price_min", "price_max", "price_unit", "max_quantity", "sessions_min", "sessions_max",
                       "downtime_days_min", "downtime_days_max"],
        }),
    ]
