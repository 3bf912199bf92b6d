"""CSV files staff open in spreadsheet programs: every cell stays text, never a formula."""

import csv
import re

# A cell starting with one of these is run as a formula by Excel, LibreOffice and
# Google Sheets (CSV injection, OWASP): =HYPERLINK(...), @SUM(...), +cmd|... A tab or
# carriage return before them is skipped by some programs, so they count too.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def safe_cell(value) -> str:
    """The cell as text, with a leading apostrophe when a spreadsheet would run it.

    Phone numbers (+447...) and negative numbers are not formulas and stay as they are.
    """
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


class SafeWriter:
    """csv.writer's writerow/writerows, with every cell passed through safe_cell."""

    def __init__(self, file, **options):
        self._writer = csv.writer(file, **options)

    def writerow(self, row) -> None:
        self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)


def writer(file, **options) -> SafeWriter:
    """Use instead of csv.writer for any CSV a person may open in a spreadsheet."""
    return SafeWriter(file, **options)
