"""manage.py train_lead_model: train the conversion model on the leads with a known
outcome, show how it does against the rule score, and use it only if it beats them.

It lives in clinic/ because it wires two apps: the model (leads.prediction) needs the
catalog's prices, which leads may not read from calculators (DESIGN.md)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from calculators.models import Procedure
from core.commands import as_of_option
from leads.prediction.services import conversion_model_train


def _percent(value) -> str:
    return "—" if value is None else f"{value:.0%}"


def _number(value) -> str:
    return "—" if value is None else f"{value:.3f}"


class Command(BaseCommand):
    # As rescore_leads: a batch job needs none of the URLconf's checks (they load the
    # public tools' text models).
    requires_system_checks = []
    help = (
        "Train the conversion model on leads with a known outcome, evaluate it on the newest 30 % beside the "
        "rule score, and use it from now only if it beats the rules there. --dry-run saves nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", metavar="DATE", help="Learn from leads made before this day's end "
                                                            "(YYYY-MM-DD; default: now).")
        parser.add_argument("--stale-after-days", type=int, metavar="N",
                            help="Count an open lead older than N days as not converted "
                                 "(default: settings.LEAD_STALE_AFTER_DAYS).")
        parser.add_argument("--dry-run", action="store_true", help="Train and show the figures, save nothing.")

    def handle(self, *args, as_of, stale_after_days, dry_run, **options):
        moment = as_of_option(as_of) if as_of else None
        if stale_after_days is not None and stale_after_days < 1:
            raise CommandError("--stale-after-days must be at least 1.")
        prices = dict(Procedure.objects.values_list("slug", "price_min"))

        report = conversion_model_train(prices=prices, as_of=moment, stale_after_days=stale_after_days,
                                        dry_run=dry_run)

        self._figures(report)
        decision = report.training.decision
        if dry_run:
            verdict = "would be used" if decision.used else "would be refused"
            self.stdout.write(self.style.WARNING(f"Dry run, nothing was saved: {verdict}: {decision.reason}."))
        elif decision.used:
            self.stdout.write(self.style.SUCCESS(
                f"Model v{report.saved.version} used from now: {decision.reason}."))
        else:
            self.stdout.write(self.style.WARNING(f"Model v{report.saved.version} refused: {decision.reason}."))

    def _figures(self, report) -> None:
        evaluation = report.training.evaluation
        write = self.stdout.write
        write(f"Leads made before {timezone.localtime(report.as_of):%d %b %Y %H:%M} with a known outcome "
              f"(open leads stale after {report.stale_after_days} days).")
        write(f"Trained on {evaluation.train_leads} earlier leads ({evaluation.train_positives} converted); "
              f"hold-out: the {evaluation.holdout_leads} newest ({evaluation.holdout_positives} converted).")
        if evaluation.model is None:
            return
        model, rules = evaluation.model, evaluation.rules
        write("")
        write(f"{'on the hold-out':<22}{'model':>10}{'rule score':>12}")
        write(f"{'ROC AUC':<22}{_number(model.roc_auc):>10}{_number(rules.roc_auc):>12}")
        write(f"{'precision @ top 10 %':<22}{_percent(model.precision_at_top):>10}"
              f"{_percent(rules.precision_at_top):>12}")
        if evaluation.margin_interval:
            low, high = evaluation.margin_interval
            write(f"AUC difference {evaluation.auc_margin:+.3f} (95 % interval {low:+.3f} to {high:+.3f}).")
        write("")
        write("Calibration, model (by predicted probability):")
        write(f"  {'predicted':<12}{'leads':>7}{'mean predicted':>16}{'converted':>11}")
        for row in model.calibration:
            write(f"  {row.label:<12}{row.count:>7}{row.predicted:>16.0%}{row.observed:>11.0%}")
        write("Calibration, rule score (by score band):")
        write(f"  {'score':<12}{'leads':>7}{'mean score':>16}{'converted':>11}")
        for row in rules.calibration:
            write(f"  {row.label:<12}{row.count:>7}{row.predicted:>16.1f}{row.observed:>11.0%}")
        write("")
