"""The treatment finder's labelled set (finder_phrasings.csv): what patients write, the
treatments that are a right first answer, what must not be suggested, and the budget
they named. Split for good into a tuning half and a test half by a hash of the text, so
the split never depends on the order of the file or on what the recommender says.

Columns: `text`; `top1`, the slugs that are equally right as the first suggestion (empty:
nothing in the catalog fits, and the finder should say so); `must_not`, slugs or kinds of
treatment (needles, injection, laser, surgery) that must not appear among the suggestions;
`budget`, the amount the patient named, if any.
"""

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

PATH = Path(__file__).with_name("finder_phrasings.csv")


@dataclass(frozen=True)
class Phrasing:
    text: str
    top1: frozenset[str]
    must_not: frozenset[str]
    budget: float | None

    @property
    def half(self) -> str:
        return "test" if hashlib.sha256(self.text.encode()).digest()[0] % 2 else "tune"


def phrasings(half: str | None = None) -> list[Phrasing]:
    with PATH.open(newline="", encoding="utf-8") as file:
        rows = [
            Phrasing(
                text=row["text"],
                top1=frozenset(row["top1"].split()),
                must_not=frozenset(row["must_not"].split()),
                budget=float(row["budget"]) if row["budget"] else None,
            )
            for row in csv.DictReader(file)
        ]
    return [row for row in rows if half is None or row.half == half]
