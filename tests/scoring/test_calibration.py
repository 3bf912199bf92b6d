"""scoring.calibration on hand-made tables: lifts with their intervals, points from
the regression scaled to 0-100, and how rankings are judged."""

import random

import pytest

from core import stats
from scoring import engine
from scoring.calibration import (
    MIN_LEADS_EACH_SIDE,
    points_proposed,
    ranking_quality,
    rule_lift,
)

THRESHOLDS = engine.Thresholds(medium=40, high=70)


def rule(name, kind=engine.BONUS, points=10, per_occurrence=False):
    return engine.Rule(name=name, kind=kind, condition={"field": "interaction_type", "op": "exists"}, points=points,
                       per_occurrence=per_occurrence)


def test_a_lift_is_the_comparison_of_the_leads_a_rule_held_for_with_the_others():
    held = [True] * 100 + [False] * 300
    converted = [i < 40 for i in range(100)] + [i < 60 for i in range(300)]
    lift = rule_lift("Immediate urgency", held, converted)
    assert (lift.held, lift.held_converted, lift.not_held, lift.not_held_converted) == (100, 40, 300, 60)
    expected = stats.compare(40, 100, 60, 300)
    assert lift.ratio == pytest.approx(2.0)
    assert lift.ratio_interval == pytest.approx(expected.ratio_interval)
    assert lift.difference_interval == pytest.approx(expected.difference_interval)
    assert lift.enough and lift.why_not == ""


def test_a_rule_with_too_few_leads_says_so_instead_of_proposing():
    held = [True] * (MIN_LEADS_EACH_SIDE - 1) + [False] * 200
    lift = rule_lift("Rare rule", held, [i % 2 == 0 for i in range(len(held))])
    assert not lift.enough
    assert lift.why_not.startswith(f"too few examples: {MIN_LEADS_EACH_SIDE - 1} leads it held for")


def test_the_proposal_follows_the_true_effects_and_its_best_journey_is_worth_100():
    rnd = random.Random(3)
    rules = [rule("Urgent"), rule("Returning"), rule("Noise"), rule("Tools", per_occurrence=True, points=5)]
    held, converted = [], []
    for _ in range(3000):
        row = {"Urgent": rnd.random() < 0.3, "Returning": rnd.random() < 0.4, "Noise": rnd.random() < 0.5,
               "Tools": rnd.randint(0, 3)}
        log_odds = -1.5 + 2.0 * row["Urgent"] + 1.0 * row["Returning"]
        held.append({name: int(value) for name, value in row.items() if value})
        converted.append(rnd.random() < 1 / (1 + 2.718281828 ** -log_odds))
    points = points_proposed(rules, held, converted, calibrated={"Urgent", "Returning", "Noise", "Tools"})
    assert points["Urgent"] > points["Returning"] > 5 * max(abs(points["Noise"]), abs(points["Tools"]))
    assert points["Urgent"] + points["Returning"] + max(points["Noise"], 0) + 5 * max(points["Tools"], 0) in (99, 100, 101)
    # Roughly the true 2:1 ratio of the effects.
    assert 1.5 < points["Urgent"] / points["Returning"] < 2.7


def test_only_the_rules_with_enough_examples_get_points():
    rules = [rule("Urgent"), rule("Rare")]
    held = [{"Urgent": 1} if i % 2 else {} for i in range(400)]
    converted = [i % 2 == 1 and i % 3 != 0 for i in range(400)]
    assert set(points_proposed(rules, held, converted, calibrated={"Urgent"})) == {"Urgent"}


def test_ranking_quality_counts_ties_at_the_edge_by_their_conversion():
    # Everyone scores 100: the top 20 % converts as well as everybody (a coin toss), not 0 or 1.
    converted = [i < 30 for i in range(100)]
    flat = ranking_quality([100] * 100, converted, thresholds=THRESHOLDS)
    assert flat.top_precision == pytest.approx(0.30)
    assert flat.auc == pytest.approx(0.5)
    assert flat.levels == {"low": 0, "medium": 0, "high": 100}

    perfect = ranking_quality([90 if c else 10 for c in converted], converted, thresholds=THRESHOLDS)
    assert perfect.top_precision == 1.0 and perfect.auc == 1.0
    assert perfect.levels == {"low": 70, "medium": 0, "high": 30}


def test_ranking_quality_without_both_outcomes_has_no_auc():
    assert ranking_quality([50, 60], [True, True], thresholds=THRESHOLDS).auc is None
