"""Analytics reads: the figures the dashboard, its CSV and the API all show, so
they agree everywhere. Each selector aggregates in the database with a fixed
number of queries, whatever the data size.

A period is [start, end), from local midnight to local midnight (`period_for_days`):
sessions, interactions and leads count in it by their creation time, campaign spend
by its day.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cached_property

from django.db import connection
from django.db.models import Count, ExpressionWrapper, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from interactions.models import EngagementLevel, InteractionType, UserInteraction, UserSession
from leads.models import CampaignCost, Lead, LeadStatus
from leads.rollups import DailyCounts, daily_counts

# Pipeline order: a lead at a later stage has passed the earlier ones.
PIPELINE = LeadStatus.pipeline()
TOOLS = [
    InteractionType.AI_RECOMMENDATION,
    InteractionType.FACE_ANALYSIS,
    InteractionType.COST_CALCULATOR,
    InteractionType.APPOINTMENT_BOOKING,
]


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    @property
    def days(self) -> int:
        return max(1, round((self.end - self.start).total_seconds() / 86400))

    def previous(self) -> "Period":
        return Period(start=self.start - (self.end - self.start), end=self.start)

    # Cached: the selectors test every roll-up row against them (thousands of rows for a
    # long period), and converting to local time each time cost more than the queries.
    @cached_property
    def first_day(self) -> date:
        return timezone.localdate(self.start)

    @cached_property
    def last_day(self) -> date:
        return timezone.localdate(self.end) - timedelta(days=1)

    def daily_counts(self) -> DailyCounts:
        """The day-by-day counts of this period and the one before: what the dashboard's
        selectors share (leads.rollups)."""
        return daily_counts(first=self.previous().first_day, last=self.last_day)


def period_for_days(first: date, last: date) -> Period:
    """The period covering the days first..last inclusive, in the clinic's time zone."""
    def midnight(day: date) -> datetime:
        return timezone.make_aware(datetime.combine(day, time.min))

    return Period(start=midnight(first), end=midnight(last + timedelta(days=1)))


def _rate(part: int | Decimal, whole: int | Decimal) -> float | None:
    return round(float(part) / float(whole) * 100, 1) if whole else None


def _later(stage: str) -> list[str]:
    return PIPELINE[PIPELINE.index(stage):]


def _reached(stage: str) -> Q:
    """Leads that are at this stage or beyond, or were once (and were lost, or moved
    back): their status, or the furthest stage their history reached, which the lead
    row keeps (Lead.furthest_stage), so no count joins the history."""
    return Q(status__in=_later(stage)) | Q(furthest_stage__in=_later(stage))


def _leads(*, filter: Q | None = None) -> Count:
    """Leads of a period counted by their creation time, a column every lead has, not
    by their id: every column the period's figures read is then in one index
    (lead_created_figures_idx) and PostgreSQL counts from it without reading the rows."""
    return Count("created_at", filter=filter)


def _daily(period: Period, daily: DailyCounts | None) -> DailyCounts:
    if daily is not None and daily.covers(period.first_day, period.last_day):
        return daily
    return daily_counts(first=period.first_day, last=period.last_day)


def _in(period: Period, day: date) -> bool:
    return period.first_day <= day <= period.last_day


@dataclass(frozen=True)
class ToolRow:
    interaction_type: str
    label: str
    interactions: int
    converted: int

    @property
    def conversion_percent(self) -> float | None:
        return _rate(self.converted, self.interactions)


@dataclass(frozen=True)
class Overview:
    sessions: int
    interactions: int
    leads: int
    high_intent_leads: int
    by_tool: list[ToolRow]
    other_interactions: list[tuple[str, int]]

    @property
    def session_to_lead_percent(self) -> float | None:
        return _rate(self.leads, self.sessions)

    @property
    def interaction_to_lead_percent(self) -> float | None:
        converted = sum(row.converted for row in self.by_tool)
        return _rate(converted, sum(row.interactions for row in self.by_tool))


def overview(*, period: Period, daily: DailyCounts | None = None) -> Overview:
    daily = _daily(period, daily)
    sessions = sum(row.sessions for row in daily.sessions if _in(period, row.day))
    leads = Lead.objects.filter(created_at__gte=period.start, created_at__lt=period.end).aggregate(
        total=_leads(), high=_leads(filter=Q(engagement_level=EngagementLevel.HIGH))
    )
    totals: dict[str, int] = {}
    converted: dict[str, int] = {}
    for (day, kind), (n, n_converted) in daily.interactions.items():
        if _in(period, day):
            totals[kind] = totals.get(kind, 0) + n
            converted[kind] = converted.get(kind, 0) + n_converted
    labels = dict(InteractionType.choices)
    by_tool = [ToolRow(kind, labels[kind], totals.get(kind, 0), converted.get(kind, 0)) for kind in TOOLS]
    others = [(labels.get(kind, kind), total) for kind, total in totals.items() if kind not in TOOLS]
    return Overview(
        sessions=sessions,
        interactions=sum(totals.values()),
        leads=leads["total"],
        high_intent_leads=leads["high"],
        by_tool=by_tool,
        other_interactions=sorted(others, key=lambda item: -item[1]),
    )


@dataclass(frozen=True)
class FunnelStep:
    label: str
    count: int
    percent_of_first: float | None
    percent_of_previous: float | None


def funnel(*, period: Period, daily: DailyCounts | None = None) -> list[FunnelStep]:
    """Visitors who arrived in the period, and how far they got."""
    daily = _daily(period, daily)
    sessions = UserSession.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    # Whether a visitor used something is in the daily counts (a visitor's later first
    # use sends their day back to be counted again); being offered the form or becoming
    # a lead changes the visitor's row, so those are counted live, from partial indexes.
    prompted = sessions.filter(Q(contact_prompt_shown_count__gt=0) | Q(lead__isnull=False)).count()
    # The leads those visitors became, each once, with the furthest stage each reached:
    # every visitor carries its lead's (UserSession.lead_stage), so one index of the
    # period's visitors holds it all, however many leads there are in all.
    later_stages = (LeadStatus.CONTACTED, LeadStatus.BOOKED, LeadStatus.WON)
    stages = sessions.filter(lead__isnull=False).aggregate(
        leads=Count("lead_id", distinct=True),
        **{stage: Count("lead_id", distinct=True, filter=Q(lead_stage__in=_later(stage))) for stage in later_stages},
    )
    in_period = [row for row in daily.sessions if _in(period, row.day)]
    counts = [
        ("Visitors", sum(row.sessions for row in in_period)),
        ("Used a tool or searched", sum(row.engaged for row in in_period)),
        ("Offered the contact form", prompted),
        ("Became leads", stages["leads"]),
        ("Contacted", stages["contacted"]),
        ("Booked", stages["booked"]),
        ("Won", stages["won"]),
    ]
    first = counts[0][1]
    steps, previous = [], None
    for label, count in counts:
        steps.append(FunnelStep(label, count, _rate(count, first), _rate(count, previous) if previous is not None else None))
        previous = count
    return steps


@dataclass(frozen=True)
class ScoreDistribution:
    bands: list[tuple[str, int]]   # "0-9" ... "90-100"
    levels: list[tuple[str, int]]  # Low, Medium, High
    average: float | None


def score_distribution(*, period: Period) -> ScoreDistribution:
    leads = Lead.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    by_band: dict[int, int] = {}
    by_level: dict[str, int] = {}
    total = count = 0
    # One pass: at most 11 bands x 3 levels come back, summed here.
    for band, level, n, points in (
        # integer / integer divides without a remainder in SQLite and PostgreSQL alike
        leads.annotate(band=ExpressionWrapper(F("lead_score") / 10, output_field=IntegerField()))
        .values("band", "engagement_level").annotate(n=_leads(), points=Sum("lead_score")).order_by()
        .values_list("band", "engagement_level", "n", "points")
    ):
        band = min(band, 9)  # 100 belongs to the top band
        by_band[band] = by_band.get(band, 0) + n
        by_level[level] = by_level.get(level, 0) + n
        total, count = total + points, count + n
    bands = [(f"{b * 10}-{b * 10 + 9 if b < 9 else 100}", by_band.get(b, 0)) for b in range(10)]
    return ScoreDistribution(
        bands=bands,
        levels=[(label, by_level.get(value, 0)) for value, label in EngagementLevel.choices],
        average=round(total / count, 1) if count else None,
    )


@dataclass(frozen=True)
class AttributionRow:
    utm_source: str
    utm_medium: str
    utm_campaign: str
    sessions: int
    leads: int
    booked: int
    won: int
    won_value: Decimal
    spend: Decimal | None

    @property
    def conversion_percent(self) -> float | None:
        return _rate(self.leads, self.sessions)

    @property
    def cost_per_lead(self) -> Decimal | None:
        if self.spend is None or not self.leads:
            return None
        return (self.spend / self.leads).quantize(Decimal("0.01"))

    @property
    def return_on_spend(self) -> Decimal | None:
        """Won value less spend."""
        return None if self.spend is None else self.won_value - self.spend

    @property
    def roi_percent(self) -> float | None:
        if not self.spend:
            return None
        return _rate(self.won_value - self.spend, self.spend)


def attribution(*, period: Period, daily: DailyCounts | None = None) -> list[AttributionRow]:
    """Sessions and leads by first-touch source, medium and campaign, with the
    campaign spend entered by staff. Direct traffic has empty UTM fields."""
    keys = ("utm_source", "utm_medium", "utm_campaign")
    sessions: dict[tuple[str, str, str], int] = {}
    for row in _daily(period, daily).sessions:
        if _in(period, row.day):
            key = (row.utm_source, row.utm_medium, row.utm_campaign)
            sessions[key] = sessions.get(key, 0) + row.sessions
    sessions = {key: n for key, n in sessions.items() if n}
    in_period = Lead.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    leads = {
        tuple(row[k] for k in keys): row
        for row in in_period.values(*keys)
        .annotate(
            n=_leads(),
            booked=_leads(filter=_reached(LeadStatus.BOOKED)),
            won=_leads(filter=Q(status=LeadStatus.WON)),
            value=Sum("value", filter=Q(status=LeadStatus.WON)),
        )
        .order_by()
    }
    won_values = {key: row["value"] or Decimal("0") for key, row in leads.items()}
    spend = {
        (row["utm_source"], row["utm_campaign"]): row["amount"]
        for row in CampaignCost.objects.filter(
            spent_on__gte=timezone.localdate(period.start), spent_on__lt=timezone.localdate(period.end)
        )
        .values("utm_source", "utm_campaign").annotate(amount=Sum("amount"))
    }
    rows = []
    for key in sorted(set(sessions) | set(leads), key=lambda k: tuple(part or "~" for part in k)):
        lead_row = leads.get(key, {})
        rows.append(AttributionRow(
            utm_source=key[0], utm_medium=key[1], utm_campaign=key[2],
            sessions=sessions.get(key, 0),
            leads=lead_row.get("n", 0), booked=lead_row.get("booked", 0), won=lead_row.get("won", 0),
            won_value=won_values.get(key, Decimal("0")),
            spend=spend.get((key[0], key[2])),
        ))
    return rows


@dataclass(frozen=True)
class DayRow:
    day: date
    total: int
    by_type: dict[str, int]


def interactions_per_day(*, period: Period, daily: DailyCounts | None = None) -> list[DayRow]:
    days: dict[date, dict[str, int]] = {}
    for (day, kind), (n, _) in sorted(_daily(period, daily).interactions.items()):
        if _in(period, day):
            days.setdefault(day, {})[kind] = n
    first = timezone.localdate(period.start)
    result = []
    for offset in range(period.days):
        day = first + timedelta(days=offset)
        counts = days.get(day, {})
        result.append(DayRow(day=day, total=sum(counts.values()), by_type=counts))
    return result


@dataclass(frozen=True)
class CategoryInterest:
    category: str
    interactions: int
    percent: int  # share of the lead's category-tagged interactions


def lead_interest(*, lead: Lead) -> list[CategoryInterest]:
    """Which treatment categories the patient looked at, most first: what front desk
    should talk about. The tools tag each interaction's data with its categories."""
    counts: dict[str, int] = {}
    for data in UserInteraction.objects.filter(lead=lead).values_list("data", flat=True):
        for category in (data or {}).get("categories", []) if isinstance(data, dict) else []:
            counts[category] = counts.get(category, 0) + 1
    total = sum(counts.values())
    return [
        CategoryInterest(category=category.replace("_", " ").capitalize(), interactions=n,
                         percent=round(n / total * 100))
        for category, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


@dataclass(frozen=True)
class RulePerformance:
    rule: str
    leads: int
    booked: int
    won: int

    @property
    def booked_percent(self) -> float | None:
        return _rate(self.booked, self.leads)

    @property
    def won_percent(self) -> float | None:
        return _rate(self.won, self.leads)


# Each lead's rules, once per lead, as rows `r.rule` beside the lead `l`.
_LEAD_RULES = {
    # Deduplicated per lead by a lateral subquery: PostgreSQL memoizes it across
    # leads with the same reasons, and no sort of every (lead, rule) pair is needed.
    "postgresql": (
        "CROSS JOIN LATERAL (SELECT DISTINCT e ->> 'rule' AS rule FROM jsonb_array_elements("
        "CASE WHEN jsonb_typeof(l.score_reasons) = 'array' THEN l.score_reasons ELSE '[]'::jsonb END) AS e "
        "WHERE jsonb_typeof(e) = 'object' AND jsonb_typeof(e -> 'rule') = 'string') AS r"
    ),
    "sqlite": (
        "JOIN (SELECT DISTINCT l2.id AS lead_id, json_extract(e.value, '$.rule') AS rule FROM leads_lead AS l2, "
        "json_each(CASE WHEN json_type(l2.score_reasons) = 'array' THEN l2.score_reasons ELSE '[]' END) AS e "
        "WHERE e.type = 'object' AND json_type(e.value, '$.rule') = 'text') AS r ON r.lead_id = l.id"
    ),
}


def rule_performance(*, rule_names: list[str]) -> tuple[list[RulePerformance], RulePerformance]:
    """For each rule, the leads whose current score it contributes to and how they
    converted; with all leads as the baseline to compare against. Counted in the
    database (reading every lead's reasons into Python took seconds at 100,000 leads):
    one query for the rules, one for the baseline."""
    booked = _later(LeadStatus.BOOKED)
    marks = ", ".join(["%s"] * len(booked))
    # Reached booked as _reached says: now, or once (the lead row keeps its furthest stage).
    sums = (f"SUM(CASE WHEN l.status IN ({marks}) OR l.furthest_stage IN ({marks}) THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN l.status = %s THEN 1 ELSE 0 END)")
    totals = {name: [0, 0, 0] for name in rule_names}
    with connection.cursor() as cursor:
        if rule_names:
            cursor.execute(
                f"SELECT r.rule, COUNT(*), {sums} FROM leads_lead AS l {_LEAD_RULES[connection.vendor]} "
                f"WHERE r.rule IN ({', '.join(['%s'] * len(rule_names))}) GROUP BY r.rule",
                [*booked, *booked, LeadStatus.WON, *rule_names],
            )
            for name, n, n_booked, n_won in cursor.fetchall():
                totals[name] = [n, int(n_booked or 0), int(n_won or 0)]
        cursor.execute(f"SELECT COUNT(*), {sums} FROM leads_lead AS l", [*booked, *booked, LeadStatus.WON])
        leads, n_booked, n_won = cursor.fetchone()
    return (
        [RulePerformance(name, *counts) for name, counts in totals.items()],
        RulePerformance("All leads", leads, int(n_booked or 0), int(n_won or 0)),
    )


# "Hot now": high intent and seen on the site within this many days.
HOT_NOW_DAYS = 7
# Call first: the highest score, then the most recently active (leads_with_last_activity).
CALL_FIRST_ORDER = ("-lead_score", F("last_active").desc(nulls_last=True), "-created_at")


def leads_with_last_activity(queryset: QuerySet[Lead]) -> QuerySet[Lead]:
    """Each lead with `last_active`: when any of their visits was last seen."""
    if "last_active" in queryset.query.annotations:
        return queryset
    # A subquery, not Max() over a join: no GROUP BY, so exports and actions that take
    # this queryset read one row per lead, whatever they select.
    latest = UserSession.objects.filter(lead=OuterRef("pk")).order_by("-last_seen_at").values("last_seen_at")[:1]
    return queryset.annotate(last_active=Subquery(latest))


def leads_call_first(queryset: QuerySet[Lead]) -> QuerySet[Lead]:
    """The worklist: leads still being worked (not won, not lost), highest score first,
    then the most recently active."""
    return (
        leads_with_last_activity(queryset)
        .filter(status__in=LeadStatus.open_values())
        .order_by(*CALL_FIRST_ORDER)
    )


def leads_hot_now(queryset: QuerySet[Lead], *, now: datetime | None = None) -> QuerySet[Lead]:
    """Open leads of high intent who were on the site within HOT_NOW_DAYS."""
    since = (now or timezone.now()) - timedelta(days=HOT_NOW_DAYS)
    return leads_call_first(queryset).filter(engagement_level=EngagementLevel.HIGH, last_active__gte=since)
