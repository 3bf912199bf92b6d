"""A synthetic clinic history whose true conversion mechanism is known, for proving
that rule calibration and a learned model find what the fixed points table misses.

The report's table rewards what a patient *does* (a face analysis is worth 80, each
further tool use +5, three minutes on the site +15, a high budget +20). In the
history made here, whether a lead books depends on other things, and only on them:
how urgently they want treatment, the price band of the procedures they looked at,
and whether they came back for another visit (`Mechanism`). Everything the table
rewards besides urgency and returning has no true effect at all, so the table ranks
the rules wrongly and a learner fed this history can be checked against the truth
(`rule_truth`, `rules_by_true_effect`).

Two parts, so the randomness is testable without a database:

- `history_plan` is pure: from a seed, a catalog and a date it draws the visitors,
  their visits and tool uses as rows in the import format (leads/importer), which of
  them leave their details, and each lead's outcome with its dates.
- `history_generate` writes a plan through the real paths: the rows through
  `interactions_import` (so every score is the clinic's current rules' score, as for
  a real import), then each lead's outcome through `lead_update_status`, dated after
  the lead was made. Nothing writes a score or a status directly.

The catalog is passed in (`CatalogItem`), not read here: leads sits below
calculators (DESIGN.md), so the caller (clinic/demo.py, the tests) reads it.

Everything made is recognisable: legacy session and row ids start with
`SYNTHETIC_PREFIX`, e-mails end with `SYNTHETIC_EMAIL_DOMAIN`; `history_remove`
deletes exactly that.
"""

from __future__ import annotations

import json
import math
import random
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from interactions.models import InteractionType, UserInteraction, UserSession
from leads.importer import EXTERNAL_ID_PREFIX, MAX_BATCH_SIZE, interactions_import
from leads.models import Lead, LeadStatus
from leads.rollups import rollups_forget
from leads.services import lead_update_status
from scoring.engine import URGENCY_LEVELS

SYNTHETIC_PREFIX = "synthetic-"
SYNTHETIC_EMAIL_DOMAIN = "history.example"

IMMEDIATE, SOON, FLEXIBLE = URGENCY_LEVELS
ENTRY, MID, PREMIUM = "entry", "mid", "premium"
PRICE_BANDS = (ENTRY, MID, PREMIUM)
# A procedure's band by its lowest price: up to £150 is what people try on a whim
# (peels, botox, laser hair removal); from £800 it is a considered purchase (HIFU,
# thread lifts, surgery).
ENTRY_MAX_PRICE = Decimal("150")
PREMIUM_MIN_PRICE = Decimal("800")
# The default "High engagement time" rule's threshold: the trait it could reward.
LONG_ENGAGEMENT_SECONDS = 180


@dataclass(frozen=True)
class Mechanism:
    """The true model of a lead's conversion (reaching "booked"): its log-odds are
    the intercept plus one coefficient for each trait the lead has. Urgency is against
    flexible, the price band against mid-priced. The last six are the things the
    report's table rewards: they are 0 by default (no true effect) and exist so a test
    can give one an effect and see a learner find it."""

    intercept: float = -1.2
    urgency_immediate: float = 1.6
    urgency_soon: float = 0.5
    entry_price: float = 0.6
    premium_price: float = -1.0
    returning: float = 1.3
    face_analysis: float = 0.0
    high_budget: float = 0.0
    long_engagement: float = 0.0
    further_tool_use: float = 0.0  # per tool use after the first
    multiple_procedures: float = 0.0
    booking_request: float = 0.0


@dataclass(frozen=True)
class Traits:
    """What the mechanism reads about one visitor (all of it also in their rows, but
    urgency, which only the AI recommender asks: `urgency_stated`)."""

    urgency: str
    price_band: str
    visit_count: int
    face_analysis: bool
    budget_level: str
    engagement_seconds: int
    tool_uses: int
    procedure_count: int
    booking_request: bool
    urgency_stated: bool


def conversion_log_odds(mechanism: Mechanism, traits: Traits) -> float:
    """The true log-odds that a lead with these traits converts."""
    m = mechanism
    return (
        m.intercept
        + {IMMEDIATE: m.urgency_immediate, SOON: m.urgency_soon}.get(traits.urgency, 0.0)
        + {ENTRY: m.entry_price, PREMIUM: m.premium_price}.get(traits.price_band, 0.0)
        + (m.returning if traits.visit_count >= 2 else 0.0)
        + (m.face_analysis if traits.face_analysis else 0.0)
        + (m.high_budget if traits.budget_level == "high" else 0.0)
        + (m.long_engagement if traits.engagement_seconds >= LONG_ENGAGEMENT_SECONDS else 0.0)
        + m.further_tool_use * max(traits.tool_uses - 1, 0)
        + (m.multiple_procedures if traits.procedure_count >= 2 else 0.0)
        + (m.booking_request if traits.booking_request else 0.0)
    )


def conversion_probability(mechanism: Mechanism, traits: Traits) -> float:
    """The true probability that a lead with these traits converts (books)."""
    return 1.0 / (1.0 + math.exp(-conversion_log_odds(mechanism, traits)))


def rule_truth(mechanism: Mechanism) -> dict[str, float]:
    """Each default scoring rule's true effect on the log-odds of conversion when its
    condition holds, other things equal (0: the rule should not matter).

    The tool bases carry no effect of their own: the AI recommender only reveals
    urgency, which "Immediate urgency" names. The price band, a true cause, has no
    default rule: a learner on rule indicators cannot see it, a model on the
    interactions' procedures can. "Immediate urgency" is observed only for visitors
    who used the recommender (most, not all), so its observed effect is diluted."""
    return {
        "AI recommendation": 0.0,
        "Face analysis": mechanism.face_analysis,
        "Cost calculator": 0.0,
        "Appointment booking": mechanism.booking_request,
        "Explicit enquiry": 0.0,
        "Multiple procedures": mechanism.multiple_procedures,
        "High budget": mechanism.high_budget,
        "Immediate urgency": mechanism.urgency_immediate,
        "High engagement time": mechanism.long_engagement,
        "Each further interaction": mechanism.further_tool_use,
        "Returning visitor": mechanism.returning,
    }


def rules_by_true_effect(mechanism: Mechanism) -> list[str]:
    """The default rules, the truly strongest first (ties by name, so the order is
    stable): with the default mechanism "Returning visitor" and "Immediate urgency"
    lead and every other rule (face analysis, engagement, further interactions,
    budget, ...) follows at 0."""
    truth = rule_truth(mechanism)
    return sorted(truth, key=lambda name: (-truth[name], name))


@dataclass(frozen=True)
class CatalogItem:
    """One procedure of the clinic's catalog, as the generator needs it."""

    slug: str
    name: str
    category: str
    price_min: Decimal
    price_max: Decimal
    concerns: tuple[str, ...]

    @property
    def price_band(self) -> str:
        if self.price_min <= ENTRY_MAX_PRICE:
            return ENTRY
        return PREMIUM if self.price_min >= PREMIUM_MIN_PRICE else MID


@dataclass(frozen=True)
class PlannedStatus:
    status: str
    at: datetime
    value: Decimal | None = None


@dataclass(frozen=True)
class PlannedLead:
    """A visitor who leaves their details, their truth, and what then happens to them
    (only the steps dated before the plan's `now`)."""

    session_id: str
    email: str
    created_at: datetime
    traits: Traits
    probability: float
    converts: bool
    statuses: tuple[PlannedStatus, ...]


@dataclass(frozen=True)
class HistoryPlan:
    """A drawn history before it is written: its rows in the import format, in time
    order, and the leads they will make with their truth and planned outcomes."""

    mechanism: Mechanism
    rows: tuple[dict[str, Any], ...]
    leads: tuple[PlannedLead, ...]
    visitors: int


@dataclass(frozen=True)
class SyntheticHistory:
    """What history_generate made, with the truth: the mechanism, each lead's true
    conversion probability and traits by lead id. Of the leads, `converted` reached
    booked (won, still booked, or lost after booking), `lost` were lost before
    booking, `open` are still being worked (recent, or stale)."""

    mechanism: Mechanism
    probabilities: Mapping[int, float]
    traits: Mapping[int, Traits]
    visitors: int
    interactions: int
    leads: int
    converted: int
    lost: int
    open: int
    rejected: int = 0
    rejections: tuple[str, ...] = ()


# (weight, utm_source, utm_medium, utm_campaign, referrer, landing page)
CHANNELS = [
    (28, "google", "cpc", "botox-spring", "https://www.google.com/", "/enhanced-ai/"),
    (12, "google", "cpc", "lip-filler-summer", "https://www.google.com/", "/enhanced-cost/"),
    (14, "google", "organic", "", "https://www.google.com/", "/"),
    (14, "facebook", "paid_social", "summer-glow", "https://www.facebook.com/", "/enhanced-face/"),
    (10, "instagram", "social", "", "https://www.instagram.com/", "/"),
    (6, "tiktok", "paid_social", "glow-up", "https://www.tiktok.com/", "/enhanced-face/"),
    (5, "newsletter", "email", "monthly-news", "", "/enhanced-cost/"),
    (11, "", "", "", "", "/"),
]
# When people browse (local hours, weights): evenings and lunch breaks.
HOURS = [(7, 2), (8, 3), (9, 4), (10, 5), (11, 5), (12, 8), (13, 7), (14, 5), (15, 5), (16, 5), (17, 6),
         (18, 8), (19, 10), (20, 11), (21, 10), (22, 6), (23, 3)]
# What the face analysis finds (calculators.vocabulary concern keys): skin, whatever
# the visitor came for.
FACE_FINDINGS = [
    ["pigmentation", "uneven_tone"], ["fine_lines"], ["redness", "enlarged_pores"], ["dark_circles", "fine_lines"],
    ["oiliness", "texture"], ["dullness"], ["acne", "enlarged_pores"],
]
SEARCHES = ["botox price", "lip filler", "pigmentation", "acne scars", "laser hair removal", "jawline", "peel",
            "facelift cost", "hifu", "finance"]
URGENCY_PHRASES = {IMMEDIATE: "as soon as possible", SOON: "in the next couple of months", FLEXIBLE: "no rush"}
FIRST_NAMES = ["Emma", "Olivia", "Amelia", "Isla", "Ava", "Mia", "Grace", "Sophie", "Chloe", "Lily", "Hannah",
               "Aisha", "Zara", "Leah", "Ruby", "Ella", "Freya", "Maya", "Nadia", "Laura", "James", "Daniel"]
LAST_NAMES = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Patel", "Khan", "Evans", "Thomas",
              "Roberts", "Walker", "Wright", "Hughes", "Green", "Hall", "Clarke", "Ali", "Murphy", "Lewis"]

# Shares of visitors; each is drawn independently of the others (so no trait stands
# in for another), and whether a visitor leaves their details depends on none of
# them: the mechanism is about which leads convert.
URGENCY_SHARES = {IMMEDIATE: 20, SOON: 35, FLEXIBLE: 45}
BAND_SHARES = {ENTRY: 40, MID: 40, PREMIUM: 20}
BUDGET_SHARES = {"low": 30, "medium": 45, "high": 25}
VISIT_COUNTS = {1: 58, 2: 24, 3: 12, 4: 6}
TOOL_USES = {1: 35, 2: 30, 3: 18, 4: 10, 5: 7}
FACE_ANALYSIS_SHARE = 0.35
AI_RECOMMENDER_SHARE = 0.8
MULTIPLE_PROCEDURES_SHARE = 0.3
# Four in ten visitors leave their details: far more than a real site's few per cent,
# so that a few thousand visitors give the thousand-odd leads with an outcome that
# calibration needs, in seconds.
LEAD_SHARE = 0.4
BOOKING_LEAD_SHARE = 0.3


def _pick(rnd: random.Random, shares: Mapping[Any, int]) -> Any:
    return rnd.choices(list(shares), list(shares.values()))[0]


def _iso(moment: datetime) -> str:
    # In UTC, so the rows' timestamps sort as text in time order.
    return moment.astimezone(UTC).isoformat()


def history_session_id(seed: int, n: int) -> str:
    return f"{SYNTHETIC_PREFIX}{seed}-{n}"


class _Planner:
    def __init__(self, *, catalog: Sequence[CatalogItem], seed: int, days: int, now: datetime, mechanism: Mechanism):
        self.rnd = random.Random(seed)
        self.seed = seed
        self.days = days
        self.now = now
        self.mechanism = mechanism
        self.bands = {band: [item for item in catalog if item.price_band == band] for band in PRICE_BANDS}
        missing = [band for band, items in self.bands.items() if not items]
        if missing:
            raise ValueError(f"The catalog has no procedure in the price band(s) {', '.join(missing)}.")
        self.zone = timezone.get_default_timezone()
        self.rows: list[dict[str, Any]] = []
        self.leads: list[PlannedLead] = []

    def visitor(self, n: int) -> None:
        """Draw one visitor: who they are, their visits' rows and, for some, the row
        that makes them a lead, with the truth and the outcome of that lead."""
        rnd = self.rnd
        session_id = history_session_id(self.seed, n)
        channel = rnd.choices(CHANNELS, [c[0] for c in CHANNELS])[0]
        urgency, band, budget = _pick(rnd, URGENCY_SHARES), _pick(rnd, BAND_SHARES), _pick(rnd, BUDGET_SHARES)
        procedures = rnd.sample(self.bands[band], k=2 if rnd.random() < MULTIPLE_PROCEDURES_SHARE else 1)
        uses_face, uses_ai = rnd.random() < FACE_ANALYSIS_SHARE, rnd.random() < AI_RECOMMENDER_SHARE
        tools = ([InteractionType.AI_RECOMMENDATION] if uses_ai else []) + (
            [InteractionType.FACE_ANALYSIS] if uses_face else [])
        tools += rnd.choices([InteractionType.COST_CALCULATOR, *tools], k=max(_pick(rnd, TOOL_USES) - len(tools), 0))
        rnd.shuffle(tools)
        visits = self._visit_starts(_pick(rnd, VISIT_COUNTS))
        rows = self._journey(session_id, channel, visits, tools, procedures=procedures, urgency=urgency, budget=budget)
        self.rows.extend(rows)
        if rnd.random() >= LEAD_SHARE:
            return
        booking = rnd.random() < BOOKING_LEAD_SHARE
        contact_row = self._contact_row(n, session_id, rows=rows, booking=booking, procedure=procedures[0])
        self.rows.append(contact_row)
        traits = Traits(
            urgency=urgency, price_band=band, visit_count=len(visits), face_analysis=uses_face, budget_level=budget,
            engagement_seconds=sum(row["engagement_seconds"] for row in rows), tool_uses=len(tools) + booking,
            procedure_count=len(procedures), booking_request=booking, urgency_stated=uses_ai,
        )
        probability = conversion_probability(self.mechanism, traits)
        converts = rnd.random() < probability
        created_at = datetime.fromisoformat(contact_row["timestamp"])
        self.leads.append(PlannedLead(
            session_id=session_id, email=contact_row["email"], created_at=created_at, traits=traits,
            probability=probability, converts=converts, statuses=self._outcome(created_at, converts, procedures[0]),
        ))

    def _journey(self, session_id: str, channel, visits: list[datetime], tools: list[str], *,
                 procedures: list[CatalogItem], urgency: str, budget: str) -> list[dict[str, Any]]:
        """The visitor's rows: the tool uses dealt to the visits in order, a page view
        for a visit with none, a search or page view before some; minutes apart."""
        rnd = self.rnd
        _, source, medium, campaign, referrer, landing = channel
        per_visit: list[list[str]] = [[] for _ in visits]
        for i, kind in enumerate(tools):
            per_visit[min(i * len(visits) // len(tools), len(visits) - 1)].append(kind)
        for events in per_visit:
            if not events:
                events.append(InteractionType.PAGE_ENGAGEMENT)
            if rnd.random() < 0.3:
                events.insert(0, rnd.choice([InteractionType.SEARCH, InteractionType.PAGE_ENGAGEMENT]))
        # Their time on the site in all is a habit of their own, unrelated to the rest
        # (to the number of visits and tool uses too), shared out between the events.
        total_seconds = rnd.randint(40, 420)
        shares = [rnd.uniform(0.5, 1.5) for events in per_visit for _ in events]
        seconds = iter([round(total_seconds * share / sum(shares)) for share in shares])
        rows = []
        for start, events in zip(visits, per_visit, strict=True):
            at = start
            for kind in events:
                at += timedelta(seconds=rnd.randint(40, 600))
                rows.append({
                    "id": f"{session_id}-{len(rows)}", "session_id": session_id, "timestamp": _iso(at),
                    "engagement_seconds": next(seconds), **self._tool_data(kind, procedures, urgency, budget),
                })
        rows[0].update({
            "landing_page": landing + (f"?utm_source={source}&utm_medium={medium}" if source else ""),
            "referrer": referrer, "utm_source": source, "utm_medium": medium, "utm_campaign": campaign,
        })
        return rows

    def _contact_row(self, n: int, session_id: str, *, rows: list[dict[str, Any]], booking: bool,
                     procedure: CatalogItem) -> dict[str, Any]:
        """The row that makes the visitor a lead, minutes after their last one: a
        booking request or the contact form, with their consent."""
        rnd = self.rnd
        at = datetime.fromisoformat(rows[-1]["timestamp"]) + timedelta(seconds=rnd.randint(60, 300))
        first, last = rnd.choice(FIRST_NAMES), rnd.choice(LAST_NAMES)
        if booking:
            data = {"type": InteractionType.APPOINTMENT_BOOKING, "page_url": "/book/", "procedures": [procedure.slug]}
        else:
            data = {"type": InteractionType.CONTACT_FORM, "page_url": "/contact/"}
        return {
            "id": f"{session_id}-{len(rows)}", "session_id": session_id,
            "timestamp": _iso(at), **data, "first_name": first, "last_name": last,
            "email": f"{first}.{last}.{self.seed}-{n}@{SYNTHETIC_EMAIL_DOMAIN}".lower(), "consent": True,
        }

    def _visit_starts(self, count: int) -> list[datetime]:
        """The visits' start times: the first on a day of the period at a browsing hour,
        each later one days after (far more than VISIT_GAP_SECONDS), none in the future."""
        rnd = self.rnd
        day = (self.now - timedelta(days=rnd.uniform(0, self.days))).astimezone(self.zone)
        hour = rnd.choices([h for h, _ in HOURS], [w for _, w in HOURS])[0]
        start = day.replace(hour=hour, minute=rnd.randint(0, 59), second=rnd.randint(0, 59), microsecond=0)
        starts = [start]
        for _ in range(count - 1):
            gap = timedelta(days=rnd.uniform(1, 21), hours=rnd.uniform(-6, 6))
            starts.append(starts[-1] + max(gap, timedelta(seconds=settings.VISIT_GAP_SECONDS * 4)))
        # A visit must end before now (a visit lasts well under two hours).
        kept = [moment for moment in starts if moment < self.now - timedelta(hours=2)]
        if not kept:
            kept = [self.now - timedelta(hours=rnd.uniform(2, 6))]
        return kept

    def _tool_data(self, kind: str, procedures: list[CatalogItem], urgency: str, budget: str) -> dict[str, Any]:
        """One tool use's row, shaped as the public tool writes its data."""
        rnd = self.rnd
        slugs = [item.slug for item in procedures]
        categories = sorted({item.category for item in procedures})
        concerns = list(dict.fromkeys(c for item in procedures for c in item.concerns[:2]))
        if kind == InteractionType.AI_RECOMMENDATION:
            data = {"type": kind, "page_url": "/enhanced-ai/", "procedures": slugs, "concerns": concerns,
                    "urgency": urgency, "query": f"{procedures[0].name.lower()} {URGENCY_PHRASES[urgency]}",
                    "data": {"categories": categories}}
            if rnd.random() < 0.5:
                data["budget_level"] = budget
            return data
        if kind == InteractionType.COST_CALCULATOR:
            low = sum(item.price_min for item in procedures)
            high = sum(item.price_max for item in procedures)
            return {"type": kind, "page_url": "/enhanced-cost/", "procedures": slugs, "budget_level": budget,
                    "data": {"categories": categories, "total_min": float(low), "total_max": float(high)}}
        if kind == InteractionType.FACE_ANALYSIS:
            return {"type": kind, "page_url": "/enhanced-face/", "concerns": rnd.choice(FACE_FINDINGS)}
        if kind == InteractionType.SEARCH:
            return {"type": kind, "page_url": "/", "query": rnd.choice(SEARCHES)}
        return {"type": kind, "page_url": rnd.choice(["/", "/treatments/", "/about/"]),
                "data": {"scroll_depth": rnd.randint(20, 100)}}

    def _outcome(self, created_at: datetime, converts: bool, procedure: CatalogItem) -> tuple[PlannedStatus, ...]:
        """What front desk does with the lead: a converting lead is booked within two
        weeks, then mostly won (some cancel: lost after booking, still converted);
        the others are mostly lost within six weeks, some left at new or contacted
        (stale once old). Steps after now have not happened yet."""
        rnd = self.rnd
        value = ((procedure.price_min + procedure.price_max) / 2).quantize(Decimal("1"), ROUND_HALF_UP)
        at = created_at + timedelta(hours=rnd.uniform(2, 72))
        steps = [PlannedStatus(LeadStatus.CONTACTED, at)] if rnd.random() < 0.9 else []
        if converts:
            if rnd.random() < 0.5:
                at += timedelta(days=rnd.uniform(0.5, 4))
                steps.append(PlannedStatus(LeadStatus.QUALIFIED, at))
            at = max(at, created_at + timedelta(days=rnd.uniform(2, 14)))
            steps.append(PlannedStatus(LeadStatus.BOOKED, at, value))
            if rnd.random() < 0.8:
                steps.append(PlannedStatus(LeadStatus.WON, at + timedelta(days=rnd.uniform(7, 40)), value))
            else:
                steps.append(PlannedStatus(LeadStatus.LOST, at + timedelta(days=rnd.uniform(3, 20))))
        elif rnd.random() < 0.75:
            if rnd.random() < 0.3:
                at += timedelta(days=rnd.uniform(0.5, 4))
                steps.append(PlannedStatus(LeadStatus.QUALIFIED, at))
            steps.append(PlannedStatus(LeadStatus.LOST, max(at, created_at + timedelta(days=rnd.uniform(5, 45)))))
        return tuple(step for step in steps if step.at < self.now)


def history_plan(
    *,
    catalog: Sequence[CatalogItem],
    visitors: int,
    days: int = 365,
    seed: int = 2026,
    now: datetime,
    mechanism: Mechanism | None = None,
) -> HistoryPlan:
    """Draw a history of `visitors` visitors over the `days` before `now`: their rows
    in the import format, in time order, and the leads among them with their truth
    and planned outcomes. Pure: the same arguments give the same plan."""
    mechanism = mechanism or Mechanism()
    planner = _Planner(catalog=catalog, seed=seed, days=days, now=now, mechanism=mechanism)
    for n in range(visitors):
        planner.visitor(n)
    # In time order, as an export is: each row is scored on the journey before it.
    rows = sorted(planner.rows, key=lambda row: (row["timestamp"], row["id"]))
    return HistoryPlan(mechanism=mechanism, rows=tuple(rows), leads=tuple(planner.leads), visitors=visitors)


def history_generate(
    *,
    catalog: Sequence[CatalogItem],
    visitors: int,
    days: int = 365,
    seed: int = 2026,
    now: datetime | None = None,
    mechanism: Mechanism | None = None,
) -> SyntheticHistory:
    """Plan a history (history_plan) and write it: the rows through the importer,
    scored with the clinic's current rules; then each lead's outcome through
    lead_update_status at its planned dates. Run it on a database without this seed's
    history (history_remove); rows already there would be skipped by the importer."""
    plan = history_plan(catalog=catalog, visitors=visitors, days=days, seed=seed,
                        now=now or timezone.now(), mechanism=mechanism)
    rejections: list[str] = []
    summary = _import_rows(plan.rows, rejections)
    lead_ids = _lead_ids([lead.email for lead in plan.leads])
    _apply_outcomes(plan.leads, lead_ids)
    reached = Counter(_final_outcome(lead) for lead in plan.leads if lead.email in lead_ids)
    return SyntheticHistory(
        mechanism=plan.mechanism,
        probabilities={lead_ids[lead.email]: lead.probability for lead in plan.leads if lead.email in lead_ids},
        traits={lead_ids[lead.email]: lead.traits for lead in plan.leads if lead.email in lead_ids},
        visitors=plan.visitors,
        interactions=summary.imported,
        leads=len(lead_ids),
        converted=reached["converted"],
        lost=reached["lost"],
        open=reached["open"],
        rejected=summary.rejected,
        rejections=tuple(rejections),
    )


def _import_rows(rows: Sequence[Mapping[str, Any]], rejections: list[str]):
    # The importer reads a file (it streams exports larger than memory): a temporary
    # JSON Lines file it is.
    with tempfile.TemporaryDirectory(prefix="synthetic-history-") as directory:
        path = Path(directory) / "history.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row) + "\n")
        # One batch as large as the importer allows: a visitor whose visits span two
        # batches is made a lead through the slower service path.
        return interactions_import(
            path=path, file_format="jsonl", batch_size=MAX_BATCH_SIZE,
            on_rejected=lambda rejection: rejections.append(f"{rejection.row_id}: {rejection.reason}"),
        )


def _chunks(items: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _lead_ids(emails: Sequence[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for chunk in _chunks(emails):
        ids.update(Lead.objects.filter(email__in=chunk).values_list("email", "pk"))
    return ids


@transaction.atomic
def _apply_outcomes(leads: Sequence[PlannedLead], lead_ids: Mapping[str, int]) -> None:
    # One transaction: on SQLite a commit per status change was most of the time.
    worked = [lead for lead in leads if lead.statuses and lead.email in lead_ids]
    for chunk in _chunks(worked):
        stored = Lead.objects.in_bulk([lead_ids[lead.email] for lead in chunk])
        for planned in chunk:
            lead = stored[lead_ids[planned.email]]
            for step in planned.statuses:
                lead_update_status(lead=lead, status=step.status, value=step.value, by=None, at=step.at)


def _final_outcome(lead: PlannedLead) -> str:
    statuses = [step.status for step in lead.statuses]
    if LeadStatus.BOOKED in statuses:
        return "converted"
    return "lost" if LeadStatus.LOST in statuses else "open"


def history_present() -> bool:
    """Whether a synthetic history is in the database (any seed)."""
    return UserInteraction.objects.filter(external_id__startswith=EXTERNAL_ID_PREFIX + SYNTHETIC_PREFIX).exists()


@transaction.atomic
def history_remove() -> int:
    """Delete every synthetic history: its leads, then its visitors (their interactions
    go with them). Returns the number of visitors deleted."""
    Lead.objects.filter(email__endswith="@" + SYNTHETIC_EMAIL_DOMAIN).delete()
    sessions = UserSession.objects.filter(
        pk__in=UserInteraction.objects.filter(
            external_id__startswith=EXTERNAL_ID_PREFIX + SYNTHETIC_PREFIX).values("session_id")
    )
    deleted = sessions.count()
    sessions.delete()
    # Their days were counted in the dashboard's daily roll-ups.
    rollups_forget()
    return deleted
