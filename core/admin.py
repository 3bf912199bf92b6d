"""The clinic profile in the admin: one row, changed, never added twice or deleted."""

from django.contrib import admin
from django.shortcuts import redirect
from django.urls import reverse

from core.clinic import clinic_profile
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

    def changelist_view(self, request, extra_context=None):
        profile = clinic_profile()
        return redirect(reverse("admin:core_clinicprofile_change", args=[profile.pk]))
