"""Free text as staff without the contact permission see it: e-mail addresses, phone
numbers and the person's known name replaced by "[redacted]".

A patient types what they like into a search box or a voice note ("Sarah Chen,
07911 123456, call me about botox"). Marketing keeps the words that say what was
wanted (botox) and loses the ones that say who wanted it. Names can only be caught
when they are known (the lead's own), so an anonymous visitor's name typed in a
query stays; their e-mail and phone do not.
"""

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"

# Interaction data that says what was looked at, never who looked: kept on erasure,
# and all a rule may test for staff who do not see contact details. Free text
# (queries, transcripts, messages, staff reasons) and face measures (derived from a
# face: biometric data) are not among them.
ANONYMOUS_DATA_KEYS = frozenset({
    "procedures", "concerns", "categories", "areas", "urgency", "budget_level", "budget_amount", "budget_range",
    "input", "scroll_depth", "recommendations", "lines", "subtotal_min", "subtotal_max", "discount_percent",
    "discount_min", "discount_max", "total_min", "total_max", "financing", "treatment", "time_window",
    "preferred_date", "points", "photo_consent", "photo_kept",
})

_EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Seven digits or more, however spaced or punctuated: phone numbers in any format
# ("07911 123456", "+44 (0)7911-123-456"). Prices and years are shorter.
_PHONE = re.compile(r"\+?\d(?:[\s().\-/]*\d){6,}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NAME_SPLIT = re.compile(r"[\s._+\-']+")


def name_tokens(*parts: str) -> frozenset[str]:
    """The words a person's name is made of, from their names and e-mail local part."""
    tokens = set()
    for part in parts:
        part = (part or "").split("@")[0]
        tokens.update(token.lower() for token in _NAME_SPLIT.split(part) if len(token) >= 2)
    return frozenset(tokens)


def person_names(person) -> frozenset[str]:
    """The name tokens of a lead (anything with first_name, last_name and email), or none."""
    if person is None:
        return frozenset()
    return name_tokens(person.first_name, person.last_name, person.email)


def redact(text: str, *, names: Iterable[str] = ()) -> str:
    """The text with e-mails, phone numbers and the given name tokens replaced."""
    if not text:
        return text
    text = _EMAIL.sub(REDACTED, text)
    text = _PHONE.sub(lambda match: match[0] if _DATE.fullmatch(match[0]) else REDACTED, text)
    names = sorted({name for name in names if name}, key=len, reverse=True)
    if names:
        pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, names)) + r")(?!\w)", re.IGNORECASE)
        text = pattern.sub(REDACTED, text)
    return text


def redact_data(data: dict, *, names: Iterable[str] = ()) -> dict:
    """An interaction's data with its free text redacted; the keys that only say what
    was looked at (procedures, dates, prices) are kept as they are."""
    names = frozenset(names)
    return {
        key: value if key in ANONYMOUS_DATA_KEYS else redact_value(value, names=names)
        for key, value in (data or {}).items()
    }


def redact_value(value: Any, *, names: Iterable[str] = ()) -> Any:
    """Every string inside JSON-like data (dicts, lists) redacted; keys and numbers kept."""
    names = frozenset(names)
    if isinstance(value, str):
        return redact(value, names=names)
    if isinstance(value, dict):
        return {key: redact_value(item, names=names) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(item, names=names) for item in value]
    return value
