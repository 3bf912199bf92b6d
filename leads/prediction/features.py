"""What the conversion model knows about a lead at a moment: its journey's facts,
read for many leads at once from a few streamed queries (never a query per lead).

The moment matters. A lead is described by what was known then (`cutoff`): for
training, its outcome moment (the first move to booked, won or lost; for an open,
stale lead, the as-of), so nothing that happened after the outcome leaks in; for a
prediction, now. Interactions after the cutoff are not read.

One fact is measured at the enquiry (the lead's creation) instead of the cutoff:
recency. Measured at the outcome moment it would give the label away (a lead booked
in a week is cut off a week in; a stale one sixty days in), so it is the days since
the patient's previous visit when they enquired.

Prices: the interactions name procedures by slug, and the catalog's prices live in
calculators, which leads may not import (DESIGN.md). The caller passes them
(`prices`: slug -> lowest price) and the trained model keeps the ones it learned with.
No free text is read: a search's or the recommender's query never reaches a feature.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from interactions.models import InteractionType, UserInteraction
from leads.models import Lead, LeadScoreChange
from scoring.engine import BUDGET_LEVELS, URGENCY_LEVELS

CHUNK_SIZE = 2000
TOOLS = (InteractionType.AI_RECOMMENDATION, InteractionType.FACE_ANALYSIS, InteractionType.COST_CALCULATOR,
         InteractionType.APPOINTMENT_BOOKING)
# What the patient did. Staff adjustments and experiment bookkeeping are not the
# patient's behaviour (an adjustment is staff's judgement of the outcome to come).
COUNTED = (*TOOLS, InteractionType.SEARCH, InteractionType.PAGE_ENGAGEMENT, InteractionType.CONTACT_FORM)
NOT_STATED = "not stated"
DIRECT = "direct"
DAY_PARTS = ((0, "night"), (7, "morning"), (12, "afternoon"), (18, "evening"))
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Categories as staff read them, "<words> <value>".
CATEGORY_WORDS = {
    "urgency": "urgency:",
    "budget": "budget:",
    "first touch": "first came from",
    "lead source": "became a lead through",
    "first visit time": "first visit in the",
    "first visit day": "first visit on a",
}
COUNTED_WORDS = {
    "visits": ("visit", "visits"),
    "tool uses": ("tool use", "tool uses"),
    "procedures": ("procedure looked at", "procedures looked at"),
}

@dataclass
class _Journey:
    """One lead's journey up to its cutoff, folded one interaction at a time."""

    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    engagement_seconds: int = 0
    visits: int = 0
    last_seen: dict[int, datetime] = field(default_factory=dict)
    urgency: int | None = None
    budget: int | None = None
    procedures: set[str] = field(default_factory=set)
    first_at: datetime | None = None
    # Before the enquiry: the start of the visit it is in, and the last moment before that visit.
    enquiry_visit_start: datetime | None = None
    previous_visit_end: datetime | None = None
    last_before_enquiry: datetime | None = None


def rule_scores_at(cutoffs: Mapping[int, datetime]) -> dict[int, int]:
    """Each lead's rule score as staff saw it at its cutoff (leads.score_history's
    as-of, for many leads in one query a chunk): the last recorded change at or
    before then, 0 if none was yet; a lead with no recorded history at all (made
    before the history was kept) has its current score."""
    scores: dict[int, int] = {}
    ids = list(cutoffs)
    for chunk in _chunks(ids):
        with_history = set()
        rows = (LeadScoreChange.objects.filter(lead_id__in=chunk).order_by("lead_id", "at", "pk")
                .values_list("lead_id", "at", "score"))
        for lead_id, at, score in rows.iterator(chunk_size=5000):
            with_history.add(lead_id)
            if at <= cutoffs[lead_id]:
                scores[lead_id] = score
            else:
                scores.setdefault(lead_id, 0)
        current = dict(Lead.objects.filter(pk__in=[i for i in chunk if i not in with_history])
                       .values_list("pk", "lead_score"))
        scores.update(current)
    return scores


def lead_features(*, cutoffs: Mapping[int, datetime], prices: Mapping[str, float]) -> dict[int, dict]:
    """The features of each lead (by id) from its journey up to its cutoff, as the
    model's pipeline takes them: numbers, and text for categories. Two queries per
    chunk of leads: the leads' own columns, and their interactions streamed in order."""
    features: dict[int, dict] = {}
    gap = timedelta(seconds=settings.VISIT_GAP_SECONDS)
    for chunk in _chunks(list(cutoffs)):
        leads = {pk: (created_at, utm_source, source) for pk, created_at, utm_source, source in
                 Lead.objects.filter(pk__in=chunk).values_list("pk", "created_at", "utm_source", "source")}
        journeys: dict[int, _Journey] = {pk: _Journey() for pk in leads}
        for lead_id, session_id, kind, at, seconds, urgency, budget, procedures in _interaction_rows(chunk):
            if lead_id not in journeys or at > cutoffs[lead_id]:
                continue
            _fold(journeys[lead_id], leads[lead_id][0], gap, session_id, kind, at, seconds, urgency, budget,
                  procedures)
        for pk, (created_at, utm_source, source) in leads.items():
            features[pk] = _describe(journeys[pk], created_at=created_at, utm_source=utm_source, source=source,
                                     prices=prices)
    return features


def _interaction_rows(lead_ids: Sequence[int]) -> Iterable[tuple]:
    """The leads' interactions in order, only the columns the features read: the
    JSON keys are picked out in the database, so the rest of the data (free text
    among it) never leaves it."""
    return (UserInteraction.objects.filter(lead_id__in=lead_ids, interaction_type__in=COUNTED)
            .order_by("lead_id", "created_at", "pk")
            .values_list("lead_id", "session_id", "interaction_type", "created_at", "engagement_seconds",
                         "data__urgency", "data__budget_level", "data__procedures")
            .iterator(chunk_size=5000))


def _fold(journey: _Journey, enquired_at: datetime, gap: timedelta, session_id: int, kind: str, at: datetime,
          seconds: int, urgency, budget, procedures) -> None:
    journey.counts[kind] += 1
    journey.engagement_seconds += seconds or 0
    journey.first_at = journey.first_at or at
    # Visits counted from silences, as leads.score_history rebuilds a past moment's.
    previous = journey.last_seen.get(session_id)
    new_visit = previous is None or at - previous >= gap
    if new_visit:
        journey.visits += 1
    journey.last_seen[session_id] = at
    if at <= enquired_at:
        if new_visit or journey.enquiry_visit_start is None:
            journey.previous_visit_end = journey.last_before_enquiry
            journey.enquiry_visit_start = at
        journey.last_before_enquiry = at
    if urgency in URGENCY_LEVELS:
        # Most urgent stated: immediate is 0.
        rank = URGENCY_LEVELS.index(urgency)
        journey.urgency = rank if journey.urgency is None else min(journey.urgency, rank)
    if budget in BUDGET_LEVELS:
        rank = BUDGET_LEVELS.index(budget)
        journey.budget = rank if journey.budget is None else max(journey.budget, rank)
    if isinstance(procedures, list):
        journey.procedures.update(slug for slug in procedures if isinstance(slug, str))


def _describe(journey: _Journey, *, created_at: datetime, utm_source: str, source: str,
              prices: Mapping[str, float]) -> dict:
    known = [float(prices[slug]) for slug in journey.procedures if slug in prices]
    first = timezone.localtime(journey.first_at or created_at)
    recency = 0.0
    if journey.previous_visit_end is not None and journey.enquiry_visit_start is not None:
        recency = (journey.enquiry_visit_start - journey.previous_visit_end).total_seconds() / 86400
    tools = sum(journey.counts[kind] for kind in TOOLS)
    return {
        **{f"uses of {kind}": journey.counts[kind] for kind in COUNTED},
        "tool uses": tools,
        # Logs: a tenth more time or price matters as much at any size.
        "engagement": math.log1p(journey.engagement_seconds),
        "visits": journey.visits,
        "urgency": URGENCY_LEVELS[journey.urgency] if journey.urgency is not None else NOT_STATED,
        "budget": BUDGET_LEVELS[journey.budget] if journey.budget is not None else NOT_STATED,
        "procedures": len(journey.procedures),
        "price": math.log(sum(known) / len(known)) if known else 0.0,
        "price unknown": 0 if known else 1,
        "days since previous visit": round(recency, 2),
        "first touch": (utm_source or DIRECT).lower(),
        "lead source": source,
        "first visit time": next(part for hour, part in reversed(DAY_PARTS) if first.hour >= hour),
        "first visit day": WEEKDAYS[first.weekday()],
    }


def feature_in_words(name: str, value) -> str:
    """A feature and its value as staff read them: "urgency: immediate", "2 visits",
    "AI recommendation: 3 times", "no page engagement"."""
    if isinstance(value, str):
        return f"{CATEGORY_WORDS.get(name, name + ':')} {value.replace('_', ' ')}"
    if name.startswith("uses of "):
        kind = name.removeprefix("uses of ")
        label = InteractionType(kind).label if kind in InteractionType.values else kind
        return f"{label}: {_times(value)}" if int(value) else f"no {_lower_first(label)}"
    if name == "engagement":
        return f"time on the site: {_duration(round(math.expm1(value)))}"
    if name == "price":
        return f"procedures looked at cost £{math.exp(value):,.0f} on average" if value else "no priced procedure"
    if name == "price unknown":
        return "no priced procedure looked at" if value else "a priced procedure looked at"
    if name == "days since previous visit":
        return f"enquired {value:g} days after their previous visit" if value else "enquired on their first visit"
    if name in COUNTED_WORDS:
        one, many = COUNTED_WORDS[name]
        return f"{int(value)} {one if int(value) == 1 else many}"
    return f"{name}: {value:g}"


def _lower_first(label: str) -> str:
    """"Page engagement" -> "page engagement"; an acronym ("AI recommendation") stays."""
    return label if label[1:2].isupper() else label[:1].lower() + label[1:]


def _times(count) -> str:
    count = int(count)
    return "once" if count == 1 else f"{count} times"


def _duration(seconds: int) -> str:
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def _chunks(items: Sequence, size: int = CHUNK_SIZE):
    for start in range(0, len(items), size):
        yield items[start:start + size]
