"""The admin of the lead's records kept beside it: consents, appointments, the audit
trail, and the campaign costs staff enter for the analytics."""

from django.contrib import admin

from core.admin import ReadOnlyAdminMixin
from leads.models import Appointment, AuditEvent, CampaignCost, Consent


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["lead", "purpose", "granted", "text_version", "method", "created_at"]
    list_filter = ["purpose", "granted", "method", "created_at"]
    list_select_related = ["lead"]
    search_fields = ["lead__email", "lead__last_name"]


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ["preferred_date", "time_window", "treatment", "lead", "status", "created_at"]
    list_editable = ["status"]
    list_filter = ["status", "time_window", "preferred_date"]
    list_select_related = ["lead"]
    search_fields = ["lead__first_name", "lead__last_name", "lead__email", "treatment"]
    date_hierarchy = "preferred_date"
    readonly_fields = ["lead", "interaction", "treatment", "treatment_slug", "created_at"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "action", "subject", "actor", "actor_label", "detail"]
    list_filter = ["action", "created_at"]


@admin.register(CampaignCost)
class CampaignCostAdmin(admin.ModelAdmin):
    list_display = ["spent_on", "utm_source", "utm_campaign", "amount", "note"]
    list_filter = ["utm_source", "spent_on"]
    search_fields = ["utm_source", "utm_campaign", "note"]
    date_hierarchy = "spent_on"
