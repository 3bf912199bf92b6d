"""Admin for visitor sessions and the interaction log (read-only: it is a record)."""

from django.contrib import admin

from interactions.models import UserInteraction, UserSession


# Leads are people: who may see which person a session or interaction belongs to.
CONTACT_PERMISSION = "leads.view_contact_details"


class LeadPrivacyMixin:
    """Staff without the contact permission (marketing) see "Lead #12", never a name."""

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if request.user.has_perm(CONTACT_PERMISSION):
            return columns
        return [("lead_reference" if column == "lead" else column) for column in columns]

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        return exclude if request.user.has_perm(CONTACT_PERMISSION) else [*exclude, "lead"]

    @admin.display(description="lead", ordering="lead")
    def lead_reference(self, obj) -> str:
        return f"Lead #{obj.lead_id}" if obj.lead_id else "-"


class ReadOnlyAdminMixin:
    """What the tracker recorded is evidence: staff read it, never edit it."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class InteractionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = UserInteraction
    fk_name = "session"
    fields = ["created_at", "interaction_type", "score", "converted", "page_url", "data"]
    readonly_fields = fields
    ordering = ["created_at"]
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(UserSession)
class UserSessionAdmin(LeadPrivacyMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "__str__", "created_at", "last_seen_at", "utm_source", "utm_medium", "utm_campaign",
        "interaction_count", "score", "engagement_level", "lead",
    ]
    list_filter = ["engagement_level", "utm_source", "utm_medium", "created_at"]
    list_select_related = ["lead"]
    search_fields = ["public_id", "utm_campaign", "landing_page"]
    date_hierarchy = "created_at"
    inlines = [InteractionInline]


@admin.register(UserInteraction)
class UserInteractionAdmin(LeadPrivacyMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "interaction_type", "score", "converted", "session", "lead", "page_url"]
    list_filter = ["interaction_type", "converted", "created_at"]
    list_select_related = ["session", "lead"]
    search_fields = ["session__public_id", "page_url"]
    date_hierarchy = "created_at"
