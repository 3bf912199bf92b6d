"""The conversion models' admin: every training with its figures beside the rule
score and its decision, read by every staff role, written only by train_lead_model."""

from django.contrib import admin
from django.template.loader import render_to_string
from django.utils.html import format_html_join

from core.admin import ReadOnlyAdminMixin
from leads.models import ConversionModel


def _percent(value) -> str:
    return "—" if value is None else f"{value:.0%}"


def _auc(model: ConversionModel, which: str) -> str:
    figures = model.metrics.get(which) or {}
    return "—" if figures.get("roc_auc") is None else f"{figures['roc_auc']:.3f}"


@admin.register(ConversionModel)
class ConversionModelAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["version", "status", "trained_at", "holdout", "model_auc", "rule_auc", "reason"]
    list_filter = ["status"]
    fields = ["version", "status", "reason", "trained_at", "trained_by", "as_of", "stale_after_days", "learned_from",
              "holdout", "figures", "features", "sklearn_version"]
    readonly_fields = fields

    def get_queryset(self, request):
        # The pickled pipeline is not for reading here (and can be large).
        return super().get_queryset(request).defer("pipeline").select_related("trained_by")

    @admin.display(description="learned from")
    def learned_from(self, model: ConversionModel) -> str:
        return f"{model.train_leads} leads ({model.train_positives} converted)"

    @admin.display(description="hold-out")
    def holdout(self, model: ConversionModel) -> str:
        return f"{model.holdout_leads} leads ({model.holdout_positives} converted)"

    @admin.display(description="model AUC")
    def model_auc(self, model: ConversionModel) -> str:
        return _auc(model, "model")

    @admin.display(description="rule score AUC")
    def rule_auc(self, model: ConversionModel) -> str:
        return _auc(model, "rules")

    @admin.display(description="on the hold-out")
    def figures(self, model: ConversionModel) -> str:
        metrics = model.metrics
        figures, rules = metrics.get("model"), metrics.get("rules")

        def rows(table, predicted):
            return [{**row, "predicted": predicted(row["predicted"]), "observed": _percent(row["observed"])}
                    for row in table["calibration"]] if table else []

        return render_to_string("admin/leads/conversionmodel/figures.html", {
            "model": figures, "rules": rules,
            "model_precision": _percent((figures or {}).get("precision_at_top")),
            "rules_precision": _percent((rules or {}).get("precision_at_top")),
            "margin": metrics.get("auc_margin"), "interval": metrics.get("margin_interval"),
            "model_rows": rows(figures, _percent), "rule_rows": rows(rules, lambda score: f"{score:.1f}"),
        })

    @admin.display(description="features")
    def features(self, model: ConversionModel) -> str:
        return format_html_join(", ", "{}", ((name,) for name in model.feature_names)) or "—"
