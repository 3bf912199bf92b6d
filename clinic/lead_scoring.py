"""The lead-scoring page (/admin/comprehensive/lead-scoring/): the rules in words,
the thresholds, and how well each rule picks leads that convert."""

from django import forms
from django.conf import settings as django_settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.template.response import TemplateResponse

from core.permissions import CONTACT_PERMISSION
from core.views import add_service_errors
from leads.calibration import calibration_accept, calibration_start, calibration_table
from leads.models import RescoreRun, RuleCalibration
from leads.rescoring import rescore_run_start, rule_change_preview
from leads.selectors import rule_performance
from scoring.models import LeadScoringRule, ScoringSettings
from scoring.privacy import condition_check_privacy
from scoring.services import scoring_settings_get


class RuleForm(forms.ModelForm):
    """The rule as the admin edits it; validated by the model (the engine's checks)."""

    class Meta:
        model = LeadScoringRule
        fields = ["name", "description", "kind", "condition", "points", "per_occurrence", "is_active", "order"]


def describe_changes(summary) -> str:
    if not summary.changed:
        return f"No lead's score would change (of {summary.rescored})."
    moves = [f"{count} from {change.replace('->', ' to ')}" for change, count in sorted(summary.level_changes.items())]
    if summary.score_only_changes:
        moves.append(f"{summary.score_only_changes} change score but keep their level")
    return f"{summary.changed} of {summary.rescored} leads would change: " + "; ".join(moves) + "."


def rule_preview_view(request, *, admin_site, object_id=None):
    """POSTed by the rule form's Preview button: what saving would do to stored scores."""
    rule = get_object_or_404(LeadScoringRule, pk=object_id) if object_id else None
    permission = "scoring.change_leadscoringrule" if rule else "scoring.add_leadscoringrule"
    if not request.user.has_perm(permission):
        raise PermissionDenied
    if request.method != "POST":
        return redirect("admin:comprehensive_lead_scoring")
    form = RuleForm(request.POST, instance=rule)
    if form.is_valid() and not request.user.has_perm(CONTACT_PERMISSION):
        # Counting the leads a rule on free text would move is as telling as saving it.
        try:
            condition_check_privacy(form.cleaned_data["condition"])
        except ValidationError as error:
            add_service_errors(form, error)
    summary = rule_change_preview(rule=form.save(commit=False)) if form.is_valid() else None
    save_url = (
        reverse("admin:scoring_leadscoringrule_change", args=[rule.pk]) if rule
        else reverse("admin:scoring_leadscoringrule_add")
    )
    fields = [(name, value) for name, value in request.POST.items() if name != "csrfmiddlewaretoken"]
    return TemplateResponse(request, "admin/comprehensive/rule_preview.html", {
        **admin_site.each_context(request),
        "title": f"Preview: {request.POST.get('name') or 'new rule'}",
        "form": form,
        "summary": summary,
        "description": describe_changes(summary) if summary else None,
        "save_url": save_url,
        "fields": fields,
    }, status=200 if summary else 400)


CALIBRATING = (RuleCalibration.Status.QUEUED, RuleCalibration.Status.RUNNING)


def calibration_shown(calibration: RuleCalibration | None) -> dict:
    """The latest calibration, for the page's tables."""
    shown = {"calibration": calibration, "stale_after_days": django_settings.LEAD_STALE_AFTER_DAYS,
             "calibrating": calibration is not None and calibration.status in CALIBRATING}
    if calibration is not None and calibration.result:
        shown["calibration_rows"], shown["effect"] = calibration_table(calibration)
    return shown


def _calibration_post(request):
    """The page's calibration buttons: calibrate now, or accept the latest proposal."""
    if "calibrate" in request.POST:
        if RuleCalibration.objects.filter(status__in=CALIBRATING).exists():
            messages.warning(request, "A calibration is already under way: its result shows below when it is done.")
        else:
            calibration = calibration_start(by=request.user)
            messages.success(request, f"Calibration #{calibration.pk} runs in the background; "
                                      "its proposal shows below when it is done.")
        return redirect(reverse("admin:comprehensive_lead_scoring") + "#calibration")
    try:
        accepted = calibration_accept(calibration_id=int(request.POST["accept_calibration"]), by=request.user)
    except (ValueError, RuleCalibration.DoesNotExist):
        messages.error(request, "That calibration does not exist.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"The proposed points are now rule version {accepted.accepted_version_id}. "
                                  "Rescore all leads to apply them to the stored scores.")
    return redirect(reverse("admin:comprehensive_lead_scoring") + "#calibration")


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
    can_rescore = request.user.has_perm("scoring.change_leadscoringrule")
    if request.method == "POST" and "rescore" in request.POST:
        if not can_rescore:
            raise PermissionDenied
        rescore_run_start(by=request.user)
        messages.success(request, "Rescoring all leads in the background; progress shows below.")
        return redirect("admin:comprehensive_lead_scoring")
    if request.method == "POST" and ("calibrate" in request.POST or "accept_calibration" in request.POST):
        if not can_rescore:
            raise PermissionDenied
        return _calibration_post(request)
    form = ThresholdsForm(request.POST or None, instance=settings)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if form.is_valid():
            form.save()
            messages.success(request, "Thresholds saved. Rescore the leads to apply new engagement levels to them.")
            return redirect("admin:comprehensive_lead_scoring")
    rules = list(LeadScoringRule.objects.all())
    runs = list(RescoreRun.objects.select_related("requested_by")[:5])
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
        "can_rescore": can_rescore,
        "runs": runs,
        **calibration_shown(RuleCalibration.objects.select_related("created_by", "accepted_by").first()),
        "running": any(run.status in (RescoreRun.Status.QUEUED, RescoreRun.Status.RUNNING) for run in runs),
    }, status=400 if form.errors else 200)
