"""The dashboard's daily roll-ups: interactions by day and type (with their score
totals), visitors by day and first-touch source (with how many of them used a tool or
searched), kept for complete past days so a year of figures reads a few hundred rows
instead of a million. The unfiltered interaction log's summary reads them too
(`interaction_totals`).

The roll-up is filled lazily, on read: `daily_counts` rolls up the days of the asked
period that are complete and missing (one INSERT ... SELECT a month at most), and
counts the rest (today, and a day that ended less than SETTLE ago) live. The figures
are those of the live count, whatever happens to the rows:

- rows added later with an earlier date (a backdated import, a returning visitor's
  first tool use, which makes an old visitor "engaged") are found by the watermark,
  and their days counted again;
- deleting old visitors (the retention purge) and the history import, which moves
  visitors' first-seen dates, call `rollups_forget`.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from core.db import reading_on_primary
from interactions.models import InteractionType, UserInteraction, UserSession
from leads.models import DailyInteractionCount, DailySessionCount, RolledUpDay, RollupWatermark

# A day is rolled up only once it has been over this long: a row written just before
# midnight by a transaction that commits just after is still counted.
SETTLE = timedelta(hours=1)
# Days rolled up by one statement: bounds the visitor ids the "engaged" test hashes.
CHUNK_DAYS = 31

SESSION_KEYS = ("utm_source", "utm_medium", "utm_campaign")


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def _local_day(field: str) -> TruncDate:
    return TruncDate(field, tzinfo=timezone.get_default_timezone())


def last_complete_day(*, now: datetime | None = None) -> date:
    """The latest day that may be rolled up."""
    moment = timezone.localtime(now or timezone.now(), timezone.get_default_timezone()) - SETTLE
    return moment.date() - timedelta(days=1)


def _interaction_rows(start: datetime, end: datetime) -> QuerySet:
    return (
        UserInteraction.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(day=_local_day("created_at"))
        .values("day", "interaction_type")
        .annotate(n=Count("pk"), converted=Count("pk", filter=Q(converted=True)), score_total=Sum("score"))
        .order_by()
    )


def _session_rows(start: datetime, end: datetime) -> QuerySet:
    # A join to the visitors' interactions (a month of visitors at most), counted
    # distinct: EXISTS or IN in an aggregate's filter runs once per visitor.
    used = Q(interactions__interaction_type__lt=InteractionType.PAGE_ENGAGEMENT) | Q(
        interactions__interaction_type__gt=InteractionType.PAGE_ENGAGEMENT)
    return (
        UserSession.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(day=_local_day("created_at"))
        .values("day", *SESSION_KEYS)
        .annotate(n=Count("pk", distinct=True), engaged=Count("interactions__session_id", filter=used, distinct=True))
        .order_by()
    )


def _insert_select(queryset: QuerySet, table: str, columns: dict[str, str]) -> None:
    """INSERT INTO table SELECT ...: the rows never travel through Python."""
    compiler = queryset.query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    selected = [alias for _, _, alias in compiler.select]
    names = ", ".join(connection.ops.quote_name(columns[alias]) for alias in selected)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {connection.ops.quote_name(table)} ({names}) {sql}", params)


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) runs of at most CHUNK_DAYS."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and day == runs[-1][1] + timedelta(days=1) and (day - runs[-1][0]).days < CHUNK_DAYS:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def rollups_forget(*, days: set[date] | None = None, until: date | None = None) -> None:
    """Send days back to be counted again on the next read: these days, every day up to
    `until`, or (neither given) every day."""
    scope = Q()
    if days is not None:
        scope &= Q(day__in=days)
    if until is not None:
        scope &= Q(day__lte=until)
    with transaction.atomic():
        if not RolledUpDay.objects.filter(scope).exists():
            return
        # Wait for a refresh in progress, or it would write back what is forgotten here.
        RollupWatermark.objects.select_for_update().filter(pk=1).first()
        for model in (RolledUpDay, DailyInteractionCount, DailySessionCount):
            model.objects.filter(scope).delete()


def rollups_days_of(*, sessions: QuerySet, interactions: QuerySet) -> set[date]:
    """The days these visitors and interactions are counted on: what deleting them
    changes (rollups_forget them after)."""
    return {
        day
        for queryset in (sessions, interactions)
        for (day,) in queryset.annotate(day=_local_day("created_at")).values_list("day").order_by().distinct()
    }


def _forget_late_rows(mark: RollupWatermark) -> None:
    """Days that rows added since the watermark changed: they were dated (or their
    visitor arrived) on a day already rolled up."""
    latest = RolledUpDay.objects.aggregate(day=Max("day"))["day"]
    if latest is None:
        return
    boundary = _midnight(latest + timedelta(days=1))
    dated = (
        UserInteraction.objects.filter(pk__gt=mark.interaction_id, created_at__lt=boundary)
        .annotate(day=_local_day("created_at")).values_list("day").order_by()
    )
    engaging = (
        UserInteraction.objects.filter(pk__gt=mark.interaction_id, session__created_at__lt=boundary)
        .exclude(interaction_type=InteractionType.PAGE_ENGAGEMENT)
        .annotate(day=_local_day("session__created_at")).values_list("day").order_by()
    )
    arrived = (
        UserSession.objects.filter(pk__gt=mark.session_id, created_at__lt=boundary)
        .annotate(day=_local_day("created_at")).values_list("day").order_by()
    )
    late = {day for (day,) in dated.union(engaging, arrived).order_by()}
    if late:
        rollups_forget(days=late)


def rollups_refresh(*, first: date, last: date, now: datetime | None = None) -> set[date]:
    """Roll up the complete days of first..last not rolled up yet; return the days of
    first..last whose counts the roll-up holds."""
    last_rolled = min(last, last_complete_day(now=now))
    if last_rolled < first:
        return set()
    with transaction.atomic():
        # One refresher at a time: two would roll up the same day twice.
        # The newest ids are read in the same statement: at worst older than the lock,
        # so the next refresh looks at a few rows twice.
        newest = {"newest_interaction": Subquery(UserInteraction.objects.order_by("-pk").values("pk")[:1]),
                  "newest_session": Subquery(UserSession.objects.order_by("-pk").values("pk")[:1])}
        mark = RollupWatermark.objects.select_for_update().annotate(**newest).filter(pk=1).first()
        if mark is None:
            RollupWatermark.objects.create(pk=1)
            mark = RollupWatermark.objects.select_for_update().annotate(**newest).get(pk=1)
        _forget_late_rows(mark)
        latest = (mark.newest_interaction or 0, mark.newest_session or 0)
        if (mark.interaction_id, mark.session_id) != latest:
            mark.interaction_id, mark.session_id = latest
            mark.save(update_fields=["interaction_id", "session_id"])
        wanted = {first + timedelta(days=n) for n in range((last_rolled - first).days + 1)}
        missing = wanted - set(RolledUpDay.objects.filter(day__gte=first, day__lte=last_rolled)
                               .values_list("day", flat=True))
        for run_first, run_last in _runs(list(missing)):
            start, end = _midnight(run_first), _midnight(run_last + timedelta(days=1))
            _insert_select(_interaction_rows(start, end), DailyInteractionCount._meta.db_table,
                           {"day": "day", "interaction_type": "interaction_type", "n": "interactions",
                            "converted": "converted", "score_total": "score_total"})
            _insert_select(_session_rows(start, end), DailySessionCount._meta.db_table,
                           {"day": "day", **{key: key for key in SESSION_KEYS}, "n": "sessions",
                            "engaged": "engaged"})
        RolledUpDay.objects.bulk_create(RolledUpDay(day=day) for day in sorted(missing))
    return wanted


@dataclass(frozen=True)
class SessionDayRow:
    day: date
    utm_source: str
    utm_medium: str
    utm_campaign: str
    sessions: int
    engaged: int


@dataclass(frozen=True)
class DailyCounts:
    """Interactions by (day, type) and visitors by day and source, for whole days
    first..last: the roll-up where it is complete, live counts for the rest."""

    first: date
    last: date
    interactions: dict[tuple[date, str], tuple[int, int]]  # (interactions, converted)
    sessions: list[SessionDayRow]

    def covers(self, first: date, last: date) -> bool:
        return self.first <= first and last <= self.last


def daily_counts(*, first: date, last: date, now: datetime | None = None) -> DailyCounts:
    # The roll-up is kept, and read, on the primary: its upkeep locks and writes, and a
    # replica may not have the days just rolled up. Only the live part is read wherever
    # the caller reads (core.db.reading_for_analytics).
    with reading_on_primary():
        rolled = rollups_refresh(first=first, last=last, now=now)
        interactions, sessions = _rolled_up(first, rolled)
    live_first = max(rolled) + timedelta(days=1) if rolled else first
    if live_first <= last:
        start, end = _midnight(live_first), _midnight(last + timedelta(days=1))
        for row in _interaction_rows(start, end):
            interactions[(row["day"], row["interaction_type"])] = (row["n"], row["converted"])
        sessions += [SessionDayRow(row["day"], *(row[key] for key in SESSION_KEYS), row["n"], row["engaged"])
                     for row in _session_rows(start, end)]
    return DailyCounts(first=first, last=last, interactions=interactions, sessions=sessions)


def _rolled_up(first: date, rolled: set[date]) -> tuple[dict, list]:
    interactions: dict[tuple[date, str], tuple[int, int]] = {}
    sessions: list[SessionDayRow] = []
    if rolled:
        span = {"day__gte": first, "day__lte": max(rolled)}
        for day, kind, n, converted in DailyInteractionCount.objects.filter(**span).values_list(
                "day", "interaction_type", "interactions", "converted"):
            interactions[(day, kind)] = (n, converted)
        sessions += [SessionDayRow(*row) for row in DailySessionCount.objects.filter(**span).values_list(
            "day", *SESSION_KEYS, "sessions", "engaged")]
    return interactions, sessions


@dataclass(frozen=True)
class TypeTotals:
    interactions: int
    converted: int
    score_total: int


def interaction_totals(*, now: datetime | None = None) -> dict[str, TypeTotals]:
    """The whole interaction log by type: the roll-up's sums for its complete days, the
    rows after them counted live (a scan of the whole log took over 100 ms at a million
    rows). The figures are those of one live count over every row."""
    oldest = UserInteraction.objects.aggregate(at=Min("created_at"))["at"]
    if oldest is None:
        return {}
    first = timezone.localdate(oldest, timezone.get_default_timezone())
    totals: dict[str, TypeTotals] = {}
    with reading_on_primary():
        rolled = rollups_refresh(first=first, last=last_complete_day(now=now), now=now)
        if rolled:
            for kind, n, converted, score_total in (
                DailyInteractionCount.objects.filter(day__gte=first, day__lte=max(rolled))
                .values("interaction_type").order_by()
                .annotate(n=Sum("interactions"), converted=Sum("converted"), score_total=Sum("score_total"))
                .values_list("interaction_type", "n", "converted", "score_total")
            ):
                totals[kind] = TypeTotals(n, converted, score_total)
    # Every row after the last day rolled up, however far ahead it is dated.
    later = UserInteraction.objects.all()
    if rolled:
        later = later.filter(created_at__gte=_midnight(max(rolled) + timedelta(days=1)))
    for row in (later.values("interaction_type").order_by()
                .annotate(n=Count("pk"), converted=Count("pk", filter=Q(converted=True)), score_total=Sum("score"))):
        before = totals.get(row["interaction_type"], TypeTotals(0, 0, 0))
        totals[row["interaction_type"]] = TypeTotals(
            before.interactions + row["n"], before.converted + row["converted"], before.score_total + row["score_total"]
        )
    return totals
