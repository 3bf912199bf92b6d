"""The clinic profile in the admin: one row (made on first use), changed, never added or deleted."""

from django.contrib import admin

from core.models import ClinicProfile


@admin.register(ClinicProfile)
class ClinicProfileAdmin(admin.ModelAdmin):
    fieldsets = [
        ("Clinic", {"fields": ["name", "phone", "email"]}),
        ("Address", {"fields": ["street_address", "locality", "postal_code", "country"]}),
        ("Opening hours", {"fields": ["opening_hours"]}),
        ("Money and language", {"fields": ["currency", "locale"]}),
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
