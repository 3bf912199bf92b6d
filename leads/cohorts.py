"""Cohorts: visitors grouped by the week they first came (or by the source that brought
them), and the share of each group that had become a lead, booked and won by each week
since their first visit. The admin's cohort page and its CSV (clinic/cohorts.py) show
them as a heat-map table.

A visitor became a lead when they gave their details (the session's converted_at; a
session joined to a lead later, from the lead's creation); booked and won when the
lead's history first reached that stage (won counts as having booked)."""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, F, Min, OuterRef, Subquery
from django.db.models.functions import TruncWeek
from django.utils import timezone

from interactions.models import UserSession
from leads.models import LeadStatus, LeadStatusChange

BY_WEEK, BY_SOURCE = "week", "source"
OUTCOMES = {"lead": "Became leads", "booked": "Booked", "won": "Won"}
DIRECT = "(direct)"
WEEK = datetime.timedelta(days=7)


@dataclass(frozen=True)
class Cohort:
    label: str
    sessions: int
    # Per outcome: how many of the cohort had reached it by the end of each week since
    # their first visit (week 0 is the first seven days), None for a week none of them
    # has lived through yet.
    reached: dict[str, list[int | None]]

    def percents(self, outcome: str) -> list[float | None]:
        return [None if count is None else round(count / self.sessions * 100, 1) for count in self.reached[outcome]]


@dataclass(frozen=True)
class CohortTable:
    by: str
    weeks: int
    cohorts: list[Cohort]


def _stage_reached(stages: tuple[str, ...]) -> Subquery:
    """When the session's lead first moved to one of these stages."""
    changes = LeadStatusChange.objects.filter(lead=OuterRef("lead_id"), to_status__in=stages)
    return Subquery(changes.order_by().values("lead").annotate(first=Min("changed_at")).values("first")[:1])


def _week_of(first_seen: datetime.datetime, at: datetime.datetime | None) -> int | None:
    """The week since the first visit in which `at` fell (0 for the first seven days)."""
    if at is None:
        return None
    return max(0, (at - first_seen) // WEEK)


def cohort_table(*, start: datetime.datetime, end: datetime.datetime, by: str = BY_WEEK, weeks: int = 12,
                 now: datetime.datetime | None = None) -> CohortTable:
    """Visitors first seen in [start, end), grouped `by` week or source, followed for
    `weeks` weeks. Two queries: the visitors counted per cohort in the database, and the
    (few) that became leads with their moments, read one row each."""
    if by not in (BY_WEEK, BY_SOURCE):
        raise ValueError(f"Cohorts are grouped by {BY_WEEK!r} or {BY_SOURCE!r}, not {by!r}.")
    now = now or timezone.now()
    sessions = UserSession.objects.filter(created_at__gte=start, created_at__lt=end)
    key = TruncWeek("created_at") if by == BY_WEEK else F("utm_source")
    sizes = dict(sessions.annotate(cohort=key).values("cohort").annotate(n=Count("pk")).values_list("cohort", "n"))
    leads = (
        sessions.filter(lead__isnull=False)
        .annotate(cohort=key, booked_at=_stage_reached((LeadStatus.BOOKED, LeadStatus.WON)),
                  won_at=_stage_reached((LeadStatus.WON,)))
        .values_list("cohort", "created_at", "converted_at", "lead__created_at", "booked_at", "won_at")
    )
    # outcome -> cohort -> week -> visitors who reached the outcome in that week
    firsts: dict[str, dict] = {outcome: defaultdict(lambda: [0] * weeks) for outcome in OUTCOMES}
    for cohort, first_seen, converted_at, lead_created_at, booked_at, won_at in leads.iterator(chunk_size=5000):
        moments = {"lead": converted_at or lead_created_at, "booked": booked_at, "won": won_at}
        for outcome, at in moments.items():
            week = _week_of(first_seen, at)
            if week is not None and week < weeks:
                firsts[outcome][cohort][week] += 1
    cohorts = []
    for cohort in sorted(sizes):
        # The first week a member of the cohort can have lived through is counted from
        # the cohort's earliest possible first visit.
        earliest = cohort if by == BY_WEEK else start
        reached = {}
        for outcome in OUTCOMES:
            running, counts = 0, []
            for week, count in enumerate(firsts[outcome].get(cohort, [0] * weeks)):
                running += count
                counts.append(running if earliest + week * WEEK <= now else None)
            reached[outcome] = counts
        cohorts.append(Cohort(_label(cohort, by), sizes[cohort], reached))
    if by == BY_SOURCE:
        cohorts.sort(key=lambda c: -c.sessions)
    return CohortTable(by=by, weeks=weeks, cohorts=cohorts)


def _label(cohort, by: str) -> str:
    if by == BY_WEEK:
        return f"Week of {timezone.localtime(cohort):%d %b %Y}"
    return cohort or DIRECT
