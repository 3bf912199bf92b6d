"""A lead's score over time: as it was on any date and why (its recorded history,
leads.LeadScoreChange), and as any rule version would score the lead's journey
(a replay: `lead_score_under`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.safestring import SafeString

from core.charts import step_chart
from interactions.journey import visits_in
from interactions.models import EngagementLevel, UserInteraction, UserSession
from interactions.tracker import journey_session_facts
from leads.models import Lead, LeadScoreChange
from scoring import engine, incremental
from scoring.models import RuleVersion
from scoring.services import scoring_config
from scoring.versions import rule_version_get, ruleset_of


@dataclass(frozen=True)
class ScoreAt:
    """The lead's score from `at` (None: before any score was recorded)."""

    at: datetime | None
    score: int
    level: str
    reasons: list = field(default_factory=list)
    rule_version: int | None = None
    cause: str = ""


NO_SCORE = ScoreAt(at=None, score=0, level=EngagementLevel.LOW)


def lead_score_as_of(*, lead: Lead, at: datetime) -> ScoreAt:
    """The score staff saw for this lead at a moment, with its reasons and version."""
    change = lead.score_changes.filter(at__lte=at).order_by("-at", "-pk").first()
    if change is None:
        return NO_SCORE
    return ScoreAt(at=change.at, score=change.score, level=change.level, reasons=change.reasons,
                   rule_version=change.rule_version_id, cause=change.cause)


def lead_score_history(*, lead: Lead) -> list[LeadScoreChange]:
    """Every recorded change of the lead's score, oldest first."""
    return list(lead.score_changes.order_by("at", "pk"))


def lead_score_under(*, lead: Lead, version: int | RuleVersion, at: datetime | None = None) -> engine.ScoreResult:
    """What the lead's journey scores under a rule version: the whole journey (with
    the visits' facts as they are now), or, with `at`, the journey up to that moment.

    The visits' facts of a past moment are rebuilt from the interactions of then:
    engagement is the sum of their engagement, and a session's visits are counted
    from the silences of VISIT_GAP_SECONDS between them (a visit in which the
    patient did nothing is in no log, so it is not counted)."""
    version = version if isinstance(version, RuleVersion) else rule_version_get(version)
    ruleset = ruleset_of(version)
    rows = UserInteraction.objects.filter(lead=lead)
    if at is not None:
        rows = rows.filter(created_at__lte=at)
    rows = list(rows.order_by("created_at", "pk").values_list(
        "created_at", "interaction_type", "data", "engagement_seconds", "session_id"
    ))
    state = incremental.journey_state(
        (engine.Step(kind, data, at=created_at) for created_at, kind, data, _, _ in rows), ruleset
    )
    facts = _visit_facts(lead=lead, rows=rows, at=at)
    # With the version's decay, as of the moment asked about (or now).
    return incremental.journey_score(state, ruleset, session_facts=facts,
                                     thresholds=version.scoring_settings().thresholds(), now=at or timezone.now())


def _visit_facts(*, lead: Lead, rows: list[tuple], at: datetime | None) -> engine.SessionFacts:
    sessions = UserSession.objects.filter(lead=lead).order_by("-last_seen_at", "-pk")
    if at is None:
        latest = sessions.first()
        return journey_session_facts(session=latest) if latest is not None else engine.SessionFacts()
    latest = sessions.filter(created_at__lte=at).first()
    return engine.SessionFacts(
        engagement_seconds=sum(row[3] for row in rows),
        visit_count=visits_in(((row[4], row[0]) for row in rows), gap_seconds=settings.VISIT_GAP_SECONDS),
        utm_source=latest.utm_source if latest else None,
        utm_medium=latest.utm_medium if latest else None,
        utm_campaign=latest.utm_campaign if latest else None,
    )


@dataclass(frozen=True)
class ScoreTimeline:
    """What the lead page's chart draws: the score's steps, and the rule versions
    recorded while it was being scored (the rule changes)."""

    changes: list[LeadScoreChange]
    versions: list[RuleVersion]
    start: datetime
    end: datetime


def lead_score_timeline(*, lead: Lead, now: datetime | None = None) -> ScoreTimeline:
    changes = lead_score_history(lead=lead)
    end = now or timezone.now()
    start = min([lead.created_at, *(change.at for change in changes[:1])])
    # The rule changes: versions recorded while the lead was scored, after the one its
    # first score came from (that one's recording is no change for this lead).
    first = changes[0].rule_version_id if changes and changes[0].rule_version_id else 0
    versions = list(RuleVersion.objects.filter(created_at__gt=start, created_at__lte=end, number__gt=first)
                    .order_by("number").only("number", "created_at", "note"))
    return ScoreTimeline(changes=changes, versions=versions, start=start, end=end)


def lead_score_chart(timeline: ScoreTimeline, *, width: int = 560, height: int = 160) -> SafeString:
    """The score's steps as a line, each rule change a dashed mark ("v3"), the
    engagement thresholds of the current rules as faint guides; local time."""
    local = timezone.localtime
    thresholds = scoring_config().thresholds
    return step_chart(
        [(local(change.at), change.score) for change in timeline.changes],
        start=local(timeline.start), end=local(timeline.end),
        marks=[(local(version.created_at), f"v{version.number}") for version in timeline.versions],
        guides=[(thresholds.medium, f"medium from {thresholds.medium}"), (thresholds.high, f"high from {thresholds.high}")],
        title="Score over time, with rule changes marked", width=width, height=height,
    )
