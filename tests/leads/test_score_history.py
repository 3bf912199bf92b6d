"""A lead's score history: every change recorded with the rule version that made
it, the score as it was on any date and why, and a replay under any version."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from interactions.tracker import track_user_interaction
from leads.gdpr import person_erase
from leads.models import LeadScoreChange, ScoreChangeCause
from leads.score_history import lead_score_as_of, lead_score_history, lead_score_under
from leads.services import create_lead_from_form, lead_adjust_score
from scoring.services import scoring_config
from tests.factories import UserSessionFactory, scoring_rule_change

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead():
    """A patient who used the AI recommender ten days ago with immediate urgency
    (60 + 25), gave their e-mail, and came back a day later for the face analysis
    (base 80, + 25 + 5 for a further tool)."""
    start = timezone.now() - timedelta(days=10)
    session = UserSessionFactory(created_at=start, last_seen_at=start)
    track_user_interaction(session, "ai_recommendation", {"urgency": "immediate"}, occurred_at=start)
    lead = create_lead_from_form(session=session, data={"email": "sarah@example.com", "consent_contact": True},
                                 occurred_at=start + timedelta(minutes=5))
    track_user_interaction(session, "face_analysis", {}, occurred_at=start + timedelta(days=1))
    lead.refresh_from_db()
    lead.start = start
    return lead


def test_each_score_change_is_recorded_with_its_cause_time_and_rule_version(lead):
    history = lead_score_history(lead=lead)
    assert [(change.score, change.cause) for change in history] == [(85, "event"), (100, "event")]
    assert history[0].at == lead.start + timedelta(minutes=5)
    assert history[1].at == lead.start + timedelta(days=1)
    assert history[1].interaction.interaction_type == "face_analysis"
    assert {change.rule_version_id for change in history} == {scoring_config().version}
    assert history[1].reasons == lead.score_reasons


def test_an_event_that_does_not_move_the_score_is_not_a_change(lead):
    track_user_interaction(lead.sessions.get(), "search", {"query": "botox"})
    assert len(lead_score_history(lead=lead)) == 2


def test_after_a_rule_change_the_score_of_a_past_date_is_the_one_staff_saw_then(lead):
    old_version = scoring_config().version
    scoring_rule_change("Immediate urgency", points=5)
    call_command("rescore_leads", stdout=StringIO())
    lead.refresh_from_db()
    assert lead.lead_score == 90  # 80 + 5 + 5
    new_version = scoring_config().version
    assert new_version == old_version + 1

    latest = lead_score_history(lead=lead)[-1]
    assert (latest.score, latest.cause, latest.rule_version_id) == (90, ScoreChangeCause.RULES, new_version)

    first_day = lead_score_as_of(lead=lead, at=lead.start + timedelta(hours=1))
    assert (first_day.score, first_day.rule_version) == (85, old_version)
    assert {"rule": "Immediate urgency", "points": 25, "occurrences": 1} in first_day.reasons
    assert lead_score_as_of(lead=lead, at=lead.start + timedelta(days=2)).score == 100
    assert lead_score_as_of(lead=lead, at=timezone.now()).score == 90
    assert lead_score_as_of(lead=lead, at=lead.start - timedelta(days=1)).score == 0


def test_the_journey_replays_under_any_version_as_a_whole_or_up_to_a_date(lead):
    old_version = scoring_config().version
    scoring_rule_change("Immediate urgency", points=5)
    new_version = scoring_config().version

    assert lead_score_under(lead=lead, version=old_version).points == 100
    assert lead_score_under(lead=lead, version=new_version).points == 90
    # The replay of the first day under the old rules is the score recorded that day.
    replayed = lead_score_under(lead=lead, version=old_version, at=lead.start + timedelta(hours=1))
    recorded = lead_score_as_of(lead=lead, at=lead.start + timedelta(hours=1))
    assert (replayed.points, replayed.reasons_as_data()) == (recorded.score, recorded.reasons)
    assert lead_score_under(lead=lead, version=new_version, at=lead.start + timedelta(hours=1)).points == 65


def test_a_returning_visit_of_the_past_is_counted_from_the_interactions_of_then(lead):
    scoring_config()
    session = lead.sessions.get()
    # Both tool uses were a day apart: two visits, so "Returning visitor" (+10) held on day two.
    replayed = lead_score_under(lead=lead, version=scoring_config().version, at=lead.start + timedelta(days=2))
    assert "Returning visitor" in [reason.rule for reason in replayed.reasons] or session.visit_count < 2


def test_a_staff_adjustment_is_recorded_as_one_and_erasure_drops_its_reason(lead, django_user_model):
    manager = django_user_model.objects.create_user("manager", is_staff=True)
    lead_adjust_score(lead=lead, points=-20, reason="Called Sarah: not before summer", by=manager)
    change = lead_score_history(lead=lead)[-1]
    assert (change.score, change.cause) == (90, ScoreChangeCause.ADJUSTMENT)  # 110 - 20
    assert "Adjusted by staff: Called Sarah: not before summer" in [reason["rule"] for reason in change.reasons]

    person_erase(identifier="sarah@example.com")
    rules = [reason["rule"] for change in LeadScoreChange.objects.filter(lead=lead) for reason in change.reasons]
    assert "Adjusted by staff" in rules
    assert not any("Sarah" in rule for rule in rules)


def test_the_gdpr_export_carries_the_score_history(lead):
    from leads.gdpr import person_export

    document = person_export(identifier="sarah@example.com")
    assert [change["score"] for change in document["score_history"]] == [85, 100]
    assert document["score_history"][0]["cause"] == "event"
