"""manage.py decay_scores: one score decay pass now (for cron, or to see it work)."""

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import pluralize

from leads.decay import leads_decay
from leads.rescoring import DEFAULT_WORKERS


class Command(BaseCommand):
    # As rescore_leads: a batch job scoring leads needs no URLconf checks.
    requires_system_checks = []
    help = (
        "Recompute every lead's score as of now, so points from old interactions fade by the half-life "
        "set in Scoring settings. The decay task does this on a schedule; this runs one pass now."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--workers", type=int, default=DEFAULT_WORKERS,
            help=f"Processes scoring leads at once on PostgreSQL (default {DEFAULT_WORKERS}).",
        )

    def handle(self, *args, workers, **options):
        if workers < 1:
            raise CommandError("--workers must be at least 1.")
        summary = leads_decay(workers=workers)
        if summary is None:
            self.stdout.write(self.style.WARNING(
                "Score decay is off: set a half-life in Scoring settings first. Nothing was changed."))
            return
        changes = [f"{count} {change}" for change, count in sorted(summary.level_changes.items())]
        if summary.score_only_changes:
            changes.append(f"{summary.score_only_changes} score only")
        detail = f": {', '.join(changes)}" if changes else ""
        self.stdout.write(self.style.SUCCESS(
            f"Decayed scores as of now: {summary.changed} of {summary.rescored} "
            f"lead{pluralize(summary.rescored)} changed{detail}."))
