"""Admin for visitor sessions and the interaction log (read-only: it is a record), and
the A/B tests of the contact offer and form."""

import json
from urllib.parse import urlsplit

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core.admin import ReadOnlyAdminMixin
from core.paginators import EstimatedCountPaginator, IndexedYearsQuerySet
from core.permissions import CONTACT_PERMISSION
from core.redaction import person_names, redact, redact_data, redact_value
from interactions.experiments import experiment_start, experiment_stop
from interactions.models import Experiment, ExperimentStatus, ExperimentVariant, UserInteraction, UserSession
from interactions.selectors import experiment_results, interaction_summary, visitor_sources


class LeadPrivacyMixin:
    """Staff without the contact permission (marketing) see "Lead #12", never a name,
    and cannot reach what they are not shown through the list's filters either.

    `private_fields` are hidden from them (and may not be filtered or searched on:
    `?email__gte=` answered row by row would spell out an address); `redacted_fields`
    maps a field holding free text to the display method that shows it redacted
    (and it may not be filtered on either, or the filter would read what is redacted).
    """

    # Contact details of a lead, by any path that names them (lead__email too).
    CONTACT_FIELD_NAMES = frozenset({"first_name", "last_name", "email", "phone", "message"})

    private_fields: tuple[str, ...] = ()
    redacted_fields: dict[str, str] = {}
    marketing_search_fields: tuple[str, ...] = ()

    @staticmethod
    def sees_contacts(request) -> bool:
        return request.user.has_perm(CONTACT_PERMISSION)

    def _unseen(self) -> set[str]:
        return {*self.CONTACT_FIELD_NAMES, *self.private_fields, *self.redacted_fields}

    def _as_shown(self, fields) -> list:
        hidden = {*self.CONTACT_FIELD_NAMES, *self.private_fields}
        shown = [self.redacted_fields.get(name, name) for name in fields if name not in hidden]
        return list(dict.fromkeys(shown))

    def lookup_allowed(self, lookup, value, request):
        # Only the lookup's field path matters: "email__gte" and "lead__email" alike.
        if not self.sees_contacts(request) and set(lookup.split("__")) & self._unseen():
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        return fields if self.sees_contacts(request) else list(self.marketing_search_fields)

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if self.sees_contacts(request):
            return columns
        return [("lead_reference" if column == "lead" else column) for column in self._as_shown(columns)]

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        return exclude if self.sees_contacts(request) else [*exclude, "lead", *self.private_fields]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return fields if self.sees_contacts(request) else [f for f in self._as_shown(fields) if f != "lead"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if self.sees_contacts(request):
            return fieldsets
        return [(name, {**options, "fields": [f for f in self._as_shown(options["fields"]) if f != "lead"]})
                for name, options in fieldsets]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields if self.sees_contacts(request) else [*fields, *self.redacted_fields.values()]

    @admin.display(description="lead", ordering="lead")
    def lead_reference(self, obj) -> str:
        return f"Lead #{obj.lead_id}" if obj.lead_id else "-"


def _names_of(interaction) -> frozenset[str]:
    return person_names(interaction.lead) if interaction.lead_id else frozenset()


def _page_path(url: str) -> str:
    # What erasure keeps of a page address: the query string may carry who it was.
    return urlsplit(url or "").path


class RedactedInteractionMixin:
    """How an interaction's free text (queries, transcripts, staff reasons) and page
    address read for staff without the contact permission."""

    redacted_fields = {"data": "data_redacted", "page_url": "page_path", "score_reasons": "score_reasons_redacted"}

    @admin.display(description="data")
    def data_redacted(self, interaction: UserInteraction) -> str:
        return json.dumps(redact_data(interaction.data, names=_names_of(interaction)), ensure_ascii=False)

    @admin.display(description="page")
    def page_path(self, interaction: UserInteraction) -> str:
        return _page_path(interaction.page_url)

    @admin.display(description="score reasons")
    def score_reasons_redacted(self, interaction: UserInteraction) -> str:
        return json.dumps(redact_value(interaction.score_reasons, names=_names_of(interaction)), ensure_ascii=False)


class InteractionInline(RedactedInteractionMixin, LeadPrivacyMixin, ReadOnlyAdminMixin, admin.TabularInline):
    model = UserInteraction
    fk_name = "session"
    fields = ["created_at", "interaction_type", "score", "converted", "page_url", "data"]
    readonly_fields = fields
    ordering = ["created_at"]
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("lead")


@admin.register(UserSession)
class UserSessionAdmin(LeadPrivacyMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "__str__", "created_at", "last_seen_at", "utm_source", "utm_medium", "utm_campaign",
        "interaction_count", "score", "engagement_level", "lead",
    ]
    list_filter = ["engagement_level", "utm_source", "utm_medium", "created_at"]
    list_select_related = ["lead"]
    # Counting every visitor on every page costs more than the page: an estimate
    # for the whole list, exact counts once filtered, and no "(N total)" beside them.
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    search_fields = ["public_id", "utm_campaign", "landing_page"]
    marketing_search_fields = ("public_id", "utm_campaign")
    # Erasure treats these as identifying (a landing page can carry ?email=, a
    # referrer the patient's own site); the campaign's term and content are free text.
    private_fields = ("landing_page", "referrer", "user_agent", "ip_hash")
    redacted_fields = {"journey": "journey_redacted", "utm_term": "utm_term_redacted",
                       "utm_content": "utm_content_redacted"}
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

    @admin.display(description="timeline")
    def journey(self, session: UserSession) -> str:
        """What the visitor did, in order, with the score each step reached,
        ending in the lead they became."""
        return self._journey(session, redacted=False)

    @admin.display(description="timeline")
    def journey_redacted(self, session: UserSession) -> str:
        return self._journey(session, redacted=True)

    @admin.display(description="utm term")
    def utm_term_redacted(self, session: UserSession) -> str:
        return redact(session.utm_term, names=person_names(session.lead))

    @admin.display(description="utm content")
    def utm_content_redacted(self, session: UserSession) -> str:
        return redact(session.utm_content, names=person_names(session.lead))

    def _journey(self, session: UserSession, *, redacted: bool) -> str:
        names = person_names(session.lead) if redacted else frozenset()

        def why(step):
            text = ", ".join(f"{r['rule']} {r['points']:+d}" for r in step.score_reasons)
            return redact(text, names=names) if redacted else text

        steps = session.interactions.order_by("created_at", "pk")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    f"{step.created_at:%d %b %Y %H:%M}",
                    step.get_interaction_type_display(),
                    _page_path(step.page_url) if redacted else step.page_url,
                    step.score,
                    why(step),
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
        return [(self.DIRECT, self.DIRECT), *((source, source) for source in visitor_sources())]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(session__utm_source="" if value == self.DIRECT else value)


@admin.register(UserInteraction)
class UserInteractionAdmin(RedactedInteractionMixin, LeadPrivacyMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The interaction log (/admin/comprehensive/interactions/): the summary above the
    list is computed from the list's own filters."""

    list_display = ["created_at", "interaction_type", "score", "converted", "journey", "lead", "page_url"]
    list_filter = ["interaction_type", "converted", SourceFilter, ("created_at", admin.DateFieldListFilter)]
    list_select_related = ["session", "lead"]
    # As for visitors: the log's whole count is PostgreSQL's estimate.
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    search_fields = ["session__public_id", "page_url", "data__query"]
    # What patients typed can hold who they are: marketing finds visitors by id only.
    marketing_search_fields = ("session__public_id",)
    date_hierarchy = "created_at"
    change_list_template = "admin/interactions/userinteraction/change_list.html"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return IndexedYearsQuerySet(model=queryset.model, query=queryset.query, using=queryset._db)

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


class ExperimentVariantInline(admin.TabularInline):
    model = ExperimentVariant
    extra = 2
    fields = ["key", "weight", "form_fields", "prompt_text", "threshold"]

    def has_add_permission(self, request, obj=None) -> bool:
        # A running or stopped experiment's arms are its record: they change no more.
        return super().has_add_permission(request, obj) and (obj is None or obj.status == ExperimentStatus.DRAFT)

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or obj.status == ExperimentStatus.DRAFT)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or obj.status == ExperimentStatus.DRAFT)


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    """A/B tests of the contact offer and form (interactions/experiments.py): set up as
    a draft, started and stopped with the actions; the page shows each variant's
    conversion against the control."""

    list_display = ["name", "kind", "status", "started_at", "stopped_at"]
    list_filter = ["kind", "status"]
    inlines = [ExperimentVariantInline]
    actions = ["start", "stop"]
    readonly_fields = ["status", "started_at", "stopped_at", "results"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "holdout_percent", "status", "started_at", "stopped_at"]}),
        ("Sample size", {"fields": ["baseline_percent", "smallest_lift_percent"]}),
        ("Results", {"fields": ["results"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != ExperimentStatus.DRAFT:
            # What ran is what the figures describe.
            return [*self.readonly_fields, "name", "kind", "holdout_percent", "baseline_percent",
                    "smallest_lift_percent"]
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        # Its exposures and conversions stay in the interaction log: so does the experiment.
        return super().has_delete_permission(request, obj) and (obj is None or obj.status == ExperimentStatus.DRAFT)

    @admin.display(description="results")
    def results(self, experiment: Experiment) -> str:
        if experiment.pk is None:
            return "–"
        figures = experiment_results(experiment)

        def percent(value):
            return "–" if value is None else f"{value:.1%}"

        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (
                variant.key,
                variant.exposures,
                variant.conversions,
                percent(variant.rate),
                f"{variant.interval[0]:.1%} – {variant.interval[1]:.1%}",
                "control" if index == 0 else (
                    "–" if variant.against_control is None else
                    f"{variant.against_control.difference:+.1%} ({variant.against_control.difference_interval[0]:+.1%} "
                    f"to {variant.against_control.difference_interval[1]:+.1%})"
                ),
                "" if variant.against_control is None else f"{variant.against_control.p_value:.3g}",
            )
            for index, variant in enumerate(figures.variants)
        ))
        return format_html(
            '<table id="experiment-results"><thead><tr><th>Variant</th><th>Exposed visitors</th><th>Became leads</th>'
            "<th>Conversion</th><th>95 % interval</th><th>Against the control</th><th>p</th></tr></thead>"
            '<tbody>{}</tbody></table><p id="experiment-verdict"><strong>{}</strong></p>'
            "<p>Each variant needs {} exposed visitors before a winner is named (the expected baseline and the "
            "smallest lift worth finding above, at 5 % significance and 80 % power).</p>",
            rows, figures.verdict, f"{figures.minimum_per_variant:,}",
        )

    @admin.action(description="Start the selected draft experiments")
    def start(self, request, queryset):
        self._each(request, queryset, experiment_start, "started")

    @admin.action(description="Stop the selected running experiments")
    def stop(self, request, queryset):
        self._each(request, queryset, experiment_stop, "stopped")

    def _each(self, request, queryset, change, done: str) -> None:
        if not self.has_change_permission(request):
            raise PermissionDenied
        for experiment in queryset:
            try:
                change(experiment)
            except ValidationError as error:
                self.message_user(request, f"{experiment}: {' '.join(error.messages)}", messages.ERROR)
            else:
                self.message_user(request, f"{experiment}: {done}.", messages.SUCCESS)
