"""Import the old system's interaction history (CSV or JSON Lines) through the
real scoring and lead paths.

One row is one interaction. Columns (a CSV header row, or the keys of each JSON
Lines object):

    id                  required. The legacy row id, stored as UserInteraction.external_id
                        "legacy:<id>": a row whose id is already stored is skipped.
    session_id          required. The legacy visitor/session id; always the same
                        UserSession (public_id = uuid5 of it on a fixed namespace).
    timestamp           required. ISO 8601; without an offset it is in TIME_ZONE.
    type                required. Legacy interaction name, see LEGACY_TYPES.
    page_url            optional. Where it happened.
    engagement_seconds  optional. Whole seconds, 0 to 86400.
    landing_page, referrer, utm_source, utm_medium, utm_campaign, utm_term, utm_content
                        optional. First touch: taken from the row that creates the session.
    procedures, concerns
                        optional. Semicolon-separated (JSON Lines: a list or that text).
    urgency             optional. immediate, soon or flexible.
    budget_level        optional. low, medium or high.
    budget_amount       optional. A number, 0 or more.
    query               optional. What the visitor typed.
    data                optional. A JSON object merged into the interaction data (the
                        columns above win over its keys).
    email, phone, first_name, last_name, consent
                        optional. A row with consent true and an e-mail or a phone makes
                        its session a lead through create_lead_from_form (normalised and
                        deduplicated like the contact form; the clinic's own history is a
                        trusted source, so a row naming a lead on file joins that lead).
                        Without consent the contact details are dropped, never stored;
                        the interaction is imported.

A row with a problem (a missing id, a bad timestamp, an unknown type, bad JSON in
`data`, an invalid e-mail or phone when it would make a lead, ...) is rejected as a
whole, with its line number and the reason, and nothing of it is stored: fix the
row and import the file again, the rows already imported are skipped.

Scores: rows are taken in file order and each is scored exactly as
`track_user_interaction` would have scored it had it been tracked then, after the
rows before it in the file: against the journey of the interactions already
stored whose timestamp is not later than its own, with the current active rules.
Each row also counts as a request at its timestamp, so a silence of
VISIT_GAP_SECONDS starts a new visit, as the middleware counts visits. A contact
row converts its session at that point of the file, so the rows after it are
scored on the lead's journey. A session's created_at is its earliest timestamp.

Parts: `source.py` streams the file's records, `rows.py` reads each into a row (or
refuses it), `batch.py` scores and stores a batch of rows; this module runs them.

Batches: rows are streamed and handled in batches, each in its own transaction.
A batch loads what it needs in a few queries (which of its ids exist, its sessions
with their scoring states, the stored steps of journeys that already have some),
scores each row with the tracker's own journey step (interactions.journey), and
writes its interactions as plain rows (core.bulk: one COPY on PostgreSQL), its new
sessions and leads once with their totals (keys drawn from the sequences), and the
sessions seen before with one UPDATE. A contact row that makes a new person's lead
of a visitor first seen in the batch is converted in memory with the lead service's
own parts; any other writes what came before it, then goes through
create_lead_from_form.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, reset_queries, transaction

from leads.importer.batch import Batch
from leads.importer.rows import (
    EXTERNAL_ID_PREFIX,
    LEGACY_TYPES,
    MAX_ENGAGEMENT_SECONDS,
    Row,
    RowError,
    legacy_session_public_id,
    parse_row,
)
from leads.importer.source import InteractionImportError, Source
from leads.rollups import rollups_forget
from scoring.services import scoring_config

__all__ = [
    "DEFAULT_BATCH_SIZE", "EXTERNAL_ID_PREFIX", "FORMATS", "LEGACY_TYPES", "MAX_BATCH_SIZE", "MAX_ENGAGEMENT_SECONDS",
    "ImportProgress", "ImportSummary", "InteractionImportError", "Rejection", "import_format_for",
    "interactions_import", "legacy_session_public_id",
]

DEFAULT_BATCH_SIZE = 1000
MAX_BATCH_SIZE = 10_000

FORMATS = ("csv", "jsonl")
FORMAT_BY_SUFFIX = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


@dataclass(frozen=True)
class Rejection:
    line: int
    row_id: str
    reason: str


@dataclass(frozen=True)
class ImportProgress:
    rows: int
    bytes_read: int
    total_bytes: int


@dataclass(frozen=True)
class ImportSummary:
    imported: int
    skipped: int
    rejected: int
    sessions_created: int
    lead_rows: int
    contacts_dropped: int
    ignored_columns: tuple[str, ...]
    dry_run: bool


def import_format_for(path: Path, file_format: str | None = None) -> str:
    """The format asked for, or the one the file's extension names."""
    if file_format:
        if file_format not in FORMATS:
            raise InteractionImportError(f"Unknown format {file_format!r}: use {' or '.join(FORMATS)}.")
        return file_format
    try:
        return FORMAT_BY_SUFFIX[path.suffix.lower()]
    except KeyError:
        raise InteractionImportError(
            f"Cannot tell the format of {path.name}: name it .csv, .jsonl or .ndjson, or give --format."
        ) from None


def interactions_import(
    *,
    path: Path | str,
    file_format: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    on_rejected: Callable[[Rejection], None] | None = None,
    on_progress: Callable[[ImportProgress], None] | None = None,
) -> ImportSummary:
    """Import a legacy export; see the module docstring for columns and rules.

    Rejected rows are passed to `on_rejected` as they are found (they may be
    many, so they are not collected); `on_progress` is called after each batch.
    Raises InteractionImportError when the import cannot go on; batches before
    the one that failed stay imported (running it again continues).
    """
    path = Path(path)
    file_format = import_format_for(path, file_format)
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise InteractionImportError(f"The batch size must be between 1 and {MAX_BATCH_SIZE}.")
    try:
        binary = path.open("rb")
    except OSError as error:
        raise InteractionImportError(f"Cannot read {path}: {error.strerror or error}.") from error
    with binary:
        source = Source(binary, file_format, total_bytes=path.stat().st_size)
        run = _ImportRun(source=source, dry_run=dry_run, on_rejected=on_rejected, on_progress=on_progress)
        if dry_run:
            with transaction.atomic():
                run.run(batch_size)
                # Everything was done for real, then undone: the counts are exact.
                transaction.set_rollback(True)
        else:
            try:
                run.run(batch_size)
            finally:
                # History lands on past days and moves visitors' first-seen dates: the
                # dashboard counts every day again (an import is rare; a read during
                # it may have rolled up half of it).
                rollups_forget()
    return ImportSummary(
        imported=run.imported,
        skipped=run.skipped,
        rejected=run.rejected,
        sessions_created=run.sessions_created,
        lead_rows=run.lead_rows,
        contacts_dropped=run.contacts_dropped,
        ignored_columns=tuple(sorted(source.ignored_columns)),
        dry_run=dry_run,
    )



class _ImportRun:
    def __init__(self, *, source: Source, dry_run: bool, on_rejected, on_progress):
        self.source = source
        self.dry_run = dry_run
        self.on_rejected = on_rejected
        self.on_progress = on_progress
        config = scoring_config()
        self.ruleset, self.thresholds, self.rule_version = config.ruleset, config.thresholds, config.version
        self.rows_read = 0
        self.imported = self.skipped = self.rejected = 0
        self.sessions_created = self.lead_rows = self.contacts_dropped = 0

    def run(self, batch_size: int) -> None:
        for rows in itertools.batched(self._valid_rows(), batch_size):
            try:
                with transaction.atomic():
                    batch = Batch(rows, ruleset=self.ruleset, thresholds=self.thresholds, rule_version=self.rule_version)
                    batch.run()
            except DatabaseError as error:
                saved = (
                    "This was a dry run: nothing was saved."
                    if self.dry_run
                    else f"Nothing of them was saved; the {self.imported} rows imported before them stay: "
                    "fix the problem and run the import again to continue."
                )
                raise InteractionImportError(
                    f"Could not save the rows of lines {rows[0].line}-{rows[-1].line} ({error}). {saved}"
                ) from error
            self.imported += batch.imported
            self.skipped += batch.skipped
            self.sessions_created += batch.sessions_created
            self.lead_rows += batch.lead_rows
            self.contacts_dropped += sum(row.contact_dropped for row in batch.fresh)
            if settings.DEBUG:
                # DEBUG keeps the SQL of recent queries, bulk inserts included:
                # forget it per batch so a long import stays in bounded memory.
                reset_queries()
            self._progress()
        self._progress()

    def _valid_rows(self) -> Iterator[Row]:
        for line, record, problem in self.source.records():
            self.rows_read += 1
            row_id = ""
            if record is not None:
                row_id = str(record.get("id") or "")
                try:
                    yield parse_row(line, record)
                    continue
                except RowError as error:
                    problem = str(error)
            self.rejected += 1
            if self.on_rejected is not None:
                self.on_rejected(Rejection(line=line, row_id=row_id, reason=problem))

    def _progress(self) -> None:
        if self.on_progress is not None:
            self.on_progress(
                ImportProgress(
                    rows=self.rows_read, bytes_read=self.source.bytes_read, total_bytes=self.source.total_bytes
                )
            )
