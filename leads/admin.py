"""Admin for leads and their consents."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.html import format_html, format_html_join

from interactions.admin import InteractionInline, ReadOnlyAdminMixin
from leads.contact import normalise_email, normalise_phone
from leads.models import Appointment, CampaignCost, Consent, Lead, LeadStatusChange


class ScoreBandFilter(admin.SimpleListFilter):
    title = "score band"
    parameter_name = "score_band"
    BANDS = {"0-24": (0, 24), "25-49": (25, 49), "50-74": (50, 74), "75-100": (75, 100)}

    def lookups(self, request, model_admin):
        return [(band, band) for band in self.BANDS]

    def queryset(self, request, queryset):
        if self.value() in self.BANDS:
            low, high = self.BANDS[self.value()]
            return queryset.filter(Q(lead_score__gte=low) & Q(lead_score__lte=high))
        return queryset


class LeadAdminForm(forms.ModelForm):
    """Staff typing a number or address by hand get the same normalisation as patients."""

    class Meta:
        model = Lead
        fields = "__all__"

    def clean_email(self) -> str:
        try:
            return normalise_email(self.cleaned_data["email"])
        except ValidationError as error:
            raise ValidationError(error.messages) from error

    def clean_phone(self) -> str:
        return normalise_phone(self.cleaned_data["phone"])


class ConsentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Consent
    fields = ["created_at", "purpose", "granted", "text_version", "method", "text"]
    readonly_fields = fields
    extra = 0
    can_delete = False


class StatusChangeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = LeadStatusChange
    verbose_name_plural = "status history"
    fields = ["changed_at", "from_status", "to_status", "changed_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False


class AppointmentInline(admin.TabularInline):
    model = Appointment
    fields = ["treatment", "preferred_date", "time_window", "status", "notes"]
    readonly_fields = ["treatment"]
    extra = 0


class LeadInteractionInline(InteractionInline):
    """The lead's journey: every interaction, across all their sessions."""

    fk_name = "lead"
    verbose_name_plural = "journey (interactions, oldest first)"


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    form = LeadAdminForm
    list_display = [
        "__str__", "lead_score", "engagement_level", "status", "source", "utm_source", "owner", "created_at",
    ]
    list_filter = ["engagement_level", "status", "source", ScoreBandFilter, "utm_source", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["first_name", "last_name", "email", "phone"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["owner"]
    readonly_fields = [
        "lead_score", "engagement_level", "score_explanation", "source", "interaction",
        "landing_page", "referrer", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
        "created_at", "updated_at", "high_intent_notified_at",
    ]
    fieldsets = [
        (None, {"fields": ["first_name", "last_name", "email", "phone", "message"]}),
        ("Pipeline", {"fields": ["status", "owner", "value"]}),
        ("Score", {"fields": ["lead_score", "engagement_level", "score_explanation"]}),
        (
            "Source and attribution",
            {
                "fields": [
                    "source", "interaction", "landing_page", "referrer",
                    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
                ]
            },
        ),
        ("Record", {"fields": ["created_at", "updated_at", "high_intent_notified_at"]}),
    ]
    inlines = [AppointmentInline, LeadInteractionInline, StatusChangeInline, ConsentInline]

    def get_search_results(self, request, queryset, search_term):
        """Front desk types numbers as patients say them: '07911 123456' finds +447911123456."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            phone = normalise_phone(search_term)
        except ValidationError:
            return results, may_have_duplicates
        if phone:
            results |= queryset.filter(phone=phone)
        return results, may_have_duplicates

    @admin.display(description="why this score")
    def score_explanation(self, lead: Lead) -> str:
        if not lead.score_reasons:
            return "No rule has scored this lead yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (reason["rule"], f"× {reason['occurrences']}" if reason.get("occurrences", 1) > 1 else "",
                 f"{reason['points']:+d}")
                for reason in lead.score_reasons
            ),
        )
        total = sum(reason["points"] for reason in lead.score_reasons)
        note = f" (capped at {lead.lead_score})" if total != lead.lead_score else ""
        return format_html(
            '<table class="score-reasons"><tbody>{}</tbody><tfoot><tr><th>Total</th><th></th>'
            "<th>{}{}</th></tr></tfoot></table>",
            rows, total, note,
        )


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


@admin.register(CampaignCost)
class CampaignCostAdmin(admin.ModelAdmin):
    list_display = ["spent_on", "utm_source", "utm_campaign", "amount", "note"]
    list_filter = ["utm_source", "spent_on"]
    search_fields = ["utm_source", "utm_campaign", "note"]
    date_hierarchy = "spent_on"
