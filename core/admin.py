"""The clinic profile in the admin: one row (made on first use), changed, never added or
deleted; and what the apps' read-only records share."""

from django.contrib import admin

from core.models import ClinicProfile


class ReadOnlyAdminMixin:
    """A record staff read, never add, edit or delete, whatever permissions a role
    holds: what the tracker recorded is evidence (erasure and the retention purge are
    the only ways its rows go, and both are audited), and a rule version or a trained
    model is a record of what was."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


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
