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

Batches: rows are streamed and handled in batches, each in its own transaction.
A batch loads what it needs in a few queries (which of its ids exist, its
sessions, their journeys), scores in memory with the scoring engine, and writes
with bulk_create / bulk_update; a contact row flushes what came before it, then
goes through create_lead_from_form.
"""

from __future__ import annotations

import bisect
import csv
import io
import itertools
import json
import math
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, reset_queries, transaction
from django.db.models import Sum
from django.utils import timezone

from core.parsers import json_loads
from interactions.models import InteractionType, UserInteraction, UserSession
from interactions.tracker import MAX_DATA_BYTES, journey_session_facts
from leads.contact import normalise_contact
from leads.models import ConsentMethod, Lead
from leads.rollups import rollups_forget
from leads.services import create_lead_from_form, lead_apply_score
from scoring import engine
from scoring.services import rules_active, score_journey, scoring_settings_get

EXTERNAL_ID_PREFIX = "legacy:"
# Never change it: re-imports and later files of the same export find their
# visitors through it.
LEGACY_SESSION_NAMESPACE = uuid.UUID("8d7c5f3e-2b1a-4e6f-9c0d-7a4b3e2f1d60")

DEFAULT_BATCH_SIZE = 1000
MAX_BATCH_SIZE = 10_000
# A day on one page is already beyond belief; larger values are export glitches
# that would also overflow the session's running total.
MAX_ENGAGEMENT_SECONDS = 86_400

FORMATS = ("csv", "jsonl")
FORMAT_BY_SUFFIX = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}

LEGACY_TYPES: dict[str, str] = {
    "ai_recommendation": InteractionType.AI_RECOMMENDATION,
    "ai_rec": InteractionType.AI_RECOMMENDATION,
    "recommendation": InteractionType.AI_RECOMMENDATION,
    "face_analysis": InteractionType.FACE_ANALYSIS,
    "skin_analysis": InteractionType.FACE_ANALYSIS,
    "photo_analysis": InteractionType.FACE_ANALYSIS,
    "cost_calculator": InteractionType.COST_CALCULATOR,
    "price_calc": InteractionType.COST_CALCULATOR,
    "quote": InteractionType.COST_CALCULATOR,
    "appointment_booking": InteractionType.APPOINTMENT_BOOKING,
    "appointment": InteractionType.APPOINTMENT_BOOKING,
    "booking": InteractionType.APPOINTMENT_BOOKING,
    "search": InteractionType.SEARCH,
    "page_engagement": InteractionType.PAGE_ENGAGEMENT,
    "page_view": InteractionType.PAGE_ENGAGEMENT,
    "contact_form": InteractionType.CONTACT_FORM,
    "contact": InteractionType.CONTACT_FORM,
}

REQUIRED_COLUMNS = ("id", "session_id", "timestamp", "type")
FIRST_TOUCH_COLUMNS = (
    "landing_page", "referrer", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
)
CONTACT_COLUMNS = ("email", "phone", "first_name", "last_name", "consent")
COLUMNS = (
    *REQUIRED_COLUMNS,
    "page_url",
    "engagement_seconds",
    *FIRST_TOUCH_COLUMNS,
    "procedures",
    "urgency",
    "budget_level",
    "budget_amount",
    "query",
    "concerns",
    "data",
    *CONTACT_COLUMNS,
)
TRUE_WORDS = {"true", "yes", "y", "1"}
FALSE_WORDS = {"false", "no", "n", "0", ""}
SESSION_AGGREGATES = [
    "created_at", "last_seen_at", "visit_count", "interaction_count", "engagement_seconds", "score",
    "engagement_level",
]


class InteractionImportError(Exception):
    """The import cannot go on: the file is missing, unreadable or not in the
    expected format, or a batch could not be written."""


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


def legacy_session_public_id(legacy_session_id: str) -> uuid.UUID:
    return uuid.uuid5(LEGACY_SESSION_NAMESPACE, legacy_session_id)


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
        source = _Source(binary, file_format, total_bytes=path.stat().st_size)
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


class _RowError(ValueError):
    pass


@dataclass
class _Row:
    line: int
    external_id: str
    public_id: uuid.UUID
    occurred_at: datetime
    interaction_type: str
    data: dict[str, Any]
    page_url: str
    engagement_seconds: int
    first_touch: dict[str, str]
    contact: dict[str, Any] | None
    contact_dropped: bool


class _Source:
    """The file's records, streamed: (line number, values or None, problem or None)."""

    MAX_IGNORED_COLUMNS = 20

    def __init__(self, binary: io.BufferedReader, file_format: str, *, total_bytes: int):
        self.binary = binary
        self.file_format = file_format
        self.total_bytes = total_bytes
        self.ignored_columns: set[str] = set()
        # utf-8-sig: spreadsheet programs start their CSV exports with a BOM.
        self.text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")

    @property
    def bytes_read(self) -> int:
        return min(self.binary.tell(), self.total_bytes)

    def records(self) -> Iterator[tuple[int, Mapping[str, Any] | None, str | None]]:
        records = self._csv_records() if self.file_format == "csv" else self._jsonl_records()
        try:
            yield from records
        except UnicodeDecodeError as error:
            raise InteractionImportError(f"The file is not UTF-8 text ({error.reason}).") from error

    def _csv_records(self):
        reader = csv.DictReader(self.text)
        try:
            header = reader.fieldnames
        except csv.Error as error:
            raise InteractionImportError(f"Line 1: {error}.") from error
        if not header:
            raise InteractionImportError("The file is empty: a CSV import needs a header row.")
        header = reader.fieldnames = [name.strip().lower() for name in header]
        missing = [name for name in REQUIRED_COLUMNS if name not in header]
        if missing:
            raise InteractionImportError(
                f"The header row lacks the required column(s) {', '.join(missing)} "
                f"(it has: {', '.join(header)})."
            )
        self.ignored_columns.update(name for name in header if name not in COLUMNS)
        line = reader.line_num + 1
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise InteractionImportError(f"Line {line}: {error}.") from error
            start, line = line, reader.line_num + 1
            if None in record:
                yield start, None, f"{len(header) + len(record[None])} fields, but the header has {len(header)}"
            else:
                yield start, record, None

    def _jsonl_records(self):
        for number, text in enumerate(self.text, start=1):
            if not text.strip():
                continue
            try:
                record = _json_loads(text)
            except ValueError as error:
                yield number, None, f"not valid JSON ({error})"
                continue
            if not isinstance(record, dict):
                yield number, None, "not a JSON object"
                continue
            if len(self.ignored_columns) < self.MAX_IGNORED_COLUMNS:
                self.ignored_columns.update(key for key in record if key not in COLUMNS)
            yield number, record, None


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


def _json_loads(text: str) -> Any:
    # NaN and Infinity are not JSON: PostgreSQL would refuse them in a JSON column.
    # Too deep a document is a ValueError too (core.parsers), not a crash.
    return json_loads(text, parse_constant=_refuse_constant)


class _Fields:
    """Read one record's values, collecting every problem instead of stopping at the first."""

    def __init__(self, record: Mapping[str, Any]):
        self.record = record
        self.problems: list[str] = []

    def problem(self, name: str, message: str) -> None:
        self.problems.append(f"{name}: {message}")

    def get(self, name: str, parse: Callable[[Any], Any], default: Any = None, *, required: bool = False) -> Any:
        value = self.record.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problem(name, "missing")
            return default
        if isinstance(value, str) and "\x00" in value:
            self.problem(name, "contains a NUL character")
            return default
        try:
            return parse(value)
        except _RowError as error:
            self.problem(name, str(error))
            return default

    def text(self, name: str, *, required: bool = False) -> str:
        return self.get(name, _as_text, "", required=required)


def _as_text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _RowError("must be text")
    return str(value).strip()


def _as_timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise _RowError("must be an ISO 8601 date and time in text")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise _RowError(f"{value!r} is not an ISO 8601 date and time") from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return moment


def _as_type(value: Any) -> str:
    name = _as_text(value).lower().replace("-", "_").replace(" ", "_")
    try:
        return LEGACY_TYPES[name]
    except KeyError:
        raise _RowError(f"{value!r} is not a known interaction type") from None


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [item.strip() for item in value.split(";") if item.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value if item.strip()]
    raise _RowError("must be semicolon-separated text or a list of text")


def _as_number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise _RowError("must be a number")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise _RowError(f"{value!r} is not a number") from None
    if not isinstance(value, (int, float)):
        raise _RowError("must be a number")
    try:
        if not math.isfinite(value):
            raise _RowError("must be a finite number")
    except OverflowError:
        raise _RowError("is too large") from None
    if value < 0:
        raise _RowError("cannot be negative")
    return int(value) if float(value).is_integer() else value


def _as_seconds(value: Any) -> int:
    seconds = round(_as_number(value))
    if seconds > MAX_ENGAGEMENT_SECONDS:
        raise _RowError(f"{seconds} is more than a day ({MAX_ENGAGEMENT_SECONDS})")
    return seconds


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise _RowError(f"{value!r} is not true or false")


def _as_json_object(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = _json_loads(value)
        except ValueError as error:
            raise _RowError(f"not valid JSON ({error})") from None
    if not isinstance(value, dict):
        raise _RowError("must be a JSON object")
    return value


def _as_word(allowed: Iterable[str]) -> Callable[[Any], str]:
    allowed = tuple(allowed)

    def parse(value: Any) -> str:
        word = _as_text(value).lower()
        if word not in allowed:
            raise _RowError(f"{value!r} is not one of {', '.join(allowed)}")
        return word

    return parse


def _parse_row(line: int, record: Mapping[str, Any]) -> _Row:
    fields = _Fields(record)
    row_id = fields.text("id", required=True)
    external_id = EXTERNAL_ID_PREFIX + row_id
    if len(external_id) > UserInteraction._meta.get_field("external_id").max_length:
        fields.problem("id", "too long")
    session_id = fields.text("session_id", required=True)
    occurred_at = fields.get("timestamp", _as_timestamp, required=True)
    interaction_type = fields.get("type", _as_type, required=True)

    data = fields.get("data", _as_json_object, {})
    columns = {
        "query": fields.text("query"),
        "procedures": fields.get("procedures", _as_list, []),
        "concerns": fields.get("concerns", _as_list, []),
        "urgency": fields.get("urgency", _as_word(engine.URGENCY_LEVELS)),
        "budget_level": fields.get("budget_level", _as_word(engine.BUDGET_LEVELS)),
        "budget_amount": fields.get("budget_amount", _as_number),
    }
    data = {**data, **{key: value for key, value in columns.items() if value not in (None, "", [])}}
    encoded = json.dumps(data)
    if len(encoded) > MAX_DATA_BYTES:
        fields.problem("data", f"the interaction data is larger than {MAX_DATA_BYTES} bytes")
    if "\\u0000" in encoded:
        # PostgreSQL cannot store a NUL character in text or JSON.
        fields.problem("data", "contains a NUL character")

    contact, dropped = None, False
    details = {name: fields.text(name) for name in ("email", "phone", "first_name", "last_name")}
    if details["email"] or details["phone"]:
        if fields.get("consent", _as_bool, False):
            contact = {**details, "consent_contact": True}
            try:
                normalise_contact(contact)
            except ValidationError as error:
                for name, messages in error.message_dict.items():
                    for message in messages:
                        fields.problem(name, message)
        else:
            # No consent, so the contact details are not kept anywhere (GDPR Art. 6).
            dropped = True

    page_url = fields.text("page_url")[: UserInteraction._meta.get_field("page_url").max_length]
    engagement_seconds = fields.get("engagement_seconds", _as_seconds, 0)
    first_touch = {
        name: fields.text(name)[: UserSession._meta.get_field(name).max_length] for name in FIRST_TOUCH_COLUMNS
    }
    if fields.problems:
        raise _RowError("; ".join(fields.problems))
    return _Row(
        line=line,
        external_id=external_id,
        public_id=legacy_session_public_id(session_id),
        occurred_at=occurred_at,
        interaction_type=interaction_type,
        data=data,
        page_url=page_url,
        engagement_seconds=engagement_seconds,
        first_touch=first_touch,
        contact=contact,
        contact_dropped=dropped,
    )


class _ImportRun:
    def __init__(self, *, source: _Source, dry_run: bool, on_rejected, on_progress):
        self.source = source
        self.dry_run = dry_run
        self.on_rejected = on_rejected
        self.on_progress = on_progress
        self.rules = rules_active()
        self.thresholds = scoring_settings_get().thresholds()
        self.rows_read = 0
        self.imported = self.skipped = self.rejected = 0
        self.sessions_created = self.lead_rows = self.contacts_dropped = 0

    def run(self, batch_size: int) -> None:
        for rows in itertools.batched(self._valid_rows(), batch_size):
            try:
                with transaction.atomic():
                    batch = _Batch(rows, rules=self.rules, thresholds=self.thresholds)
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

    def _valid_rows(self) -> Iterator[_Row]:
        for line, record, problem in self.source.records():
            self.rows_read += 1
            row_id = ""
            if record is not None:
                row_id = str(record.get("id") or "")
                try:
                    yield _parse_row(line, record)
                    continue
                except _RowError as error:
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


class _Step(NamedTuple):
    """One interaction of a journey, as the tracker orders them: by time, then by
    when it was stored (stored rows by pk, this batch's after them in file order)."""

    created_at: datetime
    order: tuple[int, int]
    interaction_type: str
    data: dict[str, Any]


def _step_key(step: _Step) -> tuple[datetime, tuple[int, int]]:
    return step.created_at, step.order


_AFTER_ALL = (2, 0)


class _Batch:
    """Score and store one batch of rows as if each had been tracked in turn."""

    def __init__(self, rows: tuple[_Row, ...], *, rules: list[engine.Rule], thresholds: engine.Thresholds):
        self.rows = rows
        self.rules = rules
        self.thresholds = thresholds
        self.visit_gap = timedelta(seconds=settings.VISIT_GAP_SECONDS)
        self.sessions: dict[uuid.UUID, UserSession] = {}
        self.journeys: dict[tuple[str, int], list[_Step]] = {}
        self.lead_totals: dict[int, dict[str, int]] = {}
        self.pending: list[UserInteraction] = []
        self.changed_sessions: dict[int, UserSession] = {}
        self.lead_results: dict[int, engine.ScoreResult] = {}
        self.sequence = itertools.count()
        self.fresh: list[_Row] = []
        self.new_session_ids: set[int] = set()
        self.imported = self.skipped = self.sessions_created = self.lead_rows = 0

    def run(self) -> None:
        self.fresh = self._fresh_rows()
        if not self.fresh:
            return
        self._load_sessions()
        self._load_journeys()
        for row in self.fresh:
            session = self.sessions[row.public_id]
            interaction = self._track(row, session)
            if row.contact is not None:
                self._flush(for_lead_of=session)
                self._convert(row, session, interaction)
        self._flush()
        self.imported = len(self.fresh)

    def _fresh_rows(self) -> list[_Row]:
        ids = {row.external_id for row in self.rows}
        stored = set(UserInteraction.objects.filter(external_id__in=ids).values_list("external_id", flat=True))
        fresh = []
        for row in self.rows:
            if row.external_id in stored:
                self.skipped += 1
            else:
                # A repeated id within the file is skipped like one imported before.
                stored.add(row.external_id)
                fresh.append(row)
        return fresh

    def _load_sessions(self) -> None:
        first_rows: dict[uuid.UUID, _Row] = {}
        for row in self.fresh:
            first_rows.setdefault(row.public_id, row)
        self.sessions = UserSession.objects.in_bulk(list(first_rows), field_name="public_id")
        new = [
            UserSession(
                public_id=public_id,
                created_at=row.occurred_at,
                last_seen_at=row.occurred_at,
                **row.first_touch,
            )
            for public_id, row in first_rows.items()
            if public_id not in self.sessions
        ]
        UserSession.objects.bulk_create(new)
        self.sessions.update((session.public_id, session) for session in new)
        self.sessions_created = len(new)
        self.new_session_ids = {session.pk for session in new}

    def _load_journeys(self) -> None:
        session_ids = [
            session.pk
            for session in self.sessions.values()
            if session.lead_id is None and session.pk not in self.new_session_ids
        ]
        lead_ids = {session.lead_id for session in self.sessions.values() if session.lead_id}
        for session in self.sessions.values():
            self.journeys[self._journey_key(session)] = []
        stored = (
            UserInteraction.objects.filter(session_id__in=session_ids)
            .order_by("created_at", "pk")
            .values_list("session_id", "pk", "created_at", "interaction_type", "data")
        )
        for session_id, pk, created_at, kind, data in stored:
            self.journeys[("session", session_id)].append(_Step(created_at, (0, pk), kind, data))
        if lead_ids:
            self._load_leads(lead_ids)

    def _load_leads(self, lead_ids: set[int]) -> None:
        """A lead's journey and session totals, across all their sessions."""
        for lead_id in lead_ids:
            self.journeys[("lead", lead_id)] = []
        stored = (
            UserInteraction.objects.filter(lead_id__in=lead_ids)
            .order_by("created_at", "pk")
            .values_list("lead_id", "pk", "created_at", "interaction_type", "data")
        )
        for lead_id, pk, created_at, kind, data in stored:
            self.journeys[("lead", lead_id)].append(_Step(created_at, (0, pk), kind, data))
        totals = (
            UserSession.objects.filter(lead_id__in=lead_ids)
            .values("lead_id")
            .annotate(engagement_seconds=Sum("engagement_seconds"), visit_count=Sum("visit_count"))
        )
        for total in totals:
            self.lead_totals[total["lead_id"]] = {
                "engagement_seconds": total["engagement_seconds"],
                "visit_count": total["visit_count"],
            }

    @staticmethod
    def _journey_key(session: UserSession) -> tuple[str, int]:
        # The tracker's journey_interactions: the lead's, once the visitor is one.
        return ("lead", session.lead_id) if session.lead_id else ("session", session.pk)

    def _session_facts(self, session: UserSession) -> engine.SessionFacts:
        if session.lead_id is None:
            # The tracker's own fact-building: without a lead it reads only the session.
            return journey_session_facts(session=session)
        # For a lead the tracker sums all the lead's sessions, this row's seconds
        # included; the running totals here are those sums.
        return engine.SessionFacts(
            **self.lead_totals[session.lead_id],
            utm_source=session.utm_source,
            utm_medium=session.utm_medium,
            utm_campaign=session.utm_campaign,
        )

    def _track(self, row: _Row, session: UserSession) -> UserInteraction:
        """What session_touch and track_user_interaction would do for this row."""
        at = row.occurred_at
        totals = self.lead_totals.get(session.lead_id) if session.lead_id else None
        if at - session.last_seen_at >= self.visit_gap:
            session.visit_count += 1
            if totals is not None:
                totals["visit_count"] += 1
        session.engagement_seconds += row.engagement_seconds
        if totals is not None:
            totals["engagement_seconds"] += row.engagement_seconds
        facts = self._session_facts(session)

        journey = self.journeys[self._journey_key(session)]
        earlier = journey[: bisect.bisect_right(journey, (at, _AFTER_ALL), key=_step_key)]
        result = score_journey(
            steps=[engine.Step(step.interaction_type, step.data) for step in [*earlier, row]],
            session_facts=facts,
            rules=self.rules,
            thresholds=self.thresholds,
        )
        step = _Step(at, (1, next(self.sequence)), row.interaction_type, row.data)
        bisect.insort(journey, step, key=_step_key)

        interaction = UserInteraction(
            session=session,
            lead_id=session.lead_id,
            interaction_type=row.interaction_type,
            data=row.data,
            page_url=row.page_url,
            engagement_seconds=row.engagement_seconds,
            score=result.points,
            score_reasons=result.reasons_as_data(),
            created_at=at,
            external_id=row.external_id,
        )
        self.pending.append(interaction)
        session.interaction_count += 1
        session.score = result.points
        session.engagement_level = result.level
        session.last_seen_at = max(session.last_seen_at, at)
        session.created_at = min(session.created_at, at)
        self.changed_sessions[session.pk] = session
        if session.lead_id:
            self.lead_results[session.lead_id] = result
        return interaction

    def _flush(self, *, for_lead_of: UserSession | None = None) -> None:
        """Write what was scored so far. Before a contact row (`for_lead_of`), only
        what the lead service reads is needed: every interaction (pk order is
        file order), and the sessions that are or are becoming a lead's."""
        if self.pending:
            UserInteraction.objects.bulk_create(self.pending)
            self.pending = []
        if for_lead_of is None:
            ready, self.changed_sessions = list(self.changed_sessions.values()), {}
        else:
            ready = [
                session
                for session in self.changed_sessions.values()
                if session.lead_id or session.pk == for_lead_of.pk
            ]
            for session in ready:
                del self.changed_sessions[session.pk]
        for session in ready:
            # One narrow UPDATE per session: measured several times faster than
            # bulk_update's CASE expressions for a batch's thousand sessions.
            UserSession.objects.filter(pk=session.pk).update(
                **{name: getattr(session, name) for name in SESSION_AGGREGATES}
            )
        for lead_id, result in self.lead_results.items():
            # As the tracker's lead_journey_scored receiver does after each of the
            # lead's interactions: the last one stands.
            lead_apply_score(lead=Lead.objects.select_for_update().get(pk=lead_id), result=result, notify=False)
        self.lead_results = {}

    def _convert(self, row: _Row, session: UserSession, interaction: UserInteraction) -> None:
        # The consent was given in the old system, not on our web form: the record
        # says so (GDPR Art. 7(1)). Staff are not e-mailed about historical leads.
        lead = create_lead_from_form(
            session=session, interaction=interaction, data=row.contact, occurred_at=row.occurred_at,
            notify=False, consent_method=ConsentMethod.IMPORT, trusted=True,
        )
        session.lead_id = lead.pk
        self.lead_rows += 1
        self._load_leads({lead.pk})
