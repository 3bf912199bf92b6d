"""Reads over the interaction log, for the admin pages that list it."""

from dataclasses import dataclass

from django.db.models import Avg, Count, Q, QuerySet

from interactions.models import InteractionType, UserInteraction


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
