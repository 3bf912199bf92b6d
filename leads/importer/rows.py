"""The import's rows: the columns a legacy export may have, and one record (a CSV
row or a JSON Lines object) read into a `Row`, or refused with every problem found."""

from __future__ import annotations

import functools
import json
import math
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from core.bulk import JSONText
from core.parsers import json_loads
from interactions.models import InteractionType, UserInteraction, UserSession
from interactions.tracker import MAX_DATA_BYTES
from leads.contact import ContactDetails, normalise_contact
from scoring import engine

EXTERNAL_ID_PREFIX = "legacy:"
# Never change it: re-imports and later files of the same export find their
# visitors through it.
LEGACY_SESSION_NAMESPACE = uuid.UUID("8d7c5f3e-2b1a-4e6f-9c0d-7a4b3e2f1d60")

# A day on one page is already beyond belief; larger values are export glitches
# that would also overflow the session's running total.
MAX_ENGAGEMENT_SECONDS = 86_400

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


# A visitor's rows are usually near each other in a file: their id is worked out once.
@functools.lru_cache(maxsize=8192)
def legacy_session_public_id(legacy_session_id: str) -> uuid.UUID:
    return uuid.uuid5(LEGACY_SESSION_NAMESPACE, legacy_session_id)



class RowError(ValueError):
    pass


@dataclass
class Row:
    line: int
    external_id: str
    public_id: uuid.UUID
    occurred_at: datetime
    interaction_type: str
    data: dict[str, Any]
    data_json: JSONText  # `data` encoded (done anyway to check its size), to be stored as it is
    page_url: str
    engagement_seconds: int
    first_touch: dict[str, str]
    contact: dict[str, Any] | None
    # The contact details as the lead service normalises them (with `contact`).
    contact_details: ContactDetails | None
    contact_dropped: bool



def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


def json_loads_finite(text: str) -> Any:
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
        if value is None or value == "" or (isinstance(value, str) and value.isspace()):
            if required:
                self.problem(name, "missing")
            return default
        if isinstance(value, str) and "\x00" in value:
            self.problem(name, "contains a NUL character")
            return default
        try:
            return parse(value)
        except RowError as error:
            self.problem(name, str(error))
            return default

    def text(self, name: str, *, required: bool = False) -> str:
        value = self.record.get(name)
        # Most values are plain text: read them here (this runs some 15 times a row).
        if type(value) is str and "\x00" not in value:
            value = value.strip()
            if value or not required:
                return value
        return self.get(name, _as_text, "", required=required)


def _as_text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise RowError("must be text")
    return str(value).strip()


def _as_timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise RowError("must be an ISO 8601 date and time in text")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise RowError(f"{value!r} is not an ISO 8601 date and time") from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return moment


def _as_type(value: Any) -> str:
    name = _as_text(value).lower().replace("-", "_").replace(" ", "_")
    try:
        return LEGACY_TYPES[name]
    except KeyError:
        raise RowError(f"{value!r} is not a known interaction type") from None


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [item.strip() for item in value.split(";") if item.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value if item.strip()]
    raise RowError("must be semicolon-separated text or a list of text")


def _as_number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise RowError("must be a number")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise RowError(f"{value!r} is not a number") from None
    if not isinstance(value, (int, float)):
        raise RowError("must be a number")
    try:
        if not math.isfinite(value):
            raise RowError("must be a finite number")
    except OverflowError:
        raise RowError("is too large") from None
    if value < 0:
        raise RowError("cannot be negative")
    return int(value) if float(value).is_integer() else value


def _as_seconds(value: Any) -> int:
    seconds = round(_as_number(value))
    if seconds > MAX_ENGAGEMENT_SECONDS:
        raise RowError(f"{seconds} is more than a day ({MAX_ENGAGEMENT_SECONDS})")
    return seconds


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise RowError(f"{value!r} is not true or false")


def _as_json_object(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json_loads_finite(value)
        except ValueError as error:
            raise RowError(f"not valid JSON ({error})") from None
    if not isinstance(value, dict):
        raise RowError("must be a JSON object")
    return value


def _as_word(allowed: Iterable[str]) -> Callable[[Any], str]:
    allowed = tuple(allowed)

    def parse(value: Any) -> str:
        word = _as_text(value).lower()
        if word not in allowed:
            raise RowError(f"{value!r} is not one of {', '.join(allowed)}")
        return word

    return parse


_as_urgency = _as_word(engine.URGENCY_LEVELS)
_as_budget_level = _as_word(engine.BUDGET_LEVELS)


@functools.cache
def _max_lengths() -> dict[str, int]:
    """The text columns' lengths: longer legacy values are cut (the id is refused)."""
    lengths = {name: UserSession._meta.get_field(name).max_length for name in FIRST_TOUCH_COLUMNS}
    lengths["page_url"] = UserInteraction._meta.get_field("page_url").max_length
    lengths["external_id"] = UserInteraction._meta.get_field("external_id").max_length
    return lengths


def parse_row(line: int, record: Mapping[str, Any]) -> Row:
    fields = _Fields(record)
    max_lengths = _max_lengths()
    row_id = fields.text("id", required=True)
    external_id = EXTERNAL_ID_PREFIX + row_id
    if len(external_id) > max_lengths["external_id"]:
        fields.problem("id", "too long")
    session_id = fields.text("session_id", required=True)
    occurred_at = fields.get("timestamp", _as_timestamp, required=True)
    interaction_type = fields.get("type", _as_type, required=True)

    data = fields.get("data", _as_json_object, {})
    columns = {
        "query": fields.text("query"),
        "procedures": fields.get("procedures", _as_list, []),
        "concerns": fields.get("concerns", _as_list, []),
        "urgency": fields.get("urgency", _as_urgency),
        "budget_level": fields.get("budget_level", _as_budget_level),
        "budget_amount": fields.get("budget_amount", _as_number),
    }
    data = {**data, **{key: value for key, value in columns.items() if value not in (None, "", [])}}
    encoded = json.dumps(data)
    if len(encoded) > MAX_DATA_BYTES:
        fields.problem("data", f"the interaction data is larger than {MAX_DATA_BYTES} bytes")
    if "\\u0000" in encoded:
        # PostgreSQL cannot store a NUL character in text or JSON.
        fields.problem("data", "contains a NUL character")

    contact, contact_details, dropped = None, None, False
    details = {name: fields.text(name) for name in ("email", "phone", "first_name", "last_name")}
    if details["email"] or details["phone"]:
        if fields.get("consent", _as_bool, False):
            contact = {**details, "consent_contact": True}
            try:
                contact_details = normalise_contact(contact)
            except ValidationError as error:
                for name, messages in error.message_dict.items():
                    for message in messages:
                        fields.problem(name, message)
        else:
            # No consent, so the contact details are not kept anywhere (GDPR Art. 6).
            dropped = True

    page_url = fields.text("page_url")[: max_lengths["page_url"]]
    engagement_seconds = fields.get("engagement_seconds", _as_seconds, 0)
    first_touch = {
        name: fields.text(name)[: max_lengths[name]] for name in FIRST_TOUCH_COLUMNS
    }
    if fields.problems:
        raise RowError("; ".join(fields.problems))
    return Row(
        line=line,
        external_id=external_id,
        public_id=legacy_session_public_id(session_id),
        occurred_at=occurred_at,
        interaction_type=interaction_type,
        data=data,
        data_json=JSONText(encoded),
        page_url=page_url,
        engagement_seconds=engagement_seconds,
        first_touch=first_touch,
        contact=contact,
        contact_details=contact_details,
        contact_dropped=dropped,
    )
