"""ORM-facing side of scoring: load the active rules and settings, score journeys."""

from collections.abc import Iterable, Mapping
from typing import Any

from scoring import engine
from scoring.models import LeadScoringRule, ScoringSettings


def scoring_settings_get() -> ScoringSettings:
    """The clinic's single settings row (created with defaults if missing)."""
    settings, _ = ScoringSettings.objects.get_or_create(pk=1)
    return settings


def active_rules() -> list[engine.Rule]:
    return [rule.as_engine_rule() for rule in LeadScoringRule.objects.filter(is_active=True)]


def score_journey(
    *,
    journey: Iterable[tuple[str, Mapping[str, Any] | None]],
    session: Mapping[str, Any],
    rules: list[engine.Rule] | None = None,
    thresholds: engine.Thresholds | None = None,
) -> engine.ScoreResult:
    """Score (interaction_type, data) pairs, oldest first, with the clinic's rules."""
    if rules is None:
        rules = active_rules()
    if thresholds is None:
        thresholds = scoring_settings_get().thresholds()
    return engine.score(engine.journey_facts(journey, session), rules, thresholds)
