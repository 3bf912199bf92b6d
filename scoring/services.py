"""ORM-facing side of scoring: load the clinic's active rules and settings, and score
journeys with them through the pure `engine.score_journey`."""

from collections.abc import Iterable

from scoring import engine
from scoring.models import LeadScoringRule, ScoringSettings


def scoring_settings_get() -> ScoringSettings:
    """The clinic's single settings row (created with defaults if missing)."""
    settings, _ = ScoringSettings.objects.get_or_create(pk=1)
    return settings


def rules_active() -> list[engine.Rule]:
    """The active rules, as the engine takes them."""
    return [rule.as_engine_rule() for rule in LeadScoringRule.objects.filter(is_active=True)]


def score_journey(
    *,
    steps: Iterable[engine.Step],
    session_facts: engine.SessionFacts,
    rules: list[engine.Rule] | None = None,
    thresholds: engine.Thresholds | None = None,
) -> engine.ScoreResult:
    """`engine.score_journey` with the clinic's active rules and thresholds, unless given."""
    if rules is None:
        rules = rules_active()
    if thresholds is None:
        thresholds = scoring_settings_get().thresholds()
    return engine.score_journey(steps, session_facts=session_facts, rules=rules, thresholds=thresholds)
