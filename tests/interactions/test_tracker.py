"""track_user_interaction records and scores; should_show_contact_form times the prompt."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from interactions import tracker
from interactions.models import UserInteraction, UserSession
from scoring.models import ScoringSettings
from tests.factories import scoring_settings_change

pytestmark = pytest.mark.django_db


def test_an_interaction_is_recorded_with_its_data_score_and_reasons(visitor):
    interaction = tracker.track_user_interaction(
        visitor, "ai_recommendation", {"query": "botox before my wedding", "urgency": "immediate"},
        page_url="/enhanced-ai/",
    )
    interaction.refresh_from_db()
    assert interaction.score == 85
    assert interaction.data["query"] == "botox before my wedding"
    assert [reason["rule"] for reason in interaction.score_reasons] == ["AI recommendation", "Immediate urgency"]
    assert interaction.page_url == "/enhanced-ai/"


def test_the_session_aggregates_follow_its_interactions(visitor):
    tracker.track_user_interaction(visitor, "search", {"query": "lip filler"}, engagement_seconds=40)
    tracker.track_user_interaction(visitor, "cost_calculator", {"procedures": ["lip-filler"]}, engagement_seconds=70)
    visitor.refresh_from_db()
    assert visitor.interaction_count == 2
    assert visitor.engagement_seconds == 110
    # A search is not a tool use (issue 10): the calculator scores its base alone.
    assert visitor.score == 70
    assert visitor.engagement_level == "high"


def test_progressive_interactions_raise_the_score(visitor):
    scores = [
        tracker.track_user_interaction(visitor, kind, {}).score
        for kind in ("search", "ai_recommendation", "cost_calculator")
    ]
    assert scores == [0, 60, 75]  # the search adds nothing, the second tool +5 (issue 10)


def test_long_engagement_earns_its_bonus_once_reached(visitor):
    first = tracker.track_user_interaction(visitor, "page_engagement", {}, engagement_seconds=100)
    second = tracker.track_user_interaction(visitor, "page_engagement", {}, engagement_seconds=100)
    assert (first.score, second.score) == (0, 15)


def test_unknown_types_and_bad_data_are_refused_and_nothing_is_written(visitor):
    with pytest.raises(ValidationError):
        tracker.track_user_interaction(visitor, "hacking", {})
    with pytest.raises(ValidationError):
        tracker.track_user_interaction(visitor, "search", ["not", "an", "object"])
    with pytest.raises(ValidationError):
        tracker.track_user_interaction(visitor, "search", {"blob": "x" * 30_000})
    with pytest.raises(ValidationError):
        tracker.track_user_interaction(visitor, "search", {}, engagement_seconds=-5)
    assert not UserInteraction.objects.exists()
    visitor.refresh_from_db()
    assert visitor.interaction_count == 0


def test_a_historical_interaction_is_scored_on_the_journey_before_it(visitor):
    now = timezone.now()
    tracker.track_user_interaction(visitor, "face_analysis", {}, occurred_at=now)
    earlier = tracker.track_user_interaction(visitor, "ai_recommendation", {}, occurred_at=now - timedelta(days=2))
    assert earlier.score == 60


class TestContactPrompt:
    def test_low_intent_visitors_are_not_prompted(self, visitor):
        tracker.track_user_interaction(visitor, "search", {})
        assert not tracker.should_show_contact_form(visitor)

    def test_a_high_intent_interaction_prompts_at_once(self, visitor):
        tracker.track_user_interaction(visitor, "face_analysis", {})
        visitor.refresh_from_db()
        assert tracker.should_show_contact_form(visitor)

    def test_the_prompt_threshold_is_configurable(self, visitor):
        tracker.track_user_interaction(visitor, "ai_recommendation", {})
        visitor.refresh_from_db()
        assert tracker.should_show_contact_form(visitor)
        scoring_settings_change(contact_prompt_threshold=90)
        assert not tracker.should_show_contact_form(visitor)

    def test_a_dismissed_prompt_stays_away_during_the_cooldown(self, visitor):
        tracker.track_user_interaction(visitor, "face_analysis", {})
        visitor.refresh_from_db()
        dismissed = timezone.now()
        tracker.contact_prompt_dismissed(visitor, now=dismissed)
        assert not tracker.should_show_contact_form(visitor, now=dismissed + timedelta(hours=23))
        assert tracker.should_show_contact_form(visitor, now=dismissed + timedelta(hours=25))

    def test_the_prompt_is_offered_on_a_limited_number_of_pages_per_visit(self, visitor):
        tracker.track_user_interaction(visitor, "face_analysis", {})
        visitor.refresh_from_db()
        for page in ("/a/", "/b/", "/c/"):
            assert tracker.should_show_contact_form(visitor, page=page)
            tracker.contact_prompt_shown(visitor, page=page)
        assert not tracker.should_show_contact_form(visitor, page="/d/")
        # The pages it was offered on keep it: a reload is not a new offer.
        assert tracker.should_show_contact_form(visitor, page="/b/")

    def test_reloading_a_page_or_its_beacons_count_as_one_offer(self, visitor):
        tracker.track_user_interaction(visitor, "face_analysis", {})
        visitor.refresh_from_db()
        for _ in range(10):
            assert tracker.should_show_contact_form(visitor, page="/enhanced-face/result/1/")
            tracker.contact_prompt_shown(visitor, page="/enhanced-face/result/1/")
        visitor.refresh_from_db()
        assert visitor.contact_prompt_shown_count == 1
        assert tracker.should_show_contact_form(visitor, page="/treatments/")

    def test_the_limit_starts_again_with_each_visit(self, visitor):
        tracker.track_user_interaction(visitor, "face_analysis", {})
        visitor.refresh_from_db()
        for page in ("/a/", "/b/", "/c/"):
            tracker.contact_prompt_shown(visitor, page=page)
        assert not tracker.should_show_contact_form(visitor, page="/d/")
        UserSession.objects.filter(pk=visitor.pk).update(visit_count=2)
        visitor.refresh_from_db()
        assert tracker.should_show_contact_form(visitor, page="/d/")

    def test_only_no_thanks_silences_the_prompt(self, visitor):
        tracker.track_user_interaction(visitor, "face_analysis", {})
        visitor.refresh_from_db()
        tracker.contact_prompt_shown(visitor, page="/a/")
        tracker.contact_prompt_dismissed(visitor)
        assert not tracker.should_show_contact_form(visitor, page="/a/")

    def test_a_converted_visitor_is_never_prompted_again(self, visitor, contact):
        from leads.services import create_lead_from_form

        tracker.track_user_interaction(visitor, "face_analysis", {})
        create_lead_from_form(session=visitor, data=contact)
        visitor.refresh_from_db()
        assert not tracker.should_show_contact_form(visitor)


def test_a_leads_time_on_site_counts_from_the_interaction_that_brings_it(visitor, contact):
    from leads.services import create_lead_from_form

    tracker.track_user_interaction(visitor, "ai_recommendation", {}, engagement_seconds=100)
    create_lead_from_form(session=visitor, data=contact)
    visitor.refresh_from_db()
    later = tracker.track_user_interaction(visitor, "page_engagement", {}, engagement_seconds=90)
    assert "High engagement time" in [reason["rule"] for reason in later.score_reasons]
