"""core.csv: the one CSV writer for files staff open in spreadsheet programs."""

import csv as std_csv
import io

import pytest

from core import csv


@pytest.mark.parametrize("attack", [
    '=HYPERLINK("http://evil.example","Click")', "@SUM(1+1)*cmd|' /C calc'!A0", "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0", "\t=1+1", "\r=1+1",
])
def test_a_cell_a_spreadsheet_would_run_is_written_as_text(attack):
    out = io.StringIO()
    csv.writer(out).writerow([attack])
    assert next(std_csv.reader(io.StringIO(out.getvalue()))) == ["'" + attack]


def test_numbers_phone_numbers_and_empty_cells_stay_as_they_are():
    out = io.StringIO()
    csv.writer(out).writerows([[-12.5, "+447911100201", None, 3, "Sarah"]])
    assert next(std_csv.reader(io.StringIO(out.getvalue()))) == ["-12.5", "+447911100201", "", "3", "Sarah"]
