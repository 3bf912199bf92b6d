"""manage.py import_interactions FILE: bring the old system's interactions in, scored."""

import argparse
import time

from django.core.management.base import BaseCommand, CommandError, DjangoHelpFormatter
from django.template.defaultfilters import pluralize

from core import csv
from leads import importer

HELP = f"""\
Import historical interactions from a CSV file (with a header row) or JSON Lines
(one object per line). Each row is scored with the current active rules exactly as
the tracker would have scored it at that point of its visitor's journey; a row with
contact details and consent makes its visitor a lead. Rows already imported (same
id) are skipped, so running it again is safe. Rows with problems are rejected with
their line number and the reason, and the rest is imported.

columns:
  id                  required; the legacy row id (stored as external_id "{importer.EXTERNAL_ID_PREFIX}<id>")
  session_id          required; the legacy visitor/session id
  timestamp           required; ISO 8601, e.g. 2024-03-05T14:20:00+00:00 (no offset: TIME_ZONE)
  type                required; legacy name, e.g. ai_rec, skin_analysis, price_calc, booking,
                      search, page_view, contact (unknown names are rejected)
  page_url            where it happened
  engagement_seconds  seconds spent, 0-{importer.MAX_ENGAGEMENT_SECONDS}
  landing_page, referrer, utm_source, utm_medium, utm_campaign, utm_term, utm_content
                      first touch, used when the row starts its session
  procedures          procedure slugs, separated by ";"
  concerns            concerns, separated by ";"
  urgency             immediate, soon or flexible
  budget_level        low, medium or high
  budget_amount       a number
  query               what the visitor typed
  data                a JSON object added to the interaction data
  email, phone, first_name, last_name
                      contact details: kept only with consent
  consent             true/false; true with an e-mail or phone makes the visitor a lead
"""


class _HelpFormatter(DjangoHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Django's option order, with the column table kept as written."""


class Command(BaseCommand):
    help = HELP

    def create_parser(self, prog_name, subcommand, **kwargs):
        return super().create_parser(prog_name, subcommand, formatter_class=_HelpFormatter, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("file", help="The export to import (.csv, .jsonl or .ndjson).")
        parser.add_argument(
            "--format", choices=importer.FORMATS, dest="file_format",
            help="The file's format, when its extension does not say.",
        )
        parser.add_argument(
            "--batch-size", type=int, default=importer.DEFAULT_BATCH_SIZE,
            help=f"Rows per transaction (default {importer.DEFAULT_BATCH_SIZE}).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Check and count everything, save nothing.")
        parser.add_argument(
            "--report", metavar="FILE",
            help="Write the rejected rows (line, id, reason) to this CSV file instead of the error output.",
        )

    def handle(self, *args, file, file_format, batch_size, dry_run, report, **options):
        report_file = writer = None
        if report:
            try:
                report_file = open(report, "w", newline="", encoding="utf-8")
            except OSError as error:
                raise CommandError(f"Cannot write the report {report}: {error.strerror or error}.") from error
            writer = csv.writer(report_file)
            writer.writerow(["line", "id", "reason"])
        progress = _ProgressBar(self.stdout) if self.stdout.isatty() else None

        def rejected(rejection: importer.Rejection) -> None:
            if writer is not None:
                writer.writerow([rejection.line, rejection.row_id, rejection.reason])
                return
            if progress is not None:
                progress.clear()
            row_id = f" (id {rejection.row_id})" if rejection.row_id else ""
            self.stderr.write(f"line {rejection.line}{row_id}: {rejection.reason}")

        try:
            summary = importer.interactions_import(
                path=file,
                file_format=file_format,
                batch_size=batch_size,
                dry_run=dry_run,
                on_rejected=rejected,
                on_progress=progress.update if progress is not None else None,
            )
        except importer.InteractionImportError as error:
            raise CommandError(str(error)) from error
        finally:
            if progress is not None:
                progress.finish()
            if report_file is not None:
                report_file.close()

        if summary.ignored_columns:
            self.stderr.write(f"Ignored unknown column(s): {', '.join(summary.ignored_columns)}.")
        if report and summary.rejected:
            self.stderr.write(f"The {summary.rejected} rejected rows are listed in {report}.")
        details = (
            f"{summary.sessions_created} new session{pluralize(summary.sessions_created)}, "
            f"{summary.lead_rows} row{pluralize(summary.lead_rows)} with contact details and consent "
            "made or updated leads"
        )
        if summary.contacts_dropped:
            details += (
                f", contact details without consent dropped from {summary.contacts_dropped} "
                f"row{pluralize(summary.contacts_dropped)}"
            )
        outcome = (
            f"imported {summary.imported}, skipped {summary.skipped}, rejected {summary.rejected} "
            f"({details})."
        )
        if dry_run:
            self.stdout.write(self.style.WARNING(f"Dry run, nothing was saved: would have {outcome}"))
        else:
            self.stdout.write(self.style.SUCCESS(f"Import finished: {outcome}"))


class _ProgressBar:
    """One redrawn line on a terminal: share of the file read, rows, rows per second."""

    WIDTH = 30
    MIN_INTERVAL = 0.2

    def __init__(self, out):
        self.out = out
        self.started = time.monotonic()
        self.drawn_at = 0.0
        self.shown = False
        self.last: importer.ImportProgress | None = None

    def update(self, progress: importer.ImportProgress) -> None:
        now = time.monotonic()
        if progress == self.last or (
            now - self.drawn_at < self.MIN_INTERVAL and progress.bytes_read < progress.total_bytes
        ):
            return
        self.last = progress
        self.drawn_at = now
        share = progress.bytes_read / progress.total_bytes if progress.total_bytes else 1.0
        filled = round(share * self.WIDTH)
        rate = progress.rows / max(now - self.started, 1e-6)
        self.out.write(
            f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {share:4.0%}  "
            f"{progress.rows:,} rows  {rate:,.0f} rows/s\033[K",
            ending="",
        )
        self.out.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.out.write("\r\033[K", ending="")
            self.out.flush()
            self.shown = False

    def finish(self) -> None:
        if self.shown:
            self.out.write("")
