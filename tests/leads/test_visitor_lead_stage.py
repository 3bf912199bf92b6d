"""Every visitor who became a lead carries the furthest stage that lead reached
(UserSession.lead_stage, read by the dashboard's funnel): in step with the lead on
every road a lead is made, linked or moved on."""

import threading
from pathlib import Path

import pytest
from django.db import connections

import leads
from interactions.models import UserSession
from interactions.services import session_start
from interactions.tracker import track_user_interaction
from leads.gdpr import person_erase
from leads.models import Lead, LeadStatus
from leads.services import create_lead_from_form, lead_update_status

SAMPLE = Path(leads.__file__).parent / "fixtures" / "legacy_interactions_sample.csv"


def out_of_step() -> list[tuple[int, str, str]]:
    """Visitors whose copy is not their lead's stage (blank for a visitor who is no
    lead): (visitor, copy, lead's stage)."""
    wrong = []
    for session in UserSession.objects.select_related("lead"):
        expected = session.lead.stage_reached if session.lead_id else ""
        if session.lead_stage != expected:
            wrong.append((session.pk, session.lead_stage, expected))
    return wrong


def at_once(*works) -> list[BaseException]:
    """Run each work on its own thread, all started together; the errors they raised."""
    start, errors = threading.Barrier(len(works)), []

    def run(work):
        try:
            start.wait()
            work()
        except BaseException as error:  # returned to the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def lead_of(session, email="priya@example.com", **options) -> Lead:
    return create_lead_from_form(session=session, data={"email": email, "consent_contact": True}, **options)


@pytest.mark.django_db
def test_a_visitor_who_becomes_a_lead_carries_its_stage_and_others_none():
    browsing, converting = session_start(landing_page="/"), session_start(landing_page="/")
    track_user_interaction(converting, "ai_recommendation", {})
    lead_of(converting)

    converting.refresh_from_db()
    browsing.refresh_from_db()
    assert (converting.lead_stage, browsing.lead_stage) == ("new", "")
    assert out_of_step() == []


@pytest.mark.django_db
def test_every_visitor_of_a_lead_follows_its_status_and_keeps_the_furthest_stage():
    first, second = session_start(landing_page="/"), session_start(landing_page="/")
    lead = lead_of(first)
    lead_of(second, trusted=True)  # the same patient on another device
    stages = []
    for status in (LeadStatus.CONTACTED, LeadStatus.BOOKED, LeadStatus.CONTACTED, LeadStatus.LOST, LeadStatus.WON):
        lead_update_status(lead=lead, status=status)
        assert out_of_step() == []
        stages.append(set(UserSession.objects.filter(lead=lead).values_list("lead_stage", flat=True)))
    # Moved back, then lost: the visitors still count as booked, as the lead does.
    assert stages == [{"contacted"}, {"booked"}, {"booked"}, {"booked"}, {"won"}]


@pytest.mark.django_db
def test_a_returning_patients_new_browser_gets_the_stage_their_lead_reached():
    lead = lead_of(session_start(landing_page="/"))
    lead_update_status(lead=lead, status=LeadStatus.BOOKED)
    lead_update_status(lead=lead, status=LeadStatus.LOST)

    new_device = session_start(landing_page="/")
    lead_of(new_device, trusted=True)

    new_device.refresh_from_db()
    assert (new_device.lead_id, new_device.lead_stage) == (lead.pk, "booked")
    assert out_of_step() == []


@pytest.mark.django_db
def test_an_unverified_enquiry_does_not_link_the_browser_or_give_it_a_stage():
    lead = lead_of(session_start(landing_page="/"))
    lead_update_status(lead=lead, status=LeadStatus.CONTACTED)
    stranger = session_start(landing_page="/")
    lead_of(stranger)  # not trusted: a note on the lead

    stranger.refresh_from_db()
    assert (stranger.lead_id, stranger.lead_stage) == (None, "")
    assert out_of_step() == []


@pytest.mark.django_db
def test_erasure_keeps_the_erased_leads_stage_on_its_visitors():
    lead = lead_of(session_start(landing_page="/"), email="sarah@example.com")
    lead_update_status(lead=lead, status=LeadStatus.BOOKED)

    person_erase(identifier="sarah@example.com")

    assert list(UserSession.objects.filter(lead=lead).values_list("lead_stage", flat=True)) == ["booked"]
    assert out_of_step() == []


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", ["1", "1000"])
def test_imported_visitors_carry_their_leads_stage(batch_size):
    from io import StringIO

    from django.core.management import call_command

    # A patient already on file, moved on, whom the import meets again.
    known = lead_of(session_start(landing_page="/"), email="sarah.chen@example.com")
    lead_update_status(lead=known, status=LeadStatus.QUALIFIED)

    call_command("import_interactions", str(SAMPLE), "--batch-size", batch_size, stdout=StringIO(),
                 stderr=StringIO())

    assert UserSession.objects.filter(lead__isnull=False).count() > 1
    assert set(UserSession.objects.filter(lead=known).values_list("lead_stage", flat=True)) == {"qualified"}
    assert out_of_step() == []


def test_the_demo_visitors_carry_their_leads_stages(demo):
    assert UserSession.objects.exclude(lead_stage__in=["", "new"]).exists()
    assert out_of_step() == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_status_changes_and_the_leads_own_events_at_once_neither_fail_nor_leave_a_visitor_behind():
    """Staff move the lead on while the patient uses the site and a second browser of
    theirs is linked: the tracker locks a visitor, then its lead; a status change locks
    the lead's visitors first, so neither waits for the other (no deadlock), and no
    visitor linked meanwhile keeps an old stage."""
    browsers = [session_start(landing_page="/") for _ in range(2)]
    lead = lead_of(browsers[0])
    def move_on():
        for status in (LeadStatus.CONTACTED, LeadStatus.QUALIFIED, LeadStatus.BOOKED, LeadStatus.WON):
            lead_update_status(lead=Lead.objects.get(pk=lead.pk), status=status)

    def browse(session):
        def events():
            for _ in range(10):
                track_user_interaction(UserSession.objects.get(pk=session.pk), "search", {"query": "botox"})
        return events

    assert at_once(move_on, browse(browsers[0]), lambda: lead_of(browsers[1], trusted=True)) == []
    assert set(UserSession.objects.filter(lead=lead).values_list("lead_stage", flat=True)) == {"won"}
    assert out_of_step() == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_erasure_while_the_patient_browses_neither_fails_nor_deadlocks():
    """A patient asks to be erased while still on the site: the erasure locks the lead's
    visitors before the lead, in the tracker's order, so neither waits for the other."""
    browser = session_start(landing_page="/")
    lead = lead_of(browser)
    browsing = threading.Event()

    def browse():
        for number in range(30):
            track_user_interaction(UserSession.objects.get(pk=browser.pk), "search", {"query": "botox"})
            if number == 3:
                browsing.set()

    def erase():
        browsing.wait(timeout=10)
        person_erase(identifier="priya@example.com")

    assert at_once(browse, erase) == []
    assert Lead.objects.get(pk=lead.pk).erased_at is not None
