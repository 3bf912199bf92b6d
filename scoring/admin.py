"""Admin for the scoring rules and thresholds."""

import json

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core.admin import ReadOnlyAdminMixin
from core.permissions import CONTACT_PERMISSION
from scoring.models import LeadScoringRule, RuleVersion, ScoringSettings
from scoring.privacy import condition_check_privacy


@admin.register(LeadScoringRule)
class LeadScoringRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "points", "per_occurrence", "condition_in_words", "is_active", "order"]
    list_editable = ["points", "is_active", "order"]
    list_filter = ["kind", "is_active", "per_occurrence"]
    search_fields = ["name", "description"]
    fields = ["name", "description", "kind", "condition", "points", "per_occurrence", "is_active", "order"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if request.user.has_perm(CONTACT_PERMISSION) or "condition" not in form.base_fields:
            return form

        class ConditionForm(form):
            def clean_condition(self):
                condition = self.cleaned_data["condition"]
                try:
                    condition_check_privacy(condition)
                except ValidationError as error:
                    raise ValidationError(error.message_dict["condition"]) from error
                return condition

        return ConditionForm

    @admin.display(description="applies when")
    def condition_in_words(self, rule: LeadScoringRule) -> str:
        return rule.condition_in_words


@admin.register(ScoringSettings)
class ScoringSettingsAdmin(admin.ModelAdmin):
    """One row of thresholds: the list goes straight to it."""

    fieldsets = [
        ("Engagement levels", {"fields": ["medium_threshold", "high_threshold"]}),
        (
            "Contact form prompt",
            {"fields": ["contact_prompt_threshold", "contact_prompt_cooldown_minutes", "contact_prompt_max_shows"]},
        ),
        ("Decay", {"fields": ["score_half_life_days"]}),
    ]

    def has_add_permission(self, request) -> bool:
        return not ScoringSettings.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        settings, _ = ScoringSettings.objects.get_or_create(pk=1)
        return redirect(reverse("admin:scoring_scoringsettings_change", args=[settings.pk]))


@admin.register(RuleVersion)
class RuleVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The rule versions: a record of what the rules were, read, never edited."""

    list_display = ["number", "created_at", "created_by", "note", "active_rules"]
    fields = ["number", "created_at", "created_by", "note", "rules_in_words", "document_json"]
    readonly_fields = fields

    @admin.display(description="active rules")
    def active_rules(self, version: RuleVersion) -> int:
        return len(version.engine_rules())

    @admin.display(description="rules")
    def rules_in_words(self, version: RuleVersion) -> str:
        rules = version.engine_rules()
        if not rules:
            return "No active rule."
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}{}</td></tr>", (
            (rule.name, rule.kind, f"{rule.points:+d}", " each time" if rule.per_occurrence else "") for rule in rules
        ))
        return format_html("<table>{}</table>", rows)

    @admin.display(description="as a rules document (manage.py scoring_rules load takes it)")
    def document_json(self, version: RuleVersion) -> str:
        return format_html("<pre>{}</pre>", json.dumps(version.document, indent=2, ensure_ascii=False))
