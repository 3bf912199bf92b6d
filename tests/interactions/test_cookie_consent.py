"""Strict cookie-consent mode: nothing is recorded about a visitor before they accept."""

import pytest
from django.test import Client

from interactions.models import UserInteraction, UserSession

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def strict(settings):
    settings.TRACKING_CONSENT_MODE = "strict"


def test_before_consent_a_page_view_records_nothing_and_shows_the_banner(client):
    response = client.get("/?utm_source=google&utm_campaign=botox")
    page = response.content.decode()
    assert 'id="cookie-banner"' in page and "track.js" not in page
    assert not UserSession.objects.exists()
    assert "clinic_visitor" not in response.cookies


def test_accepting_starts_tracking_from_the_next_page(client):
    response = client.post("/privacy/cookies/", {"choice": "accepted", "next": "/treatments/"})
    assert response.url == "/treatments/"
    page = client.get("/?utm_source=google").content.decode()
    assert 'id="cookie-banner"' not in page and "track.js" in page
    assert UserSession.objects.get().utm_source == "google"


def test_declining_keeps_tracking_off_and_the_banner_away(client):
    client.post("/privacy/cookies/", {"choice": "declined"})
    page = client.get("/treatments/", {"q": "acne scars"}).content.decode()
    assert 'id="cookie-banner"' not in page and "Microneedling" in page
    assert not UserSession.objects.exists() and not UserInteraction.objects.exists()


def test_a_tool_still_works_without_consent_with_a_bare_session(client):
    response = client.post("/enhanced-ai/?utm_source=google", {"query": "lip filler"},
                           HTTP_REFERER="https://www.google.com/", HTTP_USER_AGENT="Mozilla/5.0 (iPhone)")
    assert response.status_code == 302
    assert "Lip filler" in client.get(response.url).content.decode()
    session = UserSession.objects.get()
    assert (session.utm_source, session.referrer, session.user_agent, session.ip_hash) == ("", "", "", "")


def test_the_tracking_api_refuses_events_without_consent():
    browser = Client(enforce_csrf_checks=True)
    browser.get("/")
    response = browser.post("/api/v1/track/", {"event": "page_engagement"}, content_type="application/json",
                            HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value)
    assert response.status_code == 403 and "accepts cookies" in response.json()["detail"]
    assert not UserInteraction.objects.exists()


def test_an_answer_other_than_accept_or_decline_is_refused(client):
    assert client.post("/privacy/cookies/", {"choice": "maybe"}).status_code == 400
