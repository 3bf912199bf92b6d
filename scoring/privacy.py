"""Which rule conditions staff without the contact permission may write.

A rule is an oracle if it may test what a patient typed: marketing could save
"data.query contains 'Chen'" (or preview it) and read, lead by lead, which ones
match, recovering text they are shown redacted. So for them a condition may name
the engine's own facts and those interaction data keys that say what was looked
at, never who looked (the keys erasure keeps)."""

from collections.abc import Iterator, Mapping
from typing import Any

from django.core.exceptions import ValidationError

from core.redaction import ANONYMOUS_DATA_KEYS
from scoring.engine import DATA_PREFIX


def condition_fields(condition: Any) -> Iterator[str]:
    """Every field a condition names, through its all/any/not groups."""
    if not isinstance(condition, Mapping):
        return
    for group in ("all", "any"):
        if isinstance(condition.get(group), list):
            for part in condition[group]:
                yield from condition_fields(part)
    if "not" in condition:
        yield from condition_fields(condition["not"])
    if isinstance(condition.get("field"), str):
        yield condition["field"]


def condition_check_privacy(condition: Any) -> None:
    """Refuse a condition that reads free text the patient typed (see the module's note)."""
    private = sorted({
        field for field in condition_fields(condition)
        if field.startswith(DATA_PREFIX) and field[len(DATA_PREFIX):] not in ANONYMOUS_DATA_KEYS
    })
    if private:
        raise ValidationError({"condition": (
            f"{', '.join(private)} may hold what a patient typed, which your role does not see. "
            "Test the named facts, or data keys about what was looked at (such as data.procedures, "
            "data.budget_range, data.treatment)."
        )})
