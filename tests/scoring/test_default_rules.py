"""The rules installed by migration reproduce the report's scoring table."""

import pytest
from django.core.exceptions import ValidationError

from scoring.engine import SessionFacts, Step, score_journey
from scoring.models import LeadScoringRule, ScoringSettings
from scoring.services import scoring_config
from tests.factories import scoring_rule_change, scoring_settings_change

pytestmark = pytest.mark.django_db


def score(*steps, **session):
    config = scoring_config()  # the clinic's rules as stored, as the tracker reads them
    return score_journey([Step(kind, data) for kind, data in steps], session_facts=SessionFacts(**session),
                         rules=config.rules, thresholds=config.thresholds)


def test_eleven_default_rules_are_installed_and_active():
    assert LeadScoringRule.objects.filter(is_active=True).count() == 11
    assert ScoringSettings.objects.get().high_threshold == 70


@pytest.mark.parametrize(
    ("interaction_type", "points"),
    [("ai_recommendation", 60), ("face_analysis", 80), ("cost_calculator", 70), ("appointment_booking", 90),
     ("contact_form", 70)],
)
def test_each_tool_has_the_reports_base_score(interaction_type, points):
    assert score((interaction_type, {})).points == points


@pytest.mark.parametrize(
    ("data", "session", "bonus"),
    [
        ({"procedures": ["botox", "filler"]}, {}, 15),
        ({"budget_level": "high"}, {}, 20),
        ({"urgency": "immediate"}, {}, 25),
        ({}, {"engagement_seconds": 180}, 15),
        ({}, {"visit_count": 2}, 10),
    ],
)
def test_each_bonus_adds_its_points(data, session, bonus):
    assert score(("ai_recommendation", data), **session).points == 60 + bonus


def test_bonuses_need_their_condition():
    assert score(("ai_recommendation", {"procedures": ["botox"], "budget_level": "medium", "urgency": "soon"}),
                 engagement_seconds=179, visit_count=1).points == 60


def test_each_further_tool_adds_five():
    steps = [("ai_recommendation", {}), ("cost_calculator", {}), ("face_analysis", {})]
    assert score(*steps).points == 80 + 5 + 5


def test_a_first_tool_after_page_views_and_searches_scores_exactly_its_base():
    # Changed (issue 10): a page-engagement beacon before the first tool used to make
    # it a "further interaction" worth +5.
    steps = [("page_engagement", {}), ("search", {"query": "x"}), ("page_engagement", {}), ("ai_recommendation", {})]
    assert score(*steps).points == 60


def test_searches_never_count_as_further_interactions():
    searches = [("search", {"query": "x"})] * 17
    assert score(*searches).points == 0
    assert score(*searches, ("ai_recommendation", {}), *searches).points == 60


def test_the_reports_arithmetic():
    assert score(("ai_recommendation", {"urgency": "immediate"})).points == 85  # Sarah Chen
    assert score(("cost_calculator", {"procedures": ["botox", "filler"]})).points == 85  # Anita Reddy
    assert score(("ai_recommendation", {}), ("face_analysis", {})).points == 85  # Priya Sharma (88 is not reachable)


def test_everything_at_once_is_clamped_to_100():
    result = score(
        ("appointment_booking", {"urgency": "immediate", "budget_level": "high", "procedures": ["a", "b"]}),
        engagement_seconds=600,
    )
    assert result.raw_points == 90 + 25 + 20 + 15 + 15
    assert result.points == 100


def test_an_inactive_rule_no_longer_scores():
    scoring_rule_change("Immediate urgency", is_active=False)
    assert score(("ai_recommendation", {"urgency": "immediate"})).points == 60


def test_thresholds_from_settings_set_the_level():
    scoring_settings_change(medium_threshold=10, high_threshold=50)
    assert score(("ai_recommendation", {})).level == "high"


def test_a_rule_with_a_bad_condition_cannot_be_saved_through_validation():
    rule = LeadScoringRule(name="Typo", kind="bonus", points=5, condition={"field": "urgncy", "op": "eq", "value": "x"})
    with pytest.raises(ValidationError) as error:
        rule.full_clean()
    assert "Unknown field 'urgncy'" in error.value.message_dict["condition"][0]


def test_a_base_rule_cannot_count_every_occurrence():
    rule = LeadScoringRule(name="Base", kind="base", points=5, per_occurrence=True,
                           condition={"field": "position", "op": "gte", "value": 1})
    with pytest.raises(ValidationError) as error:
        rule.full_clean()
    assert "per_occurrence" in error.value.message_dict
