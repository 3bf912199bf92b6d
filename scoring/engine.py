"""The scoring engine: plain data in, a ScoreResult out. No ORM, no request.

A patient's *journey* is the ordered list of their interactions (a session's, or a
lead's across sessions), each a `Step(interaction_type, data)`, and the facts of their
visits, a `SessionFacts`. `score_journey(steps, session_facts=..., rules=...)` is the
one function that scores a journey; each step is seen as a flat mapping of facts
(`interaction_facts`), looked up before the session's.

Rules are data. A condition is a small JSON tree:

    {"field": "urgency", "op": "eq", "value": "immediate"}
    {"all": [cond, ...]}   {"any": [cond, ...]}   {"not": cond}

How rules combine over a journey:

- base rules: the highest base that matches any interaction of the journey (so a
  face analysis after an AI recommendation raises the base from 60 to 80; bases
  never add up);
- bonus rules that fire once: their points once, if any interaction matches;
- bonus rules that fire on every occurrence: their points for each interaction
  that matches ("+5 for each further interaction" matches tool_position > 1);
  events that cost nothing to repeat (page engagement, searches, contact-form
  posts) count once at most, however many match: anyone can send a thousand.

Staff adjustments (interactions of type `score_adjustment`, with `points` and a
`reason` in their data) are not patient actions: rules never see them, and their
points are added as they are.

Decay (a half-life in days, off by default): engagement ages, so a rule's points fade
with the age of the interactions that earned them, weighted by 0.5 ** (age / half-life),
the age counted from the interaction's time to the score's `now`. A base rule or a
once-bonus is as old as its most recent matching interaction; a per-occurrence bonus
weighs each occurrence by its own age (a repeatable event, counted once, by its most
recent); the highest base is chosen after weighting; adjustments never fade. Each
reason's points are rounded to a whole number (`decayed_points`), so the reasons
still add up to the total the lead shows.

The total is clamped to 0-100 and mapped to an engagement level by thresholds.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MAX_SCORE = 100
MIN_SCORE = 0
MAX_CONDITION_DEPTH = 6
# Every active rule is evaluated for every interaction of a journey on each tracked
# event, so a rule's size is tracking latency: a condition with 40,000 tests or an
# "in" list of 200,000 values tripled it. A clinic's real rules use a handful.
MAX_CONDITION_TESTS = 50
MAX_LIST_VALUES = 100
MAX_TEXT_LENGTH = 200
MAX_ACTIVE_RULES = 50
MAX_RULE_POINTS = 100

BASE = "base"
BONUS = "bonus"
ADJUSTMENT = "score_adjustment"
MAX_ADJUSTMENT = 100

# Interactions that cost nothing to repeat and are not tool uses: what a browser reports
# or a plain GET makes (the tracking API's page-engagement beacons and searches, the
# treatment finder's ?q=), and contact-form posts (the lead itself, not interest in a
# treatment). Repeating them never scores, and tool_position skips them.
REPEATABLE_EVENTS = frozenset({"page_engagement", "search", "contact_form"})

LOW = "low"
MEDIUM = "medium"
HIGH = "high"

# Budget and urgency words the public tools normalise their inputs to.
BUDGET_LEVELS = ("low", "medium", "high")
URGENCY_LEVELS = ("immediate", "soon", "flexible")


@dataclass(frozen=True)
class FieldSpec:
    kind: str  # "text", "number", "list" or "bool"
    help: str


# The facts a condition may name. `data.<key>` reaches any other key of the
# interaction's JSON data, for a clinic's own rules.
FIELDS: dict[str, FieldSpec] = {
    "interaction_type": FieldSpec("text", "what the patient did, e.g. ai_recommendation"),
    "position": FieldSpec("number", "1 for the first interaction of the journey, 2 for the next..."),
    "tool_position": FieldSpec(
        "number",
        "1 for the first tool used, 2 for the next... (page engagement, searches and contact forms are not counted)",
    ),
    "procedures": FieldSpec("list", "catalog procedures the interaction was about"),
    "procedure_count": FieldSpec("number", "how many procedures the interaction was about"),
    "concerns": FieldSpec("list", "skin or body concerns named or found"),
    "budget_level": FieldSpec("text", "low, medium or high"),
    "budget_amount": FieldSpec("number", "the budget the patient stated, in the clinic's currency"),
    "urgency": FieldSpec("text", "immediate, soon or flexible"),
    "engagement_seconds": FieldSpec("number", "time the visitor has spent on the site, in seconds"),
    "visit_count": FieldSpec("number", "how many separate visits the visitor has made"),
    "utm_source": FieldSpec("text", "first-touch campaign source"),
    "utm_medium": FieldSpec("text", "first-touch campaign medium"),
    "utm_campaign": FieldSpec("text", "first-touch campaign name"),
}
DATA_PREFIX = "data."

OPERATORS: dict[str, str] = {
    "eq": "is equal to",
    "ne": "is not equal to",
    "gt": "is greater than",
    "gte": "is at least",
    "lt": "is less than",
    "lte": "is at most",
    "in": "is one of",
    "not_in": "is none of",
    "contains": "contains",
    "exists": "is present",
}
NUMERIC_OPERATORS = {"gt", "gte", "lt", "lte"}
LIST_OPERATORS = {"in", "not_in"}


class ConditionError(ValueError):
    """A rule condition that cannot be evaluated, explained in plain words."""


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str
    condition: Mapping[str, Any]
    points: int
    per_occurrence: bool = False


@dataclass(frozen=True)
class Thresholds:
    """Lowest score of each engagement level; below `medium` is low."""

    medium: int = 40
    high: int = 70

    def __post_init__(self) -> None:
        if not MIN_SCORE <= self.medium <= self.high <= MAX_SCORE:
            raise ValueError("Thresholds must satisfy 0 <= medium <= high <= 100.")


SESSION_FIELDS = ("engagement_seconds", "visit_count", "utm_source", "utm_medium", "utm_campaign")


SECONDS_PER_DAY = 86_400
# Half up, with a margin: incremental scoring adds the same weights in another order
# (decayed running sums), which can move a sum's last bits, and a point must not
# hang on those. A true value within this of a half is rounded as the half.
ROUNDING_MARGIN = 1e-9


@dataclass(frozen=True)
class Step:
    """One interaction of a journey, as it is stored: its type, its JSON data and when
    it happened (`at`: a datetime, or POSIX seconds, which a bulk reader already
    has). `at` None is "as recent as the score's now": it never ages."""

    interaction_type: str
    data: Mapping[str, Any] | None = None
    at: datetime | float | None = None


@dataclass(frozen=True)
class SessionFacts:
    """The facts of the visitor's visits (for a lead, summed over all their sessions).
    Its field names are the condition language's; None is "not known" (absent)."""

    engagement_seconds: int | None = None
    visit_count: int | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None

    def as_facts(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in SESSION_FIELDS}


@dataclass(frozen=True)
class Adjustment:
    points: int
    reason: str


@dataclass(frozen=True)
class Facts:
    """What the engine knows: the journey's interactions, the session, and any
    adjustments staff made by hand."""

    interactions: tuple[Mapping[str, Any], ...]
    session: Mapping[str, Any] = field(default_factory=dict)
    adjustments: tuple[Adjustment, ...] = ()


@dataclass(frozen=True)
class Reason:
    rule: str
    points: int
    occurrences: int = 1

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "points": self.points, "occurrences": self.occurrences}


@dataclass(frozen=True)
class ScoreResult:
    points: int
    level: str
    reasons: tuple[Reason, ...]
    raw_points: int

    def reasons_as_data(self) -> list[dict[str, Any]]:
        return [reason.as_dict() for reason in self.reasons]


# The keys of an interaction's data each fact of interaction_facts is read from (the
# type and the positions are read from none): an interaction's answers to rules that
# name these facts depend on these keys alone (scoring.incremental remembers them by
# their values). Kept beside interaction_facts; a test holds the two together.
FACT_DATA_KEYS: dict[str, tuple[str, ...]] = {
    "interaction_type": (),
    "position": (),
    "tool_position": (),
    "procedures": ("procedures",),
    "procedure_count": ("procedure_count", "procedures"),
    "concerns": ("concerns",),
    "budget_level": ("budget_level",),
    "budget_amount": ("budget_amount",),
    "urgency": ("urgency",),
}


def interaction_facts(
    interaction_type: str, data: Mapping[str, Any] | None, *, position: int, tool_position: int | None = None
) -> dict[str, Any]:
    """Flatten one interaction into the facts its rules can name (FACT_DATA_KEYS says
    which keys of its data each is read from)."""
    data = dict(data or {})
    procedures = data.get("procedures") or []
    if not isinstance(procedures, list):
        procedures = [procedures]
    concerns = data.get("concerns") or []
    if not isinstance(concerns, list):
        concerns = [concerns]
    facts = {
        "interaction_type": interaction_type,
        "position": position,
        "tool_position": tool_position,
        "procedures": procedures,
        "procedure_count": data.get("procedure_count", len(procedures)),
        "concerns": concerns,
        "budget_level": data.get("budget_level"),
        "budget_amount": data.get("budget_amount"),
        "urgency": data.get("urgency"),
        "data": data,
    }
    return facts


def journey_facts(steps: Iterable[Step], session_facts: SessionFacts) -> Facts:
    """The facts of a journey, its steps oldest first."""
    actions, adjustments = [], []
    for step in steps:
        if step.interaction_type == ADJUSTMENT:
            adjustments.append(adjustment_of(step.data or {}))
        else:
            actions.append((step.interaction_type, step.data))
    interactions, tools = [], 0
    for position, (kind, data) in enumerate(actions, start=1):
        if kind not in REPEATABLE_EVENTS:
            tools += 1
        tool_position = None if kind in REPEATABLE_EVENTS else tools
        interactions.append(interaction_facts(kind, data, position=position, tool_position=tool_position))
    return Facts(
        interactions=tuple(interactions),
        session=session_facts.as_facts(),
        adjustments=tuple(adjustments),
    )


def adjustment_of(data: Mapping[str, Any]) -> Adjustment:
    points = data.get("points")
    if isinstance(points, bool) or not isinstance(points, int):
        points = 0
    points = max(-MAX_ADJUSTMENT, min(MAX_ADJUSTMENT, points))
    return Adjustment(points=points, reason=str(data.get("reason") or "no reason given")[:200])


def epoch_seconds(at: datetime | float | None) -> float | None:
    """A moment as POSIX seconds (what decay computes ages with), None kept."""
    if at is None or isinstance(at, float):
        return at
    if isinstance(at, datetime):
        return at.timestamp()
    return float(at)


def decay_weight(age_seconds: float, half_life_seconds: float) -> float:
    """What a point earned `age_seconds` ago is worth now: a half after one half-life."""
    return 0.5 ** (age_seconds / half_life_seconds)


def decayed_points(points: int, weight: float) -> int:
    """A rule's points times their weight (or summed weights), as a whole number:
    rounded half up (2.5 -> 3, -2.5 -> -2), so each reason shows whole points and the
    reasons add up to the score. A weight of 1 gives the points exactly."""
    return math.floor(points * weight + 0.5 + ROUNDING_MARGIN)


def validate_half_life(half_life_days: float | None) -> None:
    if half_life_days is not None and not (isinstance(half_life_days, numbers.Real) and half_life_days > 0):
        raise ValueError(f"A half-life must be a positive number of days, not {half_life_days!r}.")


def score_journey(
    steps: Iterable[Step],
    *,
    session_facts: SessionFacts = SessionFacts(),
    rules: Sequence[Rule],
    thresholds: Thresholds = Thresholds(),
    now: datetime | float | None = None,
    half_life_days: float | None = None,
) -> ScoreResult:
    """Score a journey (its steps oldest first) with the given (active) rules.

    With `half_life_days`, points fade with age (the module docstring says how) as of
    `now`, which is never before the journey's newest step (None: at that step): a
    score read earlier is read at the newest step, so no weight exceeds 1."""
    if half_life_days is not None:
        validate_half_life(half_life_days)
        return _score_journey_decayed(
            list(steps), session_facts=session_facts, rules=rules, thresholds=thresholds, now=now,
            half_life_seconds=half_life_days * SECONDS_PER_DAY,
        )
    facts = journey_facts(steps, session_facts)
    views = [_FactView(interaction, facts.session) for interaction in facts.interactions]
    reasons: list[Reason] = []

    best_base: Rule | None = None
    for rule in rules:
        if rule.kind != BASE:
            continue
        if any(_matches(rule.condition, view) for view in views):
            if best_base is None or rule.points > best_base.points:
                best_base = rule
    if best_base is not None:
        reasons.append(Reason(best_base.name, best_base.points))

    for rule in rules:
        if rule.kind != BONUS:
            continue
        if rule.per_occurrence:
            matching = [view for view in views if _matches(rule.condition, view)]
            count = sum(1 for view in matching if view.get("interaction_type") not in REPEATABLE_EVENTS)
            count += any(view.get("interaction_type") in REPEATABLE_EVENTS for view in matching)
            if count:
                reasons.append(Reason(rule.name, rule.points * count, count))
        elif any(_matches(rule.condition, view) for view in views):
            reasons.append(Reason(rule.name, rule.points))

    for adjustment in facts.adjustments:
        reasons.append(Reason(f"Adjusted by staff: {adjustment.reason}", adjustment.points))

    return result_of(reasons, thresholds)


def _score_journey_decayed(
    steps: list[Step],
    *,
    session_facts: SessionFacts,
    rules: Sequence[Rule],
    thresholds: Thresholds,
    now: datetime | float | None,
    half_life_seconds: float,
) -> ScoreResult:
    """score_journey with decay: as score_journey, each rule's points weighted by age."""
    facts = journey_facts(steps, session_facts)
    views = [_FactView(interaction, facts.session) for interaction in facts.interactions]
    stamps = [epoch_seconds(step.at) for step in steps]
    moments = [stamp for stamp in stamps if stamp is not None]
    if now is not None:
        moments.append(epoch_seconds(now))
    now_seconds = max(moments, default=0.0)
    # Each interaction's time (adjustments are not interactions), an untimed one at now.
    times = [now_seconds if stamp is None else stamp
             for step, stamp in zip(steps, stamps) if step.interaction_type != ADJUSTMENT]

    def weight(moment: float) -> float:
        return decay_weight(now_seconds - moment, half_life_seconds)

    reasons: list[Reason] = []
    best_base: Reason | None = None
    for rule in rules:
        if rule.kind != BASE:
            continue
        matching = [moment for moment, view in zip(times, views) if _matches(rule.condition, view)]
        if matching:
            points = decayed_points(rule.points, weight(max(matching)))
            if best_base is None or points > best_base.points:
                best_base = Reason(rule.name, points)
    if best_base is not None:
        reasons.append(best_base)

    for rule in rules:
        if rule.kind != BONUS:
            continue
        matching = [(moment, view) for moment, view in zip(times, views) if _matches(rule.condition, view)]
        if not matching:
            continue
        if rule.per_occurrence:
            tools = [moment for moment, view in matching if view.get("interaction_type") not in REPEATABLE_EVENTS]
            repeated = [moment for moment, view in matching if view.get("interaction_type") in REPEATABLE_EVENTS]
            weights = sum(weight(moment) for moment in tools) + (weight(max(repeated)) if repeated else 0.0)
            count = len(tools) + bool(repeated)
            reasons.append(Reason(rule.name, decayed_points(rule.points, weights), count))
        else:
            reasons.append(Reason(rule.name, decayed_points(rule.points, weight(max(m for m, _ in matching)))))

    for adjustment in facts.adjustments:
        reasons.append(Reason(f"Adjusted by staff: {adjustment.reason}", adjustment.points))

    return result_of(reasons, thresholds)


def result_of(reasons: Sequence[Reason], thresholds: Thresholds = Thresholds()) -> ScoreResult:
    """The score the reasons add up to, clamped to 0-100, with its level."""
    raw = sum(reason.points for reason in reasons)
    points = max(MIN_SCORE, min(MAX_SCORE, raw))
    return ScoreResult(points=points, level=level_for(points, thresholds), reasons=tuple(reasons), raw_points=raw)


def level_for(points: int, thresholds: Thresholds = Thresholds()) -> str:
    if points >= thresholds.high:
        return HIGH
    if points >= thresholds.medium:
        return MEDIUM
    return LOW


class _FactView:
    """Looks a field up in the interaction first, then in the session."""

    __slots__ = ("interaction", "session")

    def __init__(self, interaction: Mapping[str, Any], session: Mapping[str, Any]):
        self.interaction = interaction
        self.session = session

    def get(self, name: str) -> Any:
        if name.startswith(DATA_PREFIX):
            return self.interaction.get("data", {}).get(name[len(DATA_PREFIX):])
        if name in self.interaction:
            return self.interaction[name]
        return self.session.get(name)


def _matches(condition: Mapping[str, Any], view: _FactView) -> bool:
    if "all" in condition:
        return all(_matches(part, view) for part in condition["all"])
    if "any" in condition:
        return any(_matches(part, view) for part in condition["any"])
    if "not" in condition:
        return not _matches(condition["not"], view)
    return compare(view.get(condition["field"]), condition["op"], condition.get("value"))


def compare(actual: Any, op: str, expected: Any) -> bool:
    if op == "exists":
        present = actual not in (None, "", [], {})
        return present if expected in (None, True) else not present
    if actual is None:
        return op in {"ne", "not_in"}
    if op == "eq":
        return _same(actual, expected)
    if op == "ne":
        return not _same(actual, expected)
    if op in NUMERIC_OPERATORS:
        number = _as_number(actual)
        if number is None:
            return False
        return {
            "gt": number > expected,
            "gte": number >= expected,
            "lt": number < expected,
            "lte": number <= expected,
        }[op]
    if op in LIST_OPERATORS:
        # A list fact (procedures, concerns) is "in" the values when any item is.
        items = actual if isinstance(actual, list) else [actual]
        found = any(_same(item, wanted) for item in items for wanted in expected)
        return found if op == "in" else not found
    if op == "contains":
        if isinstance(actual, list):
            return any(_same(item, expected) for item in actual)
        if isinstance(actual, str):
            return str(expected).casefold() in actual.casefold()
        return False
    raise ConditionError(f"Unknown operator {op!r}.")


def compile_test(op: str, expected: Any) -> Callable[[Any], bool]:
    """`compare(actual, op, expected)` as a function of `actual`, with the work that
    depends only on the rule done once: folding a journey tests every rule against
    every step, and a rescore folds every lead's journey. Anything unusual (an
    operator or value validation would refuse) falls back to `compare` itself, so
    the two always agree (tests/scoring/test_engine.py holds them to it)."""
    if op == "exists":
        wanted = expected in (None, True)
        return lambda actual: (actual not in (None, "", [], {})) == wanted
    if op in ("eq", "ne"):
        same = _compile_same(expected)
        if op == "eq":
            return lambda actual: actual is not None and same(actual)
        return lambda actual: actual is None or not same(actual)
    if op in NUMERIC_OPERATORS and isinstance(expected, numbers.Real) and not isinstance(expected, bool):
        check = {
            "gt": lambda number: number > expected, "gte": lambda number: number >= expected,
            "lt": lambda number: number < expected, "lte": lambda number: number <= expected,
        }[op]

        def numeric(actual: Any) -> bool:
            # Positions and counts are ints: skip _as_number's abstract-class checks for them.
            kind = type(actual)
            if kind is int:
                return check(float(actual))
            if actual is None:
                return False
            number = _as_number(actual)
            return number is not None and check(number)
        return numeric
    if op in LIST_OPERATORS and isinstance(expected, list):
        texts = frozenset(value.casefold() for value in expected if isinstance(value, str))
        others = [value for value in expected if not isinstance(value, str)]

        def found(item: Any) -> bool:
            if isinstance(item, str):
                return item.casefold() in texts
            return any(item == value for value in others)

        if op == "in":
            return lambda actual: actual is not None and (
                any(map(found, actual)) if isinstance(actual, list) else found(actual))
        return lambda actual: actual is None or not (
            any(map(found, actual)) if isinstance(actual, list) else found(actual))
    if op == "contains":
        same, needle = _compile_same(expected), str(expected).casefold()

        def contains(actual: Any) -> bool:
            if isinstance(actual, list):
                return any(map(same, actual))
            if isinstance(actual, str):
                return needle in actual.casefold()
            return False
        return contains
    return lambda actual: compare(actual, op, expected)


def _compile_same(expected: Any) -> Callable[[Any], bool]:
    """`_same(actual, expected)` as a function of `actual`."""
    if isinstance(expected, str):
        folded = expected.casefold()
        return lambda actual: actual.casefold() == folded if isinstance(actual, str) else actual == expected
    return lambda actual: actual == expected


def _same(actual: Any, expected: Any) -> bool:
    # Text compares without regard to case: "Immediate" from a form is "immediate".
    if isinstance(actual, str) and isinstance(expected, str):
        return actual.casefold() == expected.casefold()
    return actual == expected


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Real):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def validate_condition(condition: Any) -> None:
    """Raise ConditionError, in words a clinic manager understands, if invalid."""
    tests = _count_tests(condition)
    if tests > MAX_CONDITION_TESTS:
        raise ConditionError(
            f"A condition may test at most {MAX_CONDITION_TESTS} things; this one tests more. "
            "Use an \"in\" list, or fewer tests."
        )
    _validate_condition(condition, depth=1)


def _count_tests(condition: Any) -> int:
    """Tests (leaves) in a condition, counting no further than just past the limit."""
    count, stack = 0, [(condition, 1)]
    while stack and count <= MAX_CONDITION_TESTS:
        node, depth = stack.pop()
        if not isinstance(node, Mapping) or depth > MAX_CONDITION_DEPTH:
            continue  # _validate_condition explains these
        if isinstance(node.get("all"), list) or isinstance(node.get("any"), list):
            parts = node["all"] if isinstance(node.get("all"), list) else node["any"]
            stack.extend((part, depth + 1) for part in parts[: MAX_CONDITION_TESTS + 1])
        elif "not" in node:
            stack.append((node["not"], depth + 1))
        else:
            count += 1
    return count


def _validate_condition(condition: Any, *, depth: int) -> None:
    if depth > MAX_CONDITION_DEPTH:
        raise ConditionError(f"Conditions may be nested at most {MAX_CONDITION_DEPTH} levels deep.")
    if not isinstance(condition, Mapping):
        raise ConditionError("A condition must be an object such as {\"field\": ..., \"op\": ..., \"value\": ...}.")
    groups = [key for key in ("all", "any", "not") if key in condition]
    if groups:
        if len(condition) != 1:
            raise ConditionError(f"A {groups[0]!r} group must be the only key of its object.")
        key = groups[0]
        if key == "not":
            _validate_condition(condition["not"], depth=depth + 1)
            return
        parts = condition[key]
        if not isinstance(parts, list):
            raise ConditionError(f"{key!r} must be a list of conditions.")
        if not parts:
            # An empty group is a rule that cannot be told apart from no condition.
            raise ConditionError(
                'An empty "all" matches every interaction, so the rule would always apply: give it at least one test.'
                if key == "all" else
                'An empty "any" matches no interaction, so the rule would never apply: give it at least one test.'
            )
        for part in parts:
            _validate_condition(part, depth=depth + 1)
        return

    unknown = set(condition) - {"field", "op", "value"}
    if unknown:
        raise ConditionError(f"Unknown key(s) {', '.join(sorted(map(str, unknown)))}: use field, op and value.")
    name = condition.get("field")
    if not isinstance(name, str) or not name:
        raise ConditionError("A condition needs a \"field\" naming the fact it tests.")
    if len(name) > MAX_TEXT_LENGTH:
        raise ConditionError(f"A field name may be at most {MAX_TEXT_LENGTH} characters long.")
    if "\x00" in name:
        raise ConditionError("A condition's text may not contain a NUL character.")
    if name.startswith(DATA_PREFIX):
        if len(name) == len(DATA_PREFIX):
            raise ConditionError("\"data.\" must be followed by the name of a key of the interaction data.")
        kind = None
    elif name in FIELDS:
        kind = FIELDS[name].kind
    else:
        raise ConditionError(
            f"Unknown field {name!r}. Known fields: {', '.join(FIELDS)}, or data.<key>."
        )
    op = condition.get("op")
    if not isinstance(op, str) or op not in OPERATORS:
        raise ConditionError(f"Unknown operator {op!r}. Use one of: {', '.join(OPERATORS)}.")
    value = condition.get("value")
    if op == "exists":
        # `is`/isinstance, not `in`: 0 == False and 1 == True, and a number is not a yes/no.
        if value is not None and not isinstance(value, bool):
            raise ConditionError("\"exists\" takes no value, or true/false.")
        return
    if "value" not in condition:
        raise ConditionError(f"Operator {op!r} needs a \"value\" to compare with.")
    if op in NUMERIC_OPERATORS:
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise ConditionError(f"Operator {op!r} compares numbers: {value!r} is not a number.")
        if kind in {"text", "list", "bool"}:
            raise ConditionError(f"Field {name!r} is not a number, so {op!r} cannot be used with it.")
    elif op in LIST_OPERATORS:
        if not isinstance(value, list) or not value:
            raise ConditionError(f"Operator {op!r} needs a non-empty list of values.")
        if len(value) > MAX_LIST_VALUES:
            raise ConditionError(
                f"The list of {op!r} may hold at most {MAX_LIST_VALUES} values; this one has {len(value):,}."
            )
        if any(isinstance(item, (list, dict)) for item in value):
            raise ConditionError(f"The values of {op!r} must be plain values, not lists or objects.")
    elif isinstance(value, (list, dict)):
        raise ConditionError(f"Operator {op!r} compares with a single value, not a list or object.")
    values = value if isinstance(value, list) else [value]
    if any(isinstance(item, str) and "\x00" in item for item in values):
        # PostgreSQL cannot store it in JSON, and no form or tool sends one.
        raise ConditionError("A condition's text may not contain a NUL character.")
    if any(isinstance(item, str) and len(item) > MAX_TEXT_LENGTH for item in values):
        raise ConditionError(f"A value to compare with may be at most {MAX_TEXT_LENGTH} characters long.")
    if op == "contains" and kind == "number":
        raise ConditionError(f"Field {name!r} is a number: use eq, gt, gte, lt or lte.")


def validate_rule(rule: Rule) -> None:
    if rule.kind not in (BASE, BONUS):
        raise ConditionError(f"Rule kind must be {BASE!r} or {BONUS!r}.")
    if isinstance(rule.points, bool) or not isinstance(rule.points, int):
        raise ConditionError("Points must be a whole number.")
    if not -MAX_RULE_POINTS <= rule.points <= MAX_RULE_POINTS:
        raise ConditionError(f"Points must be between -{MAX_RULE_POINTS} and {MAX_RULE_POINTS}.")
    if rule.kind == BASE and rule.per_occurrence:
        raise ConditionError("A base score is given once; only bonus rules can count every occurrence.")
    validate_condition(rule.condition)


def describe_condition(condition: Mapping[str, Any]) -> str:
    """A condition in words, for the admin: 'urgency is equal to immediate'."""
    if "all" in condition:
        parts = condition["all"]
        return "always" if not parts else " and ".join(f"({describe_condition(p)})" for p in parts)
    if "any" in condition:
        parts = condition["any"]
        return "never" if not parts else " or ".join(f"({describe_condition(p)})" for p in parts)
    if "not" in condition:
        return f"not ({describe_condition(condition['not'])})"
    op = condition.get("op")
    words = f"{condition.get('field')} {OPERATORS.get(op, op)}"
    if op == "exists":
        return words if condition.get("value", True) else f"{condition.get('field')} is absent"
    value = condition.get("value")
    if isinstance(value, list):
        value = ", ".join(map(str, value))
    return f"{words} {value}"
