"""create_lead_from_form: one person, one lead, with their whole journey."""

from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from interactions import tracker
from interactions.models import UserInteraction
from leads.models import Consent, Lead
from leads.services import create_lead_from_form, lead_rescore
from tests.factories import UserSessionFactory, scoring_rule_change

pytestmark = pytest.mark.django_db


def test_a_visitor_becomes_a_lead_with_the_score_of_their_journey(visitor, contact):
    interaction = tracker.track_user_interaction(visitor, "ai_recommendation", {"urgency": "immediate"})
    lead = create_lead_from_form(session=visitor, interaction=interaction, data=contact)
    assert (lead.first_name, lead.last_name) == ("Sarah", "Chen")
    assert lead.lead_score == 85
    assert lead.engagement_level == "high"
    assert lead.interaction == interaction
    assert lead.source == "ai_recommendation"
    assert [reason["rule"] for reason in lead.score_reasons] == ["AI recommendation", "Immediate urgency"]


def test_contact_details_are_stored_normalised(visitor, contact):
    lead = create_lead_from_form(
        session=visitor, data={**contact, "email": "  Sarah.Chen@Example.COM ", "phone": "(07911) 123-456"}
    )
    assert lead.email == "sarah.chen@example.com"
    assert lead.phone == "+447911123456"


def test_the_lead_carries_the_sessions_first_touch_attribution(visitor, contact):
    lead = create_lead_from_form(session=visitor, data=contact)
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == ("google", "cpc", "botox-spring")
    assert lead.landing_page == "/enhanced-ai/?utm_source=google"


def test_all_earlier_interactions_of_the_session_are_linked_and_converted(visitor, contact):
    for kind in ("search", "ai_recommendation", "cost_calculator"):
        tracker.track_user_interaction(visitor, kind, {})
    lead = create_lead_from_form(session=visitor, data=contact)
    visitor.refresh_from_db()
    assert visitor.lead == lead
    assert visitor.converted_at is not None
    assert set(UserInteraction.objects.values_list("lead_id", "converted")) == {(lead.pk, True)}
    assert lead.lead_score == 70 + 5  # the search is not a tool use (issue 10)
    assert lead.interaction.interaction_type == "cost_calculator"


def test_what_a_lead_does_afterwards_updates_their_score(visitor, contact):
    tracker.track_user_interaction(visitor, "ai_recommendation", {})
    lead = create_lead_from_form(session=visitor, data=contact)
    assert lead.lead_score == 60
    later = tracker.track_user_interaction(visitor, "appointment_booking", {})
    lead.refresh_from_db()
    assert later.lead == lead and not later.converted
    assert lead.lead_score == 95


@pytest.mark.parametrize(
    ("email", "phone"),
    [
        ("SARAH.CHEN@example.com", ""),
        ("  sarah.chen@EXAMPLE.com\t", ""),
        ("", "+44 7911 123456"),
        ("", "07911123456"),
        ("", "0044 (0)7911 123 456"),
        ("sarah.c@work.example", "+447911123456"),
    ],
)
def test_a_returning_patient_from_a_trusted_source_updates_their_lead_instead_of_creating_a_second(
    visitor, contact, email, phone
):
    first = create_lead_from_form(session=visitor, data=contact)
    again = UserSessionFactory()
    lead = create_lead_from_form(
        session=again, data={"first_name": "Sarah", "email": email, "phone": phone, "consent_contact": True},
        trusted=True,
    )
    assert lead.pk == first.pk
    assert Lead.objects.count() == 1
    assert set(lead.sessions.all()) == {visitor, again}


def test_a_visitor_from_another_browser_naming_a_patients_email_only_leaves_a_note(visitor, contact):
    first = create_lead_from_form(session=visitor, data=contact)
    stranger = UserSessionFactory()
    tracker.track_user_interaction(stranger, "appointment_booking", {"urgency": "immediate"})
    lead = create_lead_from_form(
        session=stranger, data={**contact, "first_name": "Eve", "phone": "07400 123456", "consent_marketing": True}
    )
    lead.refresh_from_db()
    stranger.refresh_from_db()
    assert lead.pk == first.pk
    assert (lead.first_name, lead.phone, lead.lead_score) == ("Sarah", "+447911123456", first.lead_score)
    assert stranger.lead is None and stranger.converted_at is not None
    assert not UserInteraction.objects.filter(session=stranger, lead__isnull=False).exists()
    assert set(Consent.objects.filter(lead=lead).values_list("purpose", flat=True)) == {"contact"}
    assert "Eve Chen (differs from the lead)" in lead.notes.get().text


def test_a_returning_patients_journeys_from_a_trusted_source_are_scored_together(visitor, contact):
    tracker.track_user_interaction(visitor, "ai_recommendation", {})
    create_lead_from_form(session=visitor, data=contact)
    again = UserSessionFactory()
    tracker.track_user_interaction(again, "face_analysis", {})
    lead = create_lead_from_form(session=again, data=contact, trusted=True)
    # Face analysis base, one further interaction, and two visits: a returning visitor.
    assert lead.lead_score == 80 + 5 + 10
    assert lead.interactions.count() == 2


def test_a_returning_patient_keeps_their_first_touch_attribution(visitor, contact):
    create_lead_from_form(session=visitor, data=contact)
    again = UserSessionFactory(utm_source="newsletter", utm_medium="email")
    lead = create_lead_from_form(session=again, data=contact, trusted=True)
    assert (lead.utm_source, lead.utm_medium) == ("google", "cpc")


def test_another_persons_phone_is_never_moved_onto_a_lead(visitor, contact):
    create_lead_from_form(session=visitor, data={**contact, "email": "", "phone": "07911 123456"})
    other = create_lead_from_form(
        session=UserSessionFactory(), data={**contact, "email": "priya@example.com", "phone": ""}
    )
    lead = create_lead_from_form(
        session=UserSessionFactory(), data={**contact, "email": "priya@example.com", "phone": "07911 123456"}
    )
    assert lead.pk == other.pk
    assert lead.phone == ""
    assert Lead.objects.count() == 2


def test_consent_is_recorded_with_its_wording_and_version(visitor, contact):
    lead = create_lead_from_form(session=visitor, data={**contact, "consent_marketing": True})
    consents = {consent.purpose: consent for consent in Consent.objects.filter(lead=lead)}
    assert set(consents) == {"contact", "marketing"}
    assert consents["contact"].text_version == "contact-v1"
    assert "contact me" in consents["contact"].text
    assert consents["contact"].session == visitor


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"phone": "+44 1234"}, "phone"),
        ({"email": "", "phone": ""}, "email"),
        ({"first_name": "x" * 101}, "first_name"),
        ({"email": ["a@b.c"]}, "email"),
        ({"consent_contact": False}, "consent_contact"),
        ({"consent_contact": "yes"}, "consent_contact"),
    ],
)
def test_bad_contact_data_is_refused_with_a_field_message(visitor, contact, change, field):
    with pytest.raises(ValidationError) as error:
        create_lead_from_form(session=visitor, data={**contact, **change})
    assert field in error.value.message_dict
    assert not Lead.objects.exists()


def test_an_interaction_of_another_visitor_cannot_be_claimed(visitor, contact):
    foreign = tracker.track_user_interaction(UserSessionFactory(), "face_analysis", {})
    with pytest.raises(ValidationError):
        create_lead_from_form(session=visitor, interaction=foreign, data=contact)
    assert not Lead.objects.exists()


def test_a_failure_half_way_leaves_nothing_written(visitor, contact):
    tracker.track_user_interaction(visitor, "ai_recommendation", {})
    with mock.patch.object(Consent.objects, "bulk_create", side_effect=RuntimeError("disk full")):
        with pytest.raises(RuntimeError):
            create_lead_from_form(session=visitor, data=contact)
    visitor.refresh_from_db()
    assert not Lead.objects.exists()
    assert visitor.lead is None
    assert not UserInteraction.objects.filter(lead__isnull=False).exists()
    assert not UserInteraction.objects.filter(converted=True).exists()


def test_staff_hear_once_when_a_lead_reaches_high_intent(
    visitor, contact, mailoutbox, django_capture_on_commit_callbacks, front_desk_inbox
):
    with django_capture_on_commit_callbacks(execute=True):
        tracker.track_user_interaction(visitor, "ai_recommendation", {})
        create_lead_from_form(session=visitor, data=contact)
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        tracker.track_user_interaction(visitor, "face_analysis", {})
    with django_capture_on_commit_callbacks(execute=True):
        tracker.track_user_interaction(visitor, "appointment_booking", {})
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["frontdesk@clinic.test"]
    assert "score 85" in mailoutbox[0].body
    assert "sarah.chen@example.com" not in mailoutbox[0].body


def test_rescoring_a_lead_applies_changed_rules(visitor, contact):
    from scoring.models import LeadScoringRule

    tracker.track_user_interaction(visitor, "ai_recommendation", {"urgency": "immediate"})
    lead = create_lead_from_form(session=visitor, data=contact)
    scoring_rule_change("Immediate urgency", points=10)
    lead_rescore(lead=lead)
    lead.refresh_from_db()
    assert lead.lead_score == 70


def test_a_new_person_on_a_converted_visitors_device_must_give_their_own_consent(visitor, contact):
    create_lead_from_form(session=visitor, data=contact)
    visitor.refresh_from_db()
    other = {"first_name": "Priya", "email": "priya@example.com", "consent_contact": False}
    with pytest.raises(ValidationError) as error:
        create_lead_from_form(session=visitor, data=other)
    assert "consent_contact" in error.value.message_dict
    assert Lead.objects.count() == 1


def test_a_known_visitor_is_not_asked_for_consent_again(visitor, contact):
    create_lead_from_form(session=visitor, data=contact)
    visitor.refresh_from_db()
    lead = create_lead_from_form(session=visitor, data={"message": "Also interested in a peel"})
    assert "peel" in lead.message and Lead.objects.count() == 1


def test_rescoring_an_unchanged_lead_writes_nothing(visitor, contact):
    tracker.track_user_interaction(visitor, "ai_recommendation", {})
    lead = create_lead_from_form(session=visitor, data=contact)
    lead.refresh_from_db()
    stamp = lead.updated_at
    lead_rescore(lead=lead)
    lead.refresh_from_db()
    assert lead.updated_at == stamp


def test_a_local_number_from_another_country_is_asked_for_its_country_code(visitor, contact):
    with pytest.raises(ValidationError) as error:
        create_lead_from_form(session=visitor, data={**contact, "phone": "06 12 34 56 78"})
    message = error.value.message_dict["phone"][0]
    assert "not a United Kingdom number" in message and "add its country code" in message
    lead = create_lead_from_form(session=visitor, data={**contact, "phone": "+33 6 12 34 56 78"})
    assert lead.phone == "+33612345678"


def test_a_booking_more_than_a_year_ahead_is_refused_by_the_service(visitor, contact):
    from leads.models import Appointment
    from leads.services import appointment_request

    too_late = timezone.localdate() + timezone.timedelta(days=366)
    with pytest.raises(ValidationError) as error:
        appointment_request(session=visitor, treatment="Consultation", treatment_slug="", preferred_date=too_late,
                            time_window="morning", data=contact)
    assert "a year ahead" in error.value.message_dict["preferred_date"][0]
    assert not Appointment.objects.exists() and not Lead.objects.exists()
