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

from core import stats
from interactions.experiments import HOLDOUT
from interactions.models import Experiment, ExperimentKind, InteractionType, UserInteraction, UserSession
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


def lead_journeys(*, lead_ids: Iterable[int], times: bool = False) -> dict[int, Journey]:
    """The journeys of these leads, read with no locks: on PostgreSQL in one query,
    elsewhere in three. With `times`, each step carries when it happened (Step.at:
    POSIX seconds), which score decay needs; without, none is read."""
    lead_ids = list(lead_ids)
    if connections[router.db_for_read(UserInteraction)].vendor == "postgresql":
        return _lead_journeys_postgresql(lead_ids, times=times)
    steps: dict[int, list] = defaultdict(list)
    last_at: dict[int, datetime] = {}
    rows = (UserInteraction.objects.filter(lead_id__in=lead_ids).order_by("lead_id", "created_at", "pk")
            .values_list("lead_id", "interaction_type", "data", "created_at"))
    for lead_id, kind, data, created_at in rows:
        steps[lead_id].append(Step(kind, data, created_at.timestamp()) if times else Step(kind, data))
        last_at[lead_id] = created_at
    facts = _lead_visit_facts_orm(lead_ids)
    return {
        lead_id: Journey(steps=steps.get(lead_id, []), last_at=last_at.get(lead_id), session_facts=facts[lead_id])
        for lead_id in lead_ids
    }


def lead_visit_facts(*, lead_ids: Iterable[int]) -> dict[int, SessionFacts]:
    """lead_journeys' session facts alone, for leads whose scoring state already holds
    what their steps say (a decay pass): their interactions are not read."""
    lead_ids = list(lead_ids)
    if connections[router.db_for_read(UserInteraction)].vendor == "postgresql":
        return {lead_id: journey.session_facts
                for lead_id, journey in _lead_journeys_postgresql(lead_ids, steps=False).items()}
    return _lead_visit_facts_orm(lead_ids)


def _lead_visit_facts_orm(lead_ids: list[int]) -> dict[int, SessionFacts]:
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
    facts = {}
    for lead_id in lead_ids:
        total, utm = totals.get(lead_id), latest.get(lead_id, {})
        facts[lead_id] = SessionFacts(
            # A lead with no session is scored as one fresh visit (UserSession's defaults).
            engagement_seconds=total["engagement_seconds"] if total else 0,
            visit_count=total["visit_count"] if total else 1,
            utm_source=utm.get("utm_source", ""),
            utm_medium=utm.get("utm_medium", ""),
            utm_campaign=utm.get("utm_campaign", ""),
        )
    return facts


# Each lead's steps (as one JSON array), sessions' totals and latest session, looked
# up by lead with the lead_id indexes. An `IN` list of a chunk's leads was planned
# as a sequential scan of every interaction (the rows of 2,000 leads lie on as many
# pages): at 1 million interactions, 250 ms a chunk instead of 40.
_JOURNEYS_SQL = """
SELECT l.id, {steps}, t.engagement_seconds, t.visit_count, s.utm_source, s.utm_medium, s.utm_campaign
FROM unnest(%s::bigint[]) AS l(id)
{steps_join}
LEFT JOIN LATERAL (
    SELECT sum(t.engagement_seconds) AS engagement_seconds, sum(t.visit_count) AS visit_count
    FROM interactions_usersession t WHERE t.lead_id = l.id
) t ON true
LEFT JOIN LATERAL (
    SELECT s.utm_source, s.utm_medium, s.utm_campaign FROM interactions_usersession s
    WHERE s.lead_id = l.id ORDER BY s.last_seen_at DESC, s.id DESC LIMIT 1
) s ON true
"""
_STEPS_JOIN = """
LEFT JOIN LATERAL (
    SELECT json_agg(json_build_array({step}) ORDER BY i.created_at, i.id)::text AS steps,
           max(i.created_at) AS last_at
    FROM interactions_userinteraction i WHERE i.lead_id = l.id
) j ON true
"""
_STEP = "i.interaction_type, i.data"
_STEP_TIMED = _STEP + ", extract(epoch FROM i.created_at)"
_JOURNEYS_SQL_BY_KIND = {
    (True, False): _JOURNEYS_SQL.format(steps="j.steps, j.last_at", steps_join=_STEPS_JOIN.format(step=_STEP)),
    (True, True): _JOURNEYS_SQL.format(steps="j.steps, j.last_at", steps_join=_STEPS_JOIN.format(step=_STEP_TIMED)),
    (False, False): _JOURNEYS_SQL.format(steps="NULL, NULL", steps_join=""),
}


def _lead_journeys_postgresql(lead_ids: list[int], *, times: bool = False, steps: bool = True) -> dict[int, Journey]:
    connection = connections[router.db_for_read(UserInteraction)]
    journeys = {}
    with transaction.atomic(using=connection.alias, savepoint=False), connection.cursor() as cursor:
        # The plan's estimated cost crosses jit_above_cost: compiling it took as long as running it.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(_JOURNEYS_SQL_BY_KIND[steps, times and steps], [lead_ids])
        for lead_id, rows, last_at, engagement_seconds, visit_count, source, medium, campaign in cursor:
            if not rows:
                found = []
            elif times:
                found = [Step(kind, data, at) for kind, data, at in json.loads(rows)]
            else:
                found = [Step(kind, data) for kind, data in json.loads(rows)]
            journeys[lead_id] = Journey(
                steps=found,
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


# The tools whose result a visitor can come back to, and those that suggest treatments.
RESULT_TYPES = (InteractionType.AI_RECOMMENDATION, InteractionType.FACE_ANALYSIS, InteractionType.COST_CALCULATOR)
SUGGESTING_TYPES = (InteractionType.AI_RECOMMENDATION, InteractionType.FACE_ANALYSIS)
# How far back the public pages look: a visitor's latest steps, not their whole history.
HISTORY_DEPTH = 200


@dataclass(frozen=True)
class VisitorHistory:
    """What the public pages adapt to: the treatments this browser's visitor looked at
    (pages, results, quotes; the latest first), those their latest finder or skin
    analysis suggested, and their latest tool result."""

    looked_at: list[str]
    suggested: list[str]
    last_result: UserInteraction | None


def _treatments_in(data: dict) -> list[str]:
    return [*data.get("procedures", []), *(r["procedure"] for r in data.get("recommendations", []))]


def visitor_history(session: UserSession | None) -> VisitorHistory:
    """One query by the session's index, over its latest HISTORY_DEPTH interactions."""
    if session is None or not session.interaction_count:
        return VisitorHistory([], [], None)
    latest = (
        UserInteraction.objects.filter(session=session)
        .order_by("-created_at", "-pk")
        .only("pk", "session_id", "interaction_type", "data", "created_at")[:HISTORY_DEPTH]
    )
    looked_at: dict[str, None] = {}
    suggested, last_result = None, None
    for interaction in latest:
        data = interaction.data if isinstance(interaction.data, dict) else {}
        looked_at.update(dict.fromkeys(slug for slug in _treatments_in(data) if isinstance(slug, str)))
        if suggested is None and interaction.interaction_type in SUGGESTING_TYPES:
            suggested = [r["procedure"] for r in data.get("recommendations", [])]
        if last_result is None and interaction.interaction_type in RESULT_TYPES:
            last_result = interaction
    return VisitorHistory(list(looked_at), suggested or [], last_result)


def last_result_type(session: UserSession) -> str | None:
    """The type of the visitor's latest tool result, or None."""
    latest = UserInteraction.objects.filter(session=session, interaction_type__in=RESULT_TYPES)
    return latest.order_by("-created_at", "-pk").values_list("interaction_type", flat=True).first()


@dataclass(frozen=True)
class VariantResult:
    key: str
    exposures: int
    conversions: int
    rate: float | None
    interval: tuple[float, float]
    against_control: stats.Comparison | None  # None for the control itself, or with no visitors yet


@dataclass(frozen=True)
class ExperimentResults:
    variants: list[VariantResult]
    minimum_per_variant: int
    verdict: str
    winner: str | None  # a variant's key, only once every variant has the minimum sample


def experiment_results(experiment: Experiment) -> ExperimentResults:
    """Each variant's exposed visitors and how many became leads, against the first
    variant (the control), with intervals and the two-proportion test (core.stats).
    No winner is named before every variant has the sample the experiment's expected
    baseline and smallest lift need; then the best variant that differs significantly
    from the control at 5 %, if any."""
    counted = (
        UserInteraction.objects.filter(
            interaction_type__in=[InteractionType.EXPERIMENT_EXPOSURE, InteractionType.EXPERIMENT_CONVERSION],
            data__experiment=experiment.pk,
        )
        .values_list("interaction_type", "data__variant")
        .annotate(visitors=Count("session", distinct=True))
    )
    counts = {(kind, key): visitors for kind, key, visitors in counted}
    keys = list(experiment.variants.values_list("key", flat=True))
    if experiment.holdout_percent and experiment.kind != ExperimentKind.CONTACT_FORM:
        keys.append(HOLDOUT)
    baseline = float(experiment.baseline_percent) / 100
    expected = min(0.99, baseline + float(experiment.smallest_lift_percent) / 100)
    minimum = stats.sample_size_per_group(baseline, expected)
    control = keys[0] if keys else None
    variants = []
    for key in keys:
        exposed = counts.get((InteractionType.EXPERIMENT_EXPOSURE, key), 0)
        # A conversion counts only for a visitor exposed first (always so when recorded here).
        converted = min(exposed, counts.get((InteractionType.EXPERIMENT_CONVERSION, key), 0))
        control_exposed = counts.get((InteractionType.EXPERIMENT_EXPOSURE, control), 0)
        comparison = None
        if key != control and exposed and control_exposed:
            control_converted = min(control_exposed, counts.get((InteractionType.EXPERIMENT_CONVERSION, control), 0))
            comparison = stats.compare(converted, exposed, control_converted, control_exposed)
        variants.append(VariantResult(
            key=key, exposures=exposed, conversions=converted,
            rate=converted / exposed if exposed else None,
            interval=stats.wilson_interval(converted, exposed), against_control=comparison,
        ))
    return ExperimentResults(variants, minimum, *_verdict(variants, minimum))


def _named(key: str) -> str:
    return "the holdout (never offered the form)" if key == HOLDOUT else key


def _verdict(variants: list[VariantResult], minimum: int) -> tuple[str, str | None]:
    if len(variants) < 2:
        return "An experiment needs at least two variants (or one and a holdout).", None
    short = [v for v in variants if v.exposures < minimum]
    if short:
        fewest = min(v.exposures for v in short)
        return (f"Too early to call: every variant needs {minimum:,} exposed visitors; "
                f"the smallest has {fewest:,} ({minimum - fewest:,} to go)."), None
    control, others = variants[0], variants[1:]
    differs = [v for v in others if v.against_control is not None and v.against_control.significant()]
    better = [v for v in differs if v.against_control.difference > 0]
    if better:
        best = max(better, key=lambda v: v.rate)
        return (f"{_named(best.key)} converts better than {control.key}: {best.rate:.1%} against "
                f"{control.rate:.1%} (p = {best.against_control.p_value:.3g})."), best.key
    if differs and len(differs) == len(others):
        names = ", ".join(_named(v.key) for v in differs)
        return f"{control.key} converts better than {names}: keep {control.key}.", control.key
    if differs:
        names = ", ".join(_named(v.key) for v in differs)
        return f"{names} converts worse than {control.key}; no variant converts better.", None
    return (f"No significant difference from {control.key} at 5 %: no variant is shown to convert better "
            "with this many visitors."), None
