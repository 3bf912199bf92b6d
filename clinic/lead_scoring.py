"""The lead-scoring page (/admin/comprehensive/lead-scoring/): the rules in words,
the thresholds, and how well each rule picks leads that convert."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from leads.selectors import rule_performance
from scoring.models import LeadScoringRule, ScoringSettings
from scoring.services import scoring_settings_get


class ThresholdsForm(forms.ModelForm):
    class Meta:
        model = ScoringSettings
        fields = [
            "medium_threshold", "high_threshold", "contact_prompt_threshold",
            "contact_prompt_cooldown_minutes", "contact_prompt_max_shows",
        ]


def lead_scoring_view(request, *, admin_site):
    if not request.user.has_perm("scoring.view_leadscoringrule"):
        raise PermissionDenied
    settings = scoring_settings_get()
    can_change = request.user.has_perm("scoring.change_scoringsettings")
    form = ThresholdsForm(request.POST or None, instance=settings)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if form.is_valid():
            form.save()
            messages.success(request, "Thresholds saved. Rescore the leads to apply new engagement levels to them.")
            return redirect("admin:comprehensive_lead_scoring")
    rules = list(LeadScoringRule.objects.all())
    performance, baseline = rule_performance(rule_names=[rule.name for rule in rules])
    by_name = {row.rule: row for row in performance}
    return TemplateResponse(request, "admin/comprehensive/lead_scoring.html", {
        **admin_site.each_context(request),
        "title": "Lead scoring",
        "rules": [(rule, by_name[rule.name]) for rule in rules],
        "baseline": baseline,
        "form": form,
        "can_change_thresholds": can_change,
        "can_change_rules": request.user.has_perm("scoring.change_leadscoringrule"),
    }, status=400 if form.errors else 200)
