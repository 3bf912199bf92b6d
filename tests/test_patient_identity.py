"""A patient's identity and browser are theirs: staff cannot become the patient's
browser, and someone who knows a patient's e-mail or phone cannot take over their lead
or learn whether they are a patient here."""

import datetime
import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clinic.roles import FRONT_DESK
from interactions.models import UserSession
from leads.models import Appointment, Consent, Lead, LeadNote
from scoring.models import ScoringSettings
from tests.factories import scoring_settings_change

pytestmark = pytest.mark.django_db
COOKIE = settings.VISITOR_COOKIE_NAME

SARAH = {
    "first_name": "Sarah", "last_name": "Chen", "email": "sarah.chen@example.com", "phone": "",
    "consent_contact": "on",
}
EVE = {
    "first_name": "Eve", "last_name": "Mallory", "email": "sarah.chen@example.com", "phone": "07400 123456",
    "message": "Call me on my new number", "consent_contact": "on",
}


def session_of(client) -> UserSession:
    return UserSession.objects.get(public_id=client.cookies[COOKIE].value.partition(".")[0])


def without_tokens(page: bytes) -> str:
    """The page with its one-time values (CSRF token, form submission id) blanked."""
    page = re.sub(r'value="[^"]{20,}"', 'value=""', page.decode())
    return re.sub(r'content="[^"]{20,}"', 'content=""', page)


@pytest.fixture
def sarah(client):
    """Sarah used the recommender and left her e-mail: her browser is her lead's.
    This clinic counts only 95 and more as high intent, so hers (an enquiry, 70) is not
    high yet and staff have not been alerted."""
    scoring_settings_change(high_threshold=95)
    client.post("/enhanced-ai/", {"query": "lip filler"})
    client.post("/contact/", SARAH)
    return Lead.objects.get(email="sarah.chen@example.com")


def test_the_id_staff_see_in_the_api_does_not_open_the_patients_browser(client, sarah):
    staff = get_user_model().objects.create_user("desk", password="pw-12345-x", is_staff=True)
    staff.groups.add(Group.objects.get(name=FRONT_DESK))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff).key}")
    row = api.get("/api/v1/interactions/", {"lead": sarah.pk}).json()["results"][0]
    assert row["session"] == str(session_of(client).public_id)

    impostor = Client()
    impostor.cookies[COOKIE] = row["session"]
    page = impostor.get("/contact/thanks/", follow=True).content.decode()
    assert "Sarah" not in page
    assert UserSession.objects.filter(lead=sarah).count() == 1


def test_the_patients_own_browser_still_sees_their_thank_you(client, sarah):
    assert "Thank you, Sarah" in client.get("/contact/thanks/").content.decode()


def test_someone_who_knows_a_patients_email_cannot_take_over_their_lead(client, sarah):
    attacker = Client()
    attacker.get("/")
    response = attacker.post("/contact/", EVE)
    assert response.status_code == 302 and response.url == "/contact/thanks/"

    sarah.refresh_from_db()
    assert (sarah.first_name, sarah.last_name, sarah.phone) == ("Sarah", "Chen", "")
    assert "new number" not in sarah.message
    assert list(UserSession.objects.filter(lead=sarah)) == [session_of(client)]
    assert session_of(attacker).lead is None
    assert Consent.objects.filter(lead=sarah).count() == 1
    note = LeadNote.objects.get(lead=sarah)
    assert note.text.startswith("To review")
    assert "Eve Mallory (differs from the lead)" in note.text and "+447400123456" in note.text
    assert "new number" in note.text and str(session_of(attacker).public_id) in note.text

    page = attacker.get("/contact/thanks/").content.decode()
    assert "Thank you, Eve" in page and "Sarah" not in page


def test_a_booking_after_it_neither_raises_the_patients_score_nor_alerts_staff(
    client, sarah, mailoutbox, django_capture_on_commit_callbacks, front_desk_inbox
):
    score = sarah.lead_score
    attacker = Client()
    attacker.get("/")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        attacker.post("/contact/", EVE)
        response = attacker.post("/book/", {
            "treatment": "botox", "preferred_date": tomorrow.isoformat(), "time_window": "morning", **EVE,
        })
    assert response.status_code == 302

    sarah.refresh_from_db()
    assert score < 80
    assert sarah.lead_score == score and sarah.high_intent_notified_at is None
    assert mailoutbox == []
    assert session_of(attacker).lead is None
    appointment = Appointment.objects.get()
    assert appointment.lead == sarah and appointment.notes.startswith("Unverified")
    assert any("Asked for an appointment" in note.text for note in sarah.notes.all())
    page = attacker.get(response.url).content.decode()
    assert "Thank you, Eve" in page and "Sarah" not in page and "by phone" in page


def test_the_thank_you_does_not_tell_whether_the_email_was_known(client, sarah):
    """The same name typed with a known and with an unknown e-mail: the same answers."""
    def submit(email):
        browser = Client()
        browser.get("/")
        posted = browser.post("/contact/", {**EVE, "phone": "", "email": email})
        return browser, posted

    known_browser, known = submit("sarah.chen@example.com")
    new_browser, new = submit("someone.new@example.com")
    assert (known.status_code, known.url) == (new.status_code, new.url)
    assert set(known.cookies) == set(new.cookies)
    assert without_tokens(known_browser.get("/contact/thanks/").content) == without_tokens(
        new_browser.get("/contact/thanks/").content)
    # Nor does the next result page: neither is asked for their details again.
    for browser in (known_browser, new_browser):
        result = browser.get(browser.post("/enhanced-ai/", {"query": "botox before my wedding next week"}).url)
        assert 'id="contact-prompt"' not in result.content.decode()


def test_the_booking_form_afterwards_does_not_tell_whether_the_email_was_known(client, sarah):
    """A new lead is not asked again for their details; nor is the unverified visitor,
    whose booking still goes to the lead they named, as a note to review."""
    def book_page(email):
        browser = Client()
        browser.get("/")
        browser.post("/contact/", {**EVE, "email": email})
        return browser, browser.get("/book/")

    known_browser, known = book_page("sarah.chen@example.com")
    _, new = book_page("someone.new@example.com")
    assert without_tokens(known.content) == without_tokens(new.content)
    assert 'name="email"' not in known.content.decode()

    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = known_browser.post("/book/", {"treatment": "", "preferred_date": tomorrow.isoformat(),
                                             "time_window": "evening"})
    assert response.status_code == 302
    assert Appointment.objects.get().lead == sarah
    assert sarah.notes.count() == 2 and session_of(known_browser).lead is None


def test_the_second_step_does_not_tell_whether_a_phone_is_on_file(client):
    Lead.objects.create(first_name="Priya", email="priya@example.com", phone="+447911100202")

    def second_step(email, phone):
        browser = Client()
        browser.get("/")
        browser.post("/contact/", {**SARAH, "email": email})
        return browser.post("/contact/thanks/", {"phone": phone})

    taken = second_step("ann@example.com", "07911 100202")
    free = second_step("bea@example.com", "07911 100303")
    assert taken.status_code == free.status_code == 200
    assert without_tokens(taken.content) == without_tokens(free.content)
    assert Lead.objects.get(email="ann@example.com").phone == ""
    assert Lead.objects.get(email="bea@example.com").phone == "+447911100303"
    note = LeadNote.objects.get(lead__email="ann@example.com")
    assert "on file for another lead" in note.text and "+447911100202" in note.text


def test_the_second_step_of_an_unverified_enquiry_only_leaves_a_note(client, sarah):
    attacker = Client()
    attacker.get("/")
    attacker.post("/contact/", {**EVE, "phone": ""})
    response = attacker.post("/contact/thanks/", {"phone": "07400 123456"})
    assert response.status_code == 200 and "We have added your details" in response.content.decode()
    sarah.refresh_from_db()
    assert sarah.phone == ""
    assert "+447400123456" in sarah.notes.order_by("-pk").first().text


def test_the_patients_own_browser_still_updates_their_lead(client, sarah):
    from leads.services import create_lead_from_form

    create_lead_from_form(session=session_of(client), data={**SARAH, "first_name": "Sara", "phone": "07911 123456",
                                                             "consent_contact": True})
    sarah.refresh_from_db()
    assert (sarah.first_name, sarah.phone) == ("Sara", "+447911123456")
    assert not sarah.notes.exists()


def test_giving_contact_details_gives_the_browser_a_new_cookie(client):
    client.get("/")
    before = client.cookies[COOKIE].value
    client.post("/contact/", SARAH)
    after = client.cookies[COOKIE].value
    assert after != before and after.partition(".")[0] == before.partition(".")[0]
    copy = Client()
    copy.cookies[COOKIE] = before
    assert "Sarah" not in copy.get("/contact/thanks/", follow=True).content.decode()
