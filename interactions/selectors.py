"""Reads over the interaction log: for the admin pages that list it, and the leads'
journeys as plain data for scoring in memory."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Avg, Count, Q, QuerySet, Sum

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
    """Counts by type of whatever the admin's filters left: one query."""
    labels = dict(InteractionType.choices)
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


@dataclass(frozen=True)
class Journey:
    """What the engine scores a lead on: its steps oldest first, and the session
    facts, exactly as the tracker gathers them (journey_session_facts)."""

    steps: list[Step]
    session_facts: SessionFacts
    last_at: datetime | None = None  # when the newest step happened


def lead_journeys(*, lead_ids: Iterable[int]) -> dict[int, Journey]:
    """The journeys of these leads, read in three queries and no locks."""
    lead_ids = list(lead_ids)
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
