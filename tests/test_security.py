"""Trust over HTTP: rate limits, the honeypot, the admin login lockout, friendly error
pages, and no contact details in the logs."""

import datetime
import logging
import types
from unittest import mock

import django_ratelimit.core
import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone

from core.forms import HONEYPOT_ERROR
from interactions.models import UserInteraction
from leads.models import Appointment, Consent, Lead

CONTACT = {
    "first_name": "Sarah", "last_name": "Chen", "email": "sarah.chen@example.com", "phone": "07911 123456",
    "consent_contact": "on",
}


@pytest.fixture
def one_window(monkeypatch):
    """Hold the clock still for the rate limiter, so a minute's window cannot roll
    over in the middle of a test and reset the count."""
    monkeypatch.setattr(django_ratelimit.core, "time", types.SimpleNamespace(time=lambda: 1_800_000_000))


def limit_of(settings, kind: str) -> int:
    return int(settings.CLINIC_RATE_LIMITS[kind].split("/")[0])


def a_photo_without_consent() -> SimpleUploadedFile:
    return SimpleUploadedFile("me.jpg", b"not really a photo", content_type="image/jpeg")


@pytest.mark.django_db
def test_the_default_limits_are_twenty_form_posts_and_six_uploads_a_minute(settings):
    assert settings.CLINIC_RATE_LIMITS["forms"] == "20/m"
    assert settings.CLINIC_RATE_LIMITS["uploads"] == "6/m"


@pytest.mark.django_db
def test_the_contact_form_answers_429_with_a_friendly_page_after_the_limit(client, settings, one_window):
    for _ in range(limit_of(settings, "forms")):
        assert client.post("/contact/", {"first_name": ""}).status_code == 400
    response = client.post("/contact/", CONTACT)
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    page = response.content.decode()
    assert "Too many attempts; please wait a minute" in page and "<nav" in page
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_form_posts_count_together_across_the_public_forms_and_per_address(client, settings, one_window):
    for _ in range(limit_of(settings, "forms")):
        client.post("/enhanced-cost/", {})
    assert client.post("/book/", {}).status_code == 429
    assert client.post("/contact/thanks/", {}).status_code == 429
    assert client.get("/book/").status_code == 200
    assert Client(REMOTE_ADDR="203.0.113.9").post("/contact/", {}).status_code == 400


@pytest.mark.django_db
def test_photo_uploads_are_limited_more_tightly_than_forms(client, settings, one_window):
    uploads = limit_of(settings, "uploads")
    assert uploads < limit_of(settings, "forms")
    for _ in range(uploads):
        assert client.post("/enhanced-face/", {"photo": a_photo_without_consent()}).status_code == 400
    response = client.post("/enhanced-ai/", {"photo": a_photo_without_consent()})
    assert response.status_code == 429
    assert "please wait a minute" in response.content.decode()
    # Words are not an upload: the treatment finder still takes them.
    assert client.post("/enhanced-ai/", {"query": "lip filler"}).status_code == 302


@pytest.mark.django_db
def test_a_script_over_the_limit_gets_json(client, settings, one_window):
    settings.CLINIC_RATE_LIMITS = {**settings.CLINIC_RATE_LIMITS, "forms": "1/m"}
    client.post("/contact/", {})
    response = client.post("/contact/", "{}", content_type="application/json")
    assert response.status_code == 429
    assert response.json() == {"detail": "Too many attempts; please wait a minute and try again.", "errors": {}}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/contact/", "/book/", "/enhanced-ai/", "/enhanced-face/", "/enhanced-cost/"])
def test_every_public_form_carries_a_hidden_honeypot_field(client, path):
    page = client.get(path).content.decode()
    assert page.count('name="website"') == 1
    assert 'class="mb-3 hp-field"' in page
    assert 'tabindex="-1"' in page and 'autocomplete="off"' in page
    assert "Leave this field empty" in page


@pytest.mark.django_db
def test_a_filled_honeypot_on_the_contact_form_is_refused_and_creates_nothing(client):
    response = client.post("/contact/", {**CONTACT, "website": "http://spam.example"})
    assert response.status_code == 400
    assert HONEYPOT_ERROR in response.content.decode()
    assert not Lead.objects.exists() and not Consent.objects.exists()


@pytest.mark.django_db
def test_a_filled_honeypot_on_the_booking_form_books_nothing(client):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client.post("/book/", {
        "treatment": "hydrafacial", "preferred_date": tomorrow.isoformat(), "time_window": "morning",
        **CONTACT, "website": "cheap pills",
    })
    assert response.status_code == 400
    assert HONEYPOT_ERROR in response.content.decode()
    assert not Appointment.objects.exists() and not Lead.objects.exists() and not UserInteraction.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("path, data", [
    ("/enhanced-ai/", {"query": "botox for my forehead"}),
    ("/enhanced-cost/", {
        "line-TOTAL_FORMS": "1", "line-INITIAL_FORMS": "0", "line-MIN_NUM_FORMS": "0", "line-MAX_NUM_FORMS": "6",
        "line-0-procedure": "hydrafacial", "line-0-quantity": "1", "budget_range": "not_sure",
    }),
])
def test_a_filled_honeypot_on_a_tool_tracks_nothing(client, path, data):
    assert client.post(path, {**data, "website": "x"}).status_code == 400
    assert not UserInteraction.objects.exists()
    assert client.post(path, data).status_code == 302


@pytest.mark.django_db
def test_the_second_contact_step_refuses_a_filled_honeypot(client):
    client.post("/contact/", {**CONTACT, "phone": ""})
    response = client.post("/contact/thanks/", {"phone": "07911 123456", "website": "x"})
    assert response.status_code == 400
    assert Lead.objects.get().phone == ""


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user("frontdesk", password="right-password-123", is_staff=True)


def admin_login(client: Client, password: str):
    return client.post("/admin/login/", {"username": "frontdesk", "password": password, "next": "/admin/"})


def test_admin_logins_are_locked_after_repeated_bad_passwords_even_with_the_right_one(client, staff, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert admin_login(client, "wrong").status_code == 200
    locked = admin_login(client, "wrong")
    assert locked.status_code == 429
    assert "Login paused" in locked.content.decode()
    refused = admin_login(client, "right-password-123")
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session


def test_an_admin_lockout_holds_one_username_from_one_address_for_the_cool_off(client, staff, settings):
    from axes.models import AccessAttempt

    for _ in range(settings.AXES_FAILURE_LIMIT):
        admin_login(client, "wrong")
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")
    assert admin_login(elsewhere, "right-password-123").status_code == 302
    assert admin_login(client, "right-password-123").status_code == 429
    past = timezone.now() - settings.AXES_COOLOFF_TIME - datetime.timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=past)
    assert admin_login(client, "right-password-123").status_code == 302


@pytest.mark.django_db
def test_an_unknown_page_is_the_friendly_404_in_the_sites_look(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "We cannot find that page" in page and "Treatment finder" in page


@pytest.mark.django_db
def test_a_failure_mid_booking_shows_the_friendly_500_and_leaves_nothing_half_written(client, settings):
    assert settings.DEBUG is False
    client.raise_request_exception = False
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with mock.patch("leads.services._record_consents", side_effect=DatabaseError("disk I/O error")):
        response = client.post("/book/", {
            "treatment": "hydrafacial", "preferred_date": tomorrow.isoformat(), "time_window": "morning", **CONTACT,
        })
    assert response.status_code == 500
    page = response.content.decode()
    assert "Sorry, something went wrong" in page
    assert "Traceback" not in page and "disk I/O error" not in page
    assert not UserInteraction.objects.exists()
    assert not Lead.objects.exists() and not Appointment.objects.exists() and not Consent.objects.exists()


def test_the_400_and_500_pages_render_without_a_request_or_the_database():
    assert "Sorry, something went wrong" in render_to_string("500.html")
    assert "could not read that request" in render_to_string("400.html")


@pytest.mark.django_db
def test_an_expired_form_gets_the_friendly_csrf_page():
    response = Client(enforce_csrf_checks=True).post("/contact/", CONTACT)
    assert response.status_code == 403
    assert "Please reload the page and send the form again" in response.content.decode()
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_a_contact_form_submission_logs_no_contact_details(
    client, caplog, mailoutbox, django_capture_on_commit_callbacks, front_desk_inbox
):
    caplog.set_level(logging.DEBUG)
    client.post("/enhanced-ai/", {"query": "botox for my forehead lines before my wedding next month"})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/contact/", {**CONTACT, "phone": "", "interaction": UserInteraction.objects.get().pk})
    assert response.status_code == 302
    client.post("/contact/thanks/", {"phone": "07911 123456"})
    lead = Lead.objects.get()
    # High intent: the staff e-mail went out too, and logged nothing of the patient either.
    assert lead.phone and lead.engagement_level == "high" and len(mailoutbox) == 1
    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    assert "notify_staff_of_high_intent_lead" in logged
    for detail in ("sarah.chen", "example.com", "07911", "447911", "Chen"):
        assert detail not in logged
