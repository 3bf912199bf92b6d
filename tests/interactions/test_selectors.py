"""interactions.selectors.lead_journeys: the journeys rescoring scores, read as the
tracker reads them (one query on PostgreSQL, three elsewhere)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from interactions.models import UserInteraction
from interactions.selectors import lead_journeys, lead_visit_facts
from interactions.tracker import journey_session_facts, journey_stored_steps, track_user_interaction
from leads.models import Lead
from leads.services import create_lead_from_form
from scoring.engine import Step
from tests.factories import UserSessionFactory

pytestmark = pytest.mark.django_db


def test_a_leads_journey_is_read_as_the_tracker_reads_it():
    earlier = timezone.now() - timedelta(days=3)
    phone = UserSessionFactory(utm_source="google", utm_campaign="lips", engagement_seconds=40, visit_count=2,
                               last_seen_at=earlier)
    laptop = UserSessionFactory(utm_source="newsletter", engagement_seconds=200, visit_count=1)
    track_user_interaction(phone, "face_analysis", {"urgency": "immediate", "procedures": ["botox"]},
                           occurred_at=earlier)
    track_user_interaction(laptop, "cost_calculator", {"budget_level": "high"})
    track_user_interaction(laptop, "search", {"query": "lips"})
    lead = create_lead_from_form(session=phone, data={"email": "ana@example.com", "consent_contact": True})
    create_lead_from_form(session=laptop, data={"email": "ana@example.com", "consent_contact": True}, trusted=True)
    silent = Lead.objects.create(email="silent@example.com")

    journeys = lead_journeys(lead_ids=[lead.pk, silent.pk])

    latest = lead.sessions.order_by("-last_seen_at", "-pk").first()
    stored = journey_stored_steps(latest)
    # Without times unless asked (scoring without decay needs none).
    assert journeys[lead.pk].steps == [Step(step.interaction_type, step.data) for _, step in stored]
    assert journeys[lead.pk].last_at == stored[-1][0]
    assert journeys[lead.pk].session_facts == journey_session_facts(session=latest)
    assert journeys[lead.pk].session_facts.utm_source == "newsletter"  # the latest visit's campaign
    assert journeys[lead.pk].session_facts.engagement_seconds == sum(
        lead.sessions.values_list("engagement_seconds", flat=True))
    assert UserInteraction.objects.filter(lead=lead).count() == 3
    # No session: scored as one fresh visit.
    assert (journeys[silent.pk].steps, journeys[silent.pk].last_at) == ([], None)
    assert (journeys[silent.pk].session_facts.visit_count, journeys[silent.pk].session_facts.utm_source) == (1, "")


def test_a_leads_journey_read_with_times_has_each_steps_time_and_the_same_visits():
    earlier = timezone.now() - timedelta(days=3)
    session = UserSessionFactory(utm_source="google", engagement_seconds=40, visit_count=2)
    track_user_interaction(session, "face_analysis", {"urgency": "immediate"}, occurred_at=earlier)
    track_user_interaction(session, "search", {"query": "lips"})
    lead = create_lead_from_form(session=session, data={"email": "ana@example.com", "consent_contact": True})
    silent = Lead.objects.create(email="silent@example.com")

    journeys = lead_journeys(lead_ids=[lead.pk, silent.pk], times=True)

    stored = journey_stored_steps(session)
    assert [(step.interaction_type, step.data) for step in journeys[lead.pk].steps] == [
        (step.interaction_type, step.data) for _, step in stored]
    assert [step.at for step in journeys[lead.pk].steps] == [
        pytest.approx(moment.timestamp(), abs=1e-6) for moment, _ in stored]
    assert lead_visit_facts(lead_ids=[lead.pk, silent.pk]) == {
        pk: journey.session_facts for pk, journey in journeys.items()}
