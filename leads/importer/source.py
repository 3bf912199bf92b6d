"""The import's source: a CSV or JSON Lines file streamed as records, with the line
each starts on, and how far into the file the reading is."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from typing import Any

from leads.importer.rows import COLUMNS, REQUIRED_COLUMNS, json_loads_finite

class InteractionImportError(Exception):
    """The import cannot go on: the file is missing, unreadable or not in the
    expected format, or a batch could not be written."""



class Source:
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
                record = json_loads_finite(text)
            except ValueError as error:
                yield number, None, f"not valid JSON ({error})"
                continue
            if not isinstance(record, dict):
                yield number, None, "not a JSON object"
                continue
            if len(self.ignored_columns) < self.MAX_IGNORED_COLUMNS:
                self.ignored_columns.update(key for key in record if key not in COLUMNS)
            yield number, record, None
