"""manage.py rescore_leads: score leads again with the current rules."""

from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import pluralize

from interactions.models import EngagementLevel
from leads.models import LeadStatus
from leads.rescoring import DEFAULT_CHUNK_SIZE, DEFAULT_WORKERS, leads_for_rescoring, leads_rescore_bulk


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since {value!r} is not a date: use YYYY-MM-DD.") from None


class Command(BaseCommand):
    # The system checks load every URLconf, and with it the public tools' text models
    # (scikit-learn): 2.5 s of CPU before a rescore of 10,000 leads that takes one.
    # `manage.py check` and the server run them; a batch job scoring leads needs none.
    requires_system_checks = []
    help = (
        "Rescore leads with the current scoring rules and thresholds (all leads, or those matching "
        "every filter given). Run it after changing the rules. --dry-run shows what would change."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--lead", type=int, action="append", dest="lead_ids", metavar="ID",
            help="Only this lead (repeat for several).",
        )
        parser.add_argument("--status", help=f"Only leads with this status ({', '.join(LeadStatus.values)}).")
        parser.add_argument(
            "--level", help=f"Only leads at this engagement level ({', '.join(EngagementLevel.values)})."
        )
        parser.add_argument("--since", metavar="DATE", help="Only leads created on or after this day (YYYY-MM-DD).")
        parser.add_argument("--dry-run", action="store_true", help="Count what would change, save nothing.")
        parser.add_argument(
            "--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE,
            help=f"Leads per transaction (default {DEFAULT_CHUNK_SIZE}).",
        )
        parser.add_argument(
            "--workers", type=int, default=DEFAULT_WORKERS,
            help=f"Processes rescoring chunks at once on PostgreSQL, each on its own connection "
                 f"(default {DEFAULT_WORKERS}).",
        )

    def handle(self, *args, lead_ids, status, level, since, dry_run, chunk_size, workers, **options):
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1.")
        if workers < 1:
            raise CommandError("--workers must be at least 1.")
        try:
            leads = leads_for_rescoring(
                lead_ids=lead_ids, status=status, level=level, since=_day(since) if since else None
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error

        summary = leads_rescore_bulk(leads=leads, dry_run=dry_run, chunk_size=chunk_size, workers=workers)

        changes = [f"{count} {change}" for change, count in sorted(summary.level_changes.items())]
        if summary.score_only_changes:
            changes.append(f"{summary.score_only_changes} score only")
        detail = f": {', '.join(changes)}" if changes else ""
        leads_counted = f"{summary.rescored} lead{pluralize(summary.rescored)}"
        if dry_run:
            self.stdout.write(
                self.style.WARNING(
                    f"Dry run, nothing was saved: would change {summary.changed} of {leads_counted}{detail}."
                )
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"Rescored {leads_counted}, {summary.changed} changed{detail}."))
