"""Score decay in the pure engine: points fade with the age of the interactions that
earned them, by half each half-life (scoring.engine, scoring.incremental)."""

from datetime import UTC, datetime, timedelta

import pytest

from scoring import engine, incremental
from scoring.engine import BASE, BONUS, Rule, Step

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
AI = Rule("AI recommendation", BASE, {"field": "interaction_type", "op": "eq", "value": "ai_recommendation"}, 60)
FACE = Rule("Face analysis", BASE, {"field": "interaction_type", "op": "eq", "value": "face_analysis"}, 80)
URGENT = Rule("Immediate urgency", BONUS, {"field": "urgency", "op": "eq", "value": "immediate"}, 25)
FURTHER = Rule("Each further interaction", BONUS, {"field": "tool_position", "op": "gt", "value": 1}, 5,
               per_occurrence=True)
PAGES = Rule("Read a page", BONUS, {"field": "interaction_type", "op": "eq", "value": "page_engagement"}, 10,
             per_occurrence=True)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def scored(steps, rules, *, half_life_days=30, now=NOW) -> engine.ScoreResult:
    """The engine's score, checked against incremental scoring's for the same journey."""
    result = engine.score_journey(steps, rules=rules, now=now, half_life_days=half_life_days)
    ruleset = incremental.RuleSet(rules, half_life_days=half_life_days)
    assert incremental.journey_score(incremental.journey_state(steps, ruleset), ruleset, now=now) == result
    return result


def reasons(result: engine.ScoreResult) -> dict[str, int]:
    return {reason.rule: reason.points for reason in result.reasons}


def test_one_half_life_halves_a_rules_points():
    result = scored([Step("face_analysis", {}, days_ago(30))], [FACE], half_life_days=30)

    assert (result.points, reasons(result)) == (40, {"Face analysis": 40})


def test_two_half_lives_quarter_them():
    result = scored([Step("face_analysis", {}, days_ago(60))], [FACE], half_life_days=30)

    assert result.points == 20


def test_a_fresh_interaction_keeps_all_its_points():
    assert scored([Step("face_analysis", {}, NOW)], [FACE]).points == 80


def test_a_rule_is_as_old_as_its_most_recent_matching_interaction():
    steps = [Step("ai_recommendation", {"urgency": "immediate"}, days_ago(60)),
             Step("ai_recommendation", {"urgency": "immediate"}, days_ago(30))]

    assert reasons(scored(steps, [AI, URGENT])) == {"AI recommendation": 30, "Immediate urgency": 13}


def test_a_per_occurrence_bonus_sums_each_occurrence_by_its_own_age():
    steps = [Step("ai_recommendation", {}, days_ago(90)), Step("face_analysis", {}, days_ago(60)),
             Step("cost_calculator", {}, days_ago(30)), Step("appointment_booking", {}, NOW)]

    result = scored(steps, [FURTHER], half_life_days=30)

    # Three further tools: 5 * (1/4 + 1/2 + 1) = 8.75, rounded to 9.
    assert result.reasons == (engine.Reason("Each further interaction", 9, 3),)


def test_a_repeatable_event_counts_once_by_its_most_recent():
    steps = [Step("page_engagement", {}, days_ago(30)), Step("page_engagement", {}, days_ago(30)),
             Step("page_engagement", {}, days_ago(60))]

    assert scored(steps, [PAGES]).reasons == (engine.Reason("Read a page", 5, 1),)


def test_the_highest_base_is_chosen_after_weighting():
    """A face analysis two months ago (80 -> 20) is worth less than an AI
    recommendation today (60)."""
    steps = [Step("face_analysis", {}, days_ago(60)), Step("ai_recommendation", {}, NOW)]

    result = scored(steps, [AI, FACE], half_life_days=30)

    assert reasons(result) == {"AI recommendation": 60}


def test_staff_adjustments_never_fade():
    steps = [Step("face_analysis", {}, days_ago(30)),
             Step(engine.ADJUSTMENT, {"points": 15, "reason": "called, keen"}, days_ago(300))]

    result = scored(steps, [FACE], half_life_days=30)

    assert reasons(result) == {"Face analysis": 40, "Adjusted by staff: called, keen": 15}
    assert result.points == 55


def test_points_are_rounded_half_up_per_reason_and_add_up_to_the_score():
    # 25 and 5 at one half-life: 12.5 -> 13, 2.5 -> 3 (never 12 and 2: a half rounds up).
    steps = [Step("ai_recommendation", {"urgency": "immediate"}, days_ago(30)),
             Step("face_analysis", {}, days_ago(30))]

    result = scored(steps, [FACE, URGENT, FURTHER], half_life_days=30)

    assert reasons(result) == {"Face analysis": 40, "Immediate urgency": 13, "Each further interaction": 3}
    assert result.points == sum(reason.points for reason in result.reasons) == 56


def test_the_level_follows_the_decayed_score():
    assert scored([Step("face_analysis", {}, days_ago(1))], [FACE], half_life_days=30).level == engine.HIGH
    assert scored([Step("face_analysis", {}, days_ago(30))], [FACE], half_life_days=30).level == engine.MEDIUM


def test_a_score_read_before_the_newest_step_is_read_at_it():
    """`now` before an interaction (a clock behind the data) never makes a point worth more than one."""
    result = scored([Step("face_analysis", {}, NOW)], [FACE], now=days_ago(10))

    assert result.points == 80


def test_without_now_the_score_is_read_at_the_newest_step():
    steps = [Step("face_analysis", {}, days_ago(60)), Step("page_engagement", {}, days_ago(30))]

    assert scored(steps, [FACE], now=None, half_life_days=30).points == 40


def test_an_untimed_step_is_as_recent_as_now():
    assert engine.score_journey([Step("face_analysis")], rules=[FACE], now=NOW, half_life_days=30).points == 80


def test_incremental_decay_needs_each_steps_time():
    ruleset = incremental.RuleSet([FACE], half_life_days=30)

    with pytest.raises(ValueError, match="needs its time"):
        incremental.journey_state([Step("face_analysis")], ruleset)


@pytest.mark.parametrize("half_life_days", [0, -3])
def test_a_half_life_must_be_positive(half_life_days):
    with pytest.raises(ValueError, match="positive number of days"):
        incremental.RuleSet([FACE], half_life_days=half_life_days)


def test_without_a_half_life_scores_are_todays_exactly():
    steps = [Step("ai_recommendation", {"urgency": "immediate"}, days_ago(900)),
             Step("face_analysis", {}, days_ago(400)), Step("cost_calculator", {}, days_ago(200)),
             Step("page_engagement", {}, days_ago(100))]
    rules = [AI, FACE, URGENT, FURTHER, PAGES]
    untimed = [Step(step.interaction_type, step.data) for step in steps]

    today = engine.score_journey(untimed, rules=rules)
    ruleset = incremental.RuleSet(rules)

    assert engine.score_journey(steps, rules=rules, now=NOW) == today
    assert incremental.journey_score(incremental.journey_state(steps, ruleset), ruleset, now=NOW) == today
    assert reasons(today) == {"Face analysis": 80, "Immediate urgency": 25, "Each further interaction": 10,
                              "Read a page": 10}


def test_a_step_older_than_the_last_use_still_counts_at_its_own_age():
    """Steps come oldest first; one that does not (years older, a one-day half-life:
    its weight the other way would overflow a float) is still weighed by its age."""
    ruleset = incremental.RuleSet([FURTHER], half_life_days=1)
    steps = [Step("ai_recommendation", {}, days_ago(1)), Step("face_analysis", {}, NOW),
             Step("cost_calculator", {}, days_ago(3000)), Step("appointment_booking", {}, days_ago(1))]

    state = incremental.journey_state(steps, ruleset)

    # Three further tools: now (1), 3000 days ago (0) and a day ago (1/2): 5 * 1.5 = 7.5 -> 8.
    assert incremental.journey_score(state, ruleset, now=NOW).reasons == (engine.Reason("Each further interaction", 8, 3),)
    assert engine.score_journey(steps, rules=[FURTHER], now=NOW, half_life_days=1).points == 8
