"""The lead's admin: the list, the page, its forms, filters, inlines and actions."""

import json
from datetime import datetime, time

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import ActionLocation
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from core.forms import DayInput
from core.permissions import CONTACT_PERMISSION
from core.views import add_service_errors
from core.redaction import person_names, redact
from core.admin import ReadOnlyAdminMixin
from interactions.admin import InteractionInline, LeadPrivacyMixin
from leads.contact import normalise_email, normalise_phone
from leads.models import Appointment, Consent, Lead, LeadNote, LeadStatus, LeadStatusChange
from leads.exports import leads_csv
from leads.gdpr import anonymous_reasons, person_erase, person_export
from leads.prediction.services import lead_conversion_probability
from leads.score_history import lead_score_as_of, lead_score_chart, lead_score_timeline, lead_score_under
from leads.selectors import (
    CALL_FIRST_ORDER,
    HOT_NOW_DAYS,
    lead_interest,
    leads_call_first,
    leads_hot_now,
    leads_with_last_activity,
)
from leads.services import (
    CONTACT_FIELDS,
    MAX_MANUAL_ADJUSTMENT,
    WORK_FIELDS,
    lead_adjust_score,
    lead_assign_owner,
    lead_create_by_staff,
    lead_update,
    lead_update_check,
    lead_update_status,
)
from scoring.models import RuleVersion

NO_CONVERSION_MODEL = ("No conversion model in use: train one with manage.py train_lead_model "
                       "(it is used only if it beats the rule score on past leads).")
# What staff edit on a lead's page; the rest is the record (score, attribution, dates).
LEAD_FORM_FIELDS = (*CONTACT_FIELDS, *WORK_FIELDS)
ADD_FIELDSETS = [
    ("Patient", {"fields": [*CONTACT_FIELDS, "consent_contact", "consent_marketing"]}),
    ("Pipeline", {"fields": list(WORK_FIELDS)}),
]


class ScoreReplayForm(forms.Form):
    """The lead's score on a day (as staff saw it, at the day's end), and what a
    rule version makes of the journey (up to that day, if one is given)."""

    day = forms.DateField(required=False, widget=DayInput, label="Score on",
                          help_text="As it was at the end of this day.")
    version = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Under rule version")

    def __init__(self, *args, versions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].choices = [("", "—")] + [(version.number, str(version)) for version in versions]

    def moment(self):
        day = self.cleaned_data.get("day")
        if day is None:
            return None
        return timezone.make_aware(datetime.combine(day, time.max))


class ScoreAdjustmentForm(forms.Form):
    points = forms.IntegerField(
        min_value=-MAX_MANUAL_ADJUSTMENT, max_value=MAX_MANUAL_ADJUSTMENT,
        help_text="Positive to raise the score, negative to lower it.",
    )
    reason = forms.CharField(max_length=200, help_text="e.g. Called, ready to book after payday; walked in.")


class WorklistFilter(admin.SimpleListFilter):
    """The list opens as the front desk's worklist: open leads, call first (highest score,
    then the most recently active). "Hot now" narrows it to high intent seen in the last
    week; "Every lead" brings back the won and lost. Choosing a status shows that status."""

    title = "worklist"
    parameter_name = "worklist"
    HOT, EVERY = "hot", "all"

    def lookups(self, request, model_admin):
        return [(self.HOT, f"Hot now (high, active in the last {HOT_NOW_DAYS} days)"),
                (self.EVERY, "Every lead, won and lost too")]

    def choices(self, changelist):
        for choice in super().choices(changelist):
            if choice["display"] == "All":
                choice["display"] = "Call first (open leads)"
            yield choice

    def queryset(self, request, queryset):
        if self.value() == self.EVERY or any(key.startswith("status") for key in request.GET):
            return leads_with_last_activity(queryset)
        if self.value() == self.HOT:
            return leads_hot_now(queryset)
        return leads_call_first(queryset)


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
    """Staff typing a number or address by hand get the same normalisation as patients;
    the changes are checked by the same service that saves them (lead_update)."""

    # Set by LeadAdmin.get_form: the service's rules depend on who is changing the lead.
    user = None

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

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None:  # a new lead: its pipeline fields, as lead_create_by_staff checks them
            changes = {name: cleaned[name] for name in WORK_FIELDS if cleaned.get(name) not in (None, "")}
        else:
            changes = {name: cleaned[name] for name in self.changed_data if name in LEAD_FORM_FIELDS and name in cleaned}
        try:
            lead_update_check(lead=self.instance, by=self.user, changes=changes)
        except ValidationError as error:
            add_service_errors(self, error)
        return cleaned


class StaffLeadAddForm(LeadAdminForm):
    """A person who phoned or walked in: added only with the consent they gave staff."""

    consent_contact = forms.BooleanField(
        label="Agreed to be contacted", help_text="The person agreed that the clinic may store these details and "
        "contact them about their enquiry (recorded as consent given to staff, with today's wording).",
    )
    consent_marketing = forms.BooleanField(label="Agreed to news and offers", required=False)


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


class NoteInline(admin.TabularInline):
    """Notes are added, not rewritten: a record of who said what, when."""

    model = LeadNote
    fields = ["created_at", "author", "text"]
    readonly_fields = ["created_at", "author"]
    extra = 1

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AppointmentInline(admin.TabularInline):
    model = Appointment
    fields = ["treatment", "preferred_date", "time_window", "status", "notes"]
    readonly_fields = ["treatment"]
    extra = 0


class LeadInteractionInline(InteractionInline):
    """The lead's journey: every interaction, across all their sessions."""

    fk_name = "lead"
    verbose_name_plural = "journey (interactions, oldest first)"


def _status_action(status: str, label: str):
    @admin.action(description=f"Move selected leads to “{label}”", permissions=["change"])
    def action(modeladmin, request, queryset):
        moved = 0
        for lead in queryset:
            if lead.status != status:
                lead_update_status(lead=lead, status=status, by=request.user)
                moved += 1
        modeladmin.message_user(request, f"{moved} lead(s) moved to {label}.", messages.SUCCESS)

    action.__name__ = f"mark_{status}"
    return action


# Owners offered as bulk actions; a larger team assigns on the lead's page.
MAX_OWNER_ACTIONS = 15


def assignable_staff():
    """Active staff who may work leads: the people a lead can be given to."""
    User = get_user_model()
    can_work = Q(is_superuser=True) | Q(
        groups__permissions__codename="change_lead", groups__permissions__content_type__app_label="leads"
    ) | Q(user_permissions__codename="change_lead", user_permissions__content_type__app_label="leads")
    return User.objects.filter(can_work, is_active=True, is_staff=True).distinct().order_by("username")[
        :MAX_OWNER_ACTIONS
    ]


def _assign_action(user):
    name = user.get_full_name() or user.username

    def action(modeladmin, request, queryset):
        for lead in queryset:
            lead_assign_owner(lead=lead, owner=user)
        modeladmin.message_user(request, f"{queryset.count()} lead(s) assigned to {name}.", messages.SUCCESS)

    action.__name__ = f"assign_to_user_{user.pk}"
    action.short_description = f"Assign selected leads to {name}"
    return action


@admin.register(Lead)
class LeadAdmin(LeadPrivacyMixin, admin.ModelAdmin):
    form = LeadAdminForm
    list_display = [
        "__str__", "lead_score", "engagement_level", "status", "source", "utm_source", "owner", "age",
    ]
    list_filter = [
        WorklistFilter, "engagement_level", "status", "source", ScoreBandFilter, "utm_source", "owner", "created_at",
    ]
    list_select_related = ["owner"]
    search_fields = ["first_name", "last_name", "email", "phone"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["owner"]
    actions = [
        "assign_to_me",
        *(_status_action(status, label) for status, label in LeadStatus.choices),
        "export_csv",
        "export_personal_data",
        "erase_personal_data",
    ]
    readonly_fields = [
        "lead_score", "conversion_probability", "engagement_level", "score_explanation", "score_history", "interest",
        "source", "interaction",
        "landing_page", "referrer", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
        "created_at", "updated_at", "high_intent_notified_at",
    ]
    fieldsets = [
        ("Patient", {"fields": CONTACT_FIELDS}),
        ("Pipeline", {"fields": ["status", "owner", "value"]}),
        ("Score", {"fields": [
            "lead_score", "conversion_probability", "engagement_level", "score_explanation", "score_history",
            "interest",
        ]}),
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
    inlines = [NoteInline, AppointmentInline, LeadInteractionInline, StatusChangeInline, ConsentInline]
    # For staff without the contact permission (LeadPrivacyMixin): no search (a name
    # or phone found would say who is a patient), no filtering on these, and free
    # text shown redacted. Landing page and referrer are identifying (erasure clears
    # them); staff adjustment reasons in the score reasons are free text.
    private_fields = ("landing_page", "referrer", "score_reasons")
    redacted_fields = {"score_explanation": "score_explanation_redacted", "utm_term": "utm_term_redacted",
                       "utm_content": "utm_content_redacted"}

    @staticmethod
    def _sees_contacts(request) -> bool:
        return request.user.has_perm(CONTACT_PERMISSION)

    def get_queryset(self, request):
        return leads_with_last_activity(super().get_queryset(request))

    def get_ordering(self, request):
        return list(CALL_FIRST_ORDER)

    def get_list_display(self, request):
        columns = super().get_list_display(request)
        return columns if self._sees_contacts(request) else ["reference", *columns[1:]]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return ADD_FIELDSETS
        fieldsets = super().get_fieldsets(request, obj)
        return fieldsets if self._sees_contacts(request) else [fs for fs in fieldsets if fs[0] != "Patient"]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and not self._sees_contacts(request):
            context.update(subtitle=f"Lead #{obj.pk}", lead_label=f"Lead #{obj.pk}")
        return super().render_change_form(request, context, add, change, form_url, obj)

    def history_view(self, request, object_id, extra_context=None):
        if not self._sees_contacts(request):
            label = f"Lead #{object_id}"
            extra_context = {**(extra_context or {}), "title": f"Change history: {label}", "subtitle": None,
                             "lead_label": label}
        return super().history_view(request, object_id, extra_context)

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location)
        if self.has_change_permission(request):
            for user in assignable_staff():
                action = _assign_action(user)
                actions[action.__name__] = (action, action.__name__, action.short_description)
        if not (self._sees_contacts(request) and request.user.has_perm("leads.export_lead")):
            actions.pop("export_csv", None)
        if not self._sees_contacts(request):
            actions.pop("export_personal_data", None)
        return actions

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = StaffLeadAddForm
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"user": request.user})

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The form checked the change with the service's rules; should the service still
        # refuse at saving time (another member of staff was quicker), the whole save is
        # rolled back and the reason shown, rather than a half-saved lead or an error page.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return redirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        """Every write through the services, so history, consent and the rules are the
        same whether staff use this page, the list or the API."""
        if not change:
            data = {name: form.cleaned_data.get(name) for name in
                    (*CONTACT_FIELDS, *WORK_FIELDS, "consent_contact", "consent_marketing")}
            lead = lead_create_by_staff(by=request.user, data=data)
            for field in Lead._meta.concrete_fields:
                setattr(obj, field.attname, getattr(lead, field.attname))
            obj._state.adding, obj._state.db = False, lead._state.db
            return
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in LEAD_FORM_FIELDS}
        lead_update(lead=obj, by=request.user, **changes)

    def save_formset(self, request, form, formset, change):
        if formset.model is LeadNote:
            for note in formset.save(commit=False):
                note.author = note.author or request.user
                note.save()
            return
        super().save_formset(request, form, formset, change)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/score/",
                self.admin_site.admin_view(self.score_history_view),
                name="leads_lead_score_history",
            ),
            path(
                "<path:object_id>/adjust-score/",
                self.admin_site.admin_view(self.adjust_score_view),
                name="leads_lead_adjust_score",
            ),
            *super().get_urls(),
        ]

    def adjust_score_view(self, request, object_id):
        lead = get_object_or_404(Lead, pk=object_id)
        if not self.has_change_permission(request, lead):
            raise PermissionDenied
        form = ScoreAdjustmentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                lead_adjust_score(lead=lead, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                lead.refresh_from_db()
                self.message_user(request, f"Score adjusted: now {lead.lead_score} ({lead.engagement_level}).")
                return redirect("admin:leads_lead_change", lead.pk)
        label = str(lead) if self._sees_contacts(request) else f"Lead #{lead.pk}"
        return TemplateResponse(request, "admin/leads/lead/adjust_score.html", {
            **self.admin_site.each_context(request),
            "opts": self.opts, "lead": lead, "lead_label": label, "form": form,
            "title": f"Adjust the score of {label}",
        }, status=400 if form.errors else 200)

    def score_history_view(self, request, object_id):
        """The lead's score over time, on any day and under any rule version."""
        lead = get_object_or_404(Lead, pk=object_id)
        if not self.has_view_permission(request, lead):
            raise PermissionDenied
        versions = list(RuleVersion.objects.order_by("-number"))
        form = ScoreReplayForm(request.GET or None, versions=versions)
        as_of = replay = None
        if form.is_valid():
            moment = form.moment()
            if moment is not None:
                as_of = lead_score_as_of(lead=lead, at=moment)
            if form.cleaned_data["version"] is not None:
                replay = lead_score_under(lead=lead, version=form.cleaned_data["version"], at=moment)
        sees_contacts = self._sees_contacts(request)
        shown = (lambda reasons: reasons) if sees_contacts else anonymous_reasons
        label = str(lead) if sees_contacts else f"Lead #{lead.pk}"
        timeline = lead_score_timeline(lead=lead)
        return TemplateResponse(request, "admin/leads/lead/score_history.html", {
            **self.admin_site.each_context(request),
            "opts": self.opts, "lead": lead, "lead_label": label, "form": form,
            "title": f"Score history of {label}",
            "chart": lead_score_chart(timeline, width=760, height=220),
            "changes": [(change, shown(change.reasons)) for change in reversed(timeline.changes)],
            "as_of": as_of, "as_of_reasons": shown(as_of.reasons) if as_of else [],
            "replay": replay, "replay_reasons": shown(replay.reasons_as_data()) if replay else [],
        }, status=400 if form.errors else 200)

    @admin.display(description="score over time")
    def score_history(self, lead: Lead) -> str:
        return render_to_string("admin/leads/lead/score_chart.html", {
            "chart": lead_score_chart(lead_score_timeline(lead=lead)),
            "history_url": reverse("admin:leads_lead_score_history", args=[lead.pk]),
        })

    @admin.display(description="conversion probability")
    def conversion_probability(self, lead: Lead) -> str:
        """The active model's probability beside the rule score, with what pushed it
        (feature names and values only: no free text the patient typed)."""
        prediction = lead_conversion_probability(lead)
        if prediction is None:
            return NO_CONVERSION_MODEL
        return render_to_string("admin/leads/lead/conversion_probability.html", {
            "prediction": prediction, "percent": round(prediction.probability * 100),
            "models_url": reverse("admin:leads_conversionmodel_changelist"),
        })

    @admin.display(description="lead")
    def reference(self, lead: Lead) -> str:
        return f"Lead #{lead.pk}"

    @admin.display(description="age", ordering="-created_at")
    def age(self, lead: Lead) -> str:
        days = (timezone.now() - lead.created_at).days
        return "today" if days == 0 else f"{days} day{'s' if days != 1 else ''}"

    @admin.action(description="Assign selected leads to me", permissions=["change"])
    def assign_to_me(self, request, queryset):
        for lead in queryset:
            lead_assign_owner(lead=lead, owner=request.user)
        self.message_user(request, f"{queryset.count()} lead(s) assigned to you.", messages.SUCCESS)

    @admin.action(description="GDPR: export the selected person's data (JSON)")
    def export_personal_data(self, request, queryset):
        if not self._sees_contacts(request):
            raise PermissionDenied
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one lead to export.", messages.WARNING)
            return None
        lead = queryset.get()
        identifier = lead.email or lead.phone
        if not identifier:
            self.message_user(request, "This lead was erased: there is nothing left to export.", messages.WARNING)
            return None
        document = person_export(identifier=identifier, by=request.user)
        response = HttpResponse(json.dumps(document, indent=2, ensure_ascii=False),
                                content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="lead-{lead.pk}-personal-data.json"'
        return response

    def has_delete_permission(self, request, obj=None) -> bool:
        # A person leaves only through the audited erasure below, never a plain delete
        # (which would also take their consents and status history with them).
        return False

    def has_erase_permission(self, request) -> bool:
        return request.user.has_perm("leads.erase_lead") and self._sees_contacts(request)

    @admin.action(description="GDPR: erase the selected people's data (cannot be undone)", permissions=["erase"])
    def erase_personal_data(self, request, queryset):
        leads = [lead for lead in queryset if lead.erased_at is None]
        if request.POST.get("confirm") != "yes":
            return TemplateResponse(request, "admin/leads/lead/erase_confirmation.html", {
                **self.admin_site.each_context(request),
                "title": "Erase personal data?", "opts": self.opts, "leads": leads,
                "labels": [str(lead) if self._sees_contacts(request) else f"Lead #{lead.pk}" for lead in leads],
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            })
        for lead in leads:
            person_erase(identifier=lead.email or lead.phone, by=request.user)
        self.message_user(request, f"Erased {len(leads)} person(s). Logged in the audit trail.", messages.SUCCESS)
        return None

    @admin.action(description="Export selected leads as CSV")
    def export_csv(self, request, queryset):
        if not (self._sees_contacts(request) and request.user.has_perm("leads.export_lead")):
            raise PermissionDenied
        return leads_csv(queryset)

    def get_search_results(self, request, queryset, search_term):
        """Front desk types numbers as patients say them: '07911 123456' finds +447911123456."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if not self._sees_contacts(request):
            return results, may_have_duplicates
        try:
            phone = normalise_phone(search_term)
        except ValidationError:
            return results, may_have_duplicates
        if phone:
            results |= queryset.filter(phone=phone)
        return results, may_have_duplicates

    @admin.display(description="interest by treatment category")
    def interest(self, lead: Lead) -> str:
        rows = lead_interest(lead=lead)
        if not rows:
            return "No treatment looked at yet."
        return render_to_string("admin/leads/lead/interest.html", {"rows": rows})

    @admin.display(description="utm term")
    def utm_term_redacted(self, lead: Lead) -> str:
        return redact(lead.utm_term, names=person_names(lead))

    @admin.display(description="utm content")
    def utm_content_redacted(self, lead: Lead) -> str:
        return redact(lead.utm_content, names=person_names(lead))

    @admin.display(description="why this score")
    def score_explanation_redacted(self, lead: Lead) -> str:
        return self.score_explanation(lead, names=person_names(lead))

    @admin.display(description="why this score")
    def score_explanation(self, lead: Lead, names=None) -> str:
        """Each rule and its points; with `names`, a staff adjustment's reason redacted."""
        if not lead.score_reasons:
            return "No rule has scored this lead yet."
        rows = [
            (reason["rule"] if names is None else redact(reason["rule"], names=names),
             f"× {reason['occurrences']}" if reason.get("occurrences", 1) > 1 else "",
             f"{reason['points']:+d}")
            for reason in lead.score_reasons
        ]
        total = sum(reason["points"] for reason in lead.score_reasons)
        return render_to_string("admin/leads/lead/score_explanation.html", {
            "rows": rows,
            "total": str(total),
            "note": f" (capped at {lead.lead_score})" if total != lead.lead_score else "",
            "adjust_url": reverse("admin:leads_lead_adjust_score", args=[lead.pk]),
        })
