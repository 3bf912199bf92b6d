"""Reads over the interaction log: for the admin pages that list it, and the leads'
journeys as plain data for scoring in memory."""

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.utils.module_loading import import_string

from interactions.models import InteractionType, UserInteraction, UserSession
from scoring.engine import SessionFacts, Step


@dataclass(frozen=True)
class TypeSummary:
    label: str
    interactions: int
    converted: int
    average_score: float | None

    @property
    def conversion_percent(self) -> float | None:
        return round(self.converted / self.interactions * 100, 1) if self.interactions else None


def interaction_summary(queryset: QuerySet[UserInteraction]) -> list[TypeSummary]:
    """Counts by type of whatever the admin's filters left: one query; for the whole
    log, the totals settings.INTERACTION_LOG_TOTALS gives (the daily roll-up)."""
    labels = dict(InteractionType.choices)
    whole_log_totals = getattr(settings, "INTERACTION_LOG_TOTALS", None)
    if whole_log_totals and _is_whole_log(queryset):
        totals = import_string(whole_log_totals)()
        summaries = [
            TypeSummary(
                label=labels.get(kind, kind),
                interactions=row.interactions,
                converted=row.converted,
                # Avg() of the rows gives the same float: the exact quotient, rounded once.
                average_score=round(row.score_total / row.interactions, 1),
            )
            for kind, row in totals.items() if row.interactions
        ]
        return sorted(summaries, key=lambda summary: -summary.interactions)
    rows = (
        queryset.order_by()
        .values("interaction_type")
        .annotate(n=Count("pk"), converted=Count("pk", filter=Q(converted=True)), average=Avg("score"))
        .order_by("-n")
    )
    return [
        TypeSummary(
            label=labels.get(row["interaction_type"], row["interaction_type"]),
            interactions=row["n"],
            converted=row["converted"],
            average_score=round(row["average"], 1) if row["average"] is not None else None,
        )
        for row in rows
    ]


def _is_whole_log(queryset: QuerySet[UserInteraction]) -> bool:
    """Whether the queryset is every interaction, unfiltered."""
    query = queryset.query
    return queryset.model is UserInteraction and not (query.where or query.combinator or query.is_sliced)


# The distinct values of an indexed column, one index probe each (a loose index scan,
# which neither PostgreSQL 15 nor SQLite plans by themselves): DISTINCT read every
# visitor's row of the index, 20 to 50 ms at 200,000 visitors.
_SOURCES_SQL = """
WITH RECURSIVE sources(utm_source) AS (
    SELECT MIN(utm_source) FROM interactions_usersession WHERE utm_source > ''
    UNION ALL
    SELECT (SELECT MIN(s.utm_source) FROM interactions_usersession s WHERE s.utm_source > sources.utm_source)
    FROM sources WHERE sources.utm_source IS NOT NULL
)
SELECT utm_source FROM sources WHERE utm_source IS NOT NULL
"""


def visitor_sources() -> list[str]:
    """The first-touch sources visitors came from (direct traffic's blank left out), in
    order: found from the attribution index (utm_source first) one source at a time."""
    with connections[router.db_for_read(UserSession)].cursor() as cursor:
        cursor.execute(_SOURCES_SQL)
        return [source for (source,) in cursor.fetchall()]


@dataclass(frozen=True)
class Journey:
    """What the engine scores a lead on: its steps oldest first, and the session
    facts, exactly as the tracker gathers them (journey_session_facts)."""

    steps: list[Step]
    session_facts: SessionFacts
    last_at: datetime | None = None  # when the newest step happened


def lead_journeys(*, lead_ids: Iterable[int]) -> dict[int, Journey]:
    """The journeys of these leads, read with no locks: on PostgreSQL in one query,
    elsewhere in three."""
    lead_ids = list(lead_ids)
    if connections[router.db_for_read(UserInteraction)].vendor == "postgresql":
        return _lead_journeys_postgresql(lead_ids)
    steps: dict[int, list] = defaultdict(list)
    last_at: dict[int, datetime] = {}
    rows = (UserInteraction.objects.filter(lead_id__in=lead_ids).order_by("lead_id", "created_at", "pk")
            .values_list("lead_id", "interaction_type", "data", "created_at"))
    for lead_id, kind, data, created_at in rows:
        steps[lead_id].append(Step(kind, data))
        last_at[lead_id] = created_at
    totals = {
        row["lead_id"]: row
        for row in UserSession.objects.filter(lead_id__in=lead_ids).order_by().values("lead_id")
        .annotate(engagement_seconds=Sum("engagement_seconds"), visit_count=Sum("visit_count"))
    }
    # The lead's latest session gives the attribution facts (as lead_rescore picks it).
    latest: dict[int, dict] = {}
    for row in (UserSession.objects.filter(lead_id__in=lead_ids).order_by("lead_id", "-last_seen_at", "-pk")
                .values("lead_id", "utm_source", "utm_medium", "utm_campaign")):
        latest.setdefault(row["lead_id"], row)
    journeys = {}
    for lead_id in lead_ids:
        total, utm = totals.get(lead_id), latest.get(lead_id, {})
        journeys[lead_id] = Journey(steps=steps.get(lead_id, []), last_at=last_at.get(lead_id), session_facts=SessionFacts(
            # A lead with no session is scored as one fresh visit (UserSession's defaults).
            engagement_seconds=total["engagement_seconds"] if total else 0,
            visit_count=total["visit_count"] if total else 1,
            utm_source=utm.get("utm_source", ""),
            utm_medium=utm.get("utm_medium", ""),
            utm_campaign=utm.get("utm_campaign", ""),
        ))
    return journeys


# Each lead's steps (as one JSON array), sessions' totals and latest session, looked
# up by lead with the lead_id indexes. An `IN` list of a chunk's leads was planned
# as a sequential scan of every interaction (the rows of 2,000 leads lie on as many
# pages): at 1 million interactions, 250 ms a chunk instead of 40.
_JOURNEYS_SQL = """
SELECT l.id, j.steps, j.last_at, t.engagement_seconds, t.visit_count, s.utm_source, s.utm_medium, s.utm_campaign
FROM unnest(%s::bigint[]) AS l(id)
LEFT JOIN LATERAL (
    SELECT json_agg(json_build_array(i.interaction_type, i.data) ORDER BY i.created_at, i.id)::text AS steps,
           max(i.created_at) AS last_at
    FROM interactions_userinteraction i WHERE i.lead_id = l.id
) j ON true
LEFT JOIN LATERAL (
    SELECT sum(t.engagement_seconds) AS engagement_seconds, sum(t.visit_count) AS visit_count
    FROM interactions_usersession t WHERE t.lead_id = l.id
) t ON true
LEFT JOIN LATERAL (
    SELECT s.utm_source, s.utm_medium, s.utm_campaign FROM interactions_usersession s
    WHERE s.lead_id = l.id ORDER BY s.last_seen_at DESC, s.id DESC LIMIT 1
) s ON true
"""


def _lead_journeys_postgresql(lead_ids: list[int]) -> dict[int, Journey]:
    connection = connections[router.db_for_read(UserInteraction)]
    journeys = {}
    with transaction.atomic(using=connection.alias, savepoint=False), connection.cursor() as cursor:
        # The plan's estimated cost crosses jit_above_cost: compiling it took as long as running it.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(_JOURNEYS_SQL, [lead_ids])
        for lead_id, steps, last_at, engagement_seconds, visit_count, source, medium, campaign in cursor:
            journeys[lead_id] = Journey(
                steps=[Step(kind, data) for kind, data in json.loads(steps)] if steps else [],
                last_at=last_at,
                session_facts=SessionFacts(
                    # A lead with no session is scored as one fresh visit (UserSession's defaults).
                    engagement_seconds=engagement_seconds if engagement_seconds is not None else 0,
                    visit_count=visit_count if visit_count is not None else 1,
                    utm_source=source if source is not None else "",
                    utm_medium=medium if medium is not None else "",
                    utm_campaign=campaign if campaign is not None else "",
                ),
            )
    return journeys
