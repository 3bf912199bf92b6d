"""Admin for visitor sessions and the interaction log (read-only: it is a record)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core.permissions import CONTACT_PERMISSION
from interactions.selectors import interaction_summary

from interactions.models import UserInteraction, UserSession



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
    """What the tracker recorded is evidence: staff read it, never edit or delete it
    (whatever permissions a role holds; erasure and the retention purge are the only
    ways rows go, and both are audited)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
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
    fieldsets = [
        ("Journey", {"fields": ["journey"]}),
        ("First touch", {"fields": ["created_at", "landing_page", "referrer", "utm_source", "utm_medium",
                                    "utm_campaign", "utm_term", "utm_content"]}),
        ("Engagement", {"fields": ["last_seen_at", "visit_count", "interaction_count", "engagement_seconds",
                                   "score", "engagement_level", "contact_prompt_shown_count",
                                   "contact_prompt_dismissed_at", "converted_at", "lead"]}),
    ]
    readonly_fields = ["journey"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.has_perm(CONTACT_PERMISSION):
            return fieldsets
        return [(name, {"fields": [f for f in opts["fields"] if f != "lead"]}) for name, opts in fieldsets]

    @admin.display(description="timeline")
    def journey(self, session: UserSession) -> str:
        """What the visitor did, in order, with the score each step reached,
        ending in the lead they became."""
        steps = session.interactions.order_by("created_at", "pk")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    f"{step.created_at:%d %b %Y %H:%M}",
                    step.get_interaction_type_display(),
                    step.page_url,
                    step.score,
                    ", ".join(f"{r['rule']} {r['points']:+d}" for r in step.score_reasons),
                )
                for step in steps
            ),
        )
        ending = ""
        if session.lead_id:
            # No name here: the page is also seen by staff who may not know who it is.
            url = reverse("admin:leads_lead_change", args=[session.lead_id])
            ending = format_html('<p class="journey-end">→ Became a lead: <a href="{}">Lead #{}</a> (score {})</p>',
                                 url, session.lead_id, session.lead.lead_score)
        return format_html(
            '<table class="journey"><thead><tr><th>When</th><th>What</th><th>Page</th><th>Score</th>'
            "<th>Why</th></tr></thead><tbody>{}</tbody></table>{}",
            rows, ending,
        )


class SourceFilter(admin.SimpleListFilter):
    """The visitor's first-touch source, as the analytics count it."""

    title = "source"
    parameter_name = "source"
    DIRECT = "(direct)"

    def lookups(self, request, model_admin):
        sources = (
            UserSession.objects.exclude(utm_source="").order_by("utm_source")
            .values_list("utm_source", flat=True).distinct()
        )
        return [(self.DIRECT, self.DIRECT), *((source, source) for source in sources)]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(session__utm_source="" if value == self.DIRECT else value)


@admin.register(UserInteraction)
class UserInteractionAdmin(LeadPrivacyMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The interaction log (/admin/comprehensive/interactions/): the summary above the
    list is computed from the list's own filters."""

    list_display = ["created_at", "interaction_type", "score", "converted", "journey", "lead", "page_url"]
    list_filter = ["interaction_type", "converted", SourceFilter, ("created_at", admin.DateFieldListFilter)]
    list_select_related = ["session", "lead"]
    search_fields = ["session__public_id", "page_url", "data__query"]
    date_hierarchy = "created_at"
    change_list_template = "admin/interactions/userinteraction/change_list.html"

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if not hasattr(response, "context_data") or "cl" not in response.context_data:
            return response
        summary = interaction_summary(response.context_data["cl"].queryset)
        largest = max((row.interactions for row in summary), default=0) or 1
        response.context_data["summary"] = [(row, round(row.interactions / largest * 100)) for row in summary]
        return response

    @admin.display(description="visitor journey", ordering="session")
    def journey(self, interaction: UserInteraction) -> str:
        url = reverse("admin:interactions_usersession_change", args=[interaction.session_id])
        return format_html('<a href="{}">{}</a>', url, interaction.session)
