"""POST /api/v1/track/: engagement and search events from the clinic's own pages."""

import re

import pytest
from django.middleware.csrf import _get_new_csrf_string
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from interactions.api import TRACK_EVENT, event_plainly

from interactions.models import UserInteraction, UserSession
from scoring.models import ScoringSettings
from tests.factories import scoring_settings_change

pytestmark = pytest.mark.django_db
URL = "/api/v1/track/"


@pytest.fixture
def browser(visitor_browser):
    return visitor_browser


def post(client, payload, **headers):
    return client.post(URL, payload, content_type="application/json", HTTP_X_CSRFTOKEN=client.token, **headers)


def test_an_engagement_event_is_tracked_against_the_visitors_session(browser):
    response = post(browser, {"event": "page_engagement", "page_url": "/treatments/", "engagement_seconds": 200,
                              "scroll_depth": 80})
    assert response.status_code == 201
    interaction = UserInteraction.objects.get()
    assert interaction.session == UserSession.objects.get()
    assert (interaction.page_url, interaction.engagement_seconds, interaction.data) == ("/treatments/", 200,
                                                                                        {"scroll_depth": 80})
    assert response.json() == {"interaction": interaction.pk, "score": 15, "engagement_level": "low",
                               "show_contact_prompt": False}


def test_the_answer_says_when_to_offer_the_contact_form_and_counts_the_offer(browser):
    scoring_settings_change(contact_prompt_threshold=15)
    assert post(browser, {"event": "page_engagement", "engagement_seconds": 200}).json()["show_contact_prompt"]
    assert UserSession.objects.get().contact_prompt_shown_count == 1


def test_beacons_from_one_page_count_as_one_offer(browser):
    scoring_settings_change(contact_prompt_threshold=15)
    for _ in range(5):
        answer = post(browser, {"event": "page_engagement", "page_url": "/treatments/", "engagement_seconds": 200})
        assert answer.json()["show_contact_prompt"]
    assert UserSession.objects.get().contact_prompt_shown_count == 1


def test_a_beacon_sent_as_the_page_is_left_neither_offers_nor_uses_up_an_offer(browser):
    scoring_settings_change(contact_prompt_threshold=15)
    answer = post(browser, {"event": "page_engagement", "page_url": "/enhanced-ai/", "engagement_seconds": 200,
                            "leaving": True})
    assert answer.json()["show_contact_prompt"] is False
    assert UserSession.objects.get().contact_prompt_shown_count == 0


def test_a_search_event_keeps_what_was_searched(browser):
    assert post(browser, {"event": "search", "query": " lip filler "}).status_code == 201
    assert UserInteraction.objects.get().data == {"query": "lip filler"}


def test_a_beacon_sends_the_token_in_its_form_body(browser):
    from urllib.parse import urlencode

    body = urlencode({"event": "page_engagement", "engagement_seconds": "12", "csrfmiddlewaretoken": browser.token})
    response = browser.post(URL, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 201


def test_without_the_csrf_token_nothing_is_tracked(browser):
    response = browser.post(URL, {"event": "page_engagement"}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not UserInteraction.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"event": "face_analysis"}, "event"),
        ({}, "event"),
        ({"event": "search"}, "query"),
        ({"event": "page_engagement", "engagement_seconds": -1}, "engagement_seconds"),
        ({"event": "page_engagement", "engagement_seconds": "ten"}, "engagement_seconds"),
        ({"event": "page_engagement", "scroll_depth": 101}, "scroll_depth"),
        ({"event": "page_engagement", "page_url": "x" * 501}, "page_url"),
    ],
)
def test_bad_events_get_a_400_with_field_messages(browser, payload, field):
    response = post(browser, payload)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Some fields are not valid." and field in body["errors"]
    assert not UserInteraction.objects.exists()


def test_malformed_json_is_a_400_not_a_500(browser):
    response = browser.post(URL, "{not json", content_type="application/json", HTTP_X_CSRFTOKEN=browser.token)
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_the_openapi_schema_is_served_and_validates_without_warnings(client):
    from io import StringIO

    from django.core.management import call_command

    response = client.get("/api/schema/")
    assert response.status_code == 200 and b"/api/v1/track/" in response.content
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=StringIO())
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs
    # Every script and stylesheet comes from this site (the sidecar), none from a CDN.
    assert re.findall(r'(?:src|href)="(https?:)?//', docs) == []
    assert "/static/drf_spectacular_sidecar/" in docs


def test_the_tracking_endpoint_is_rate_limited(browser, settings):
    settings.CLINIC_RATE_LIMITS = {**settings.CLINIC_RATE_LIMITS, "tracking": "3/m"}
    statuses = [post(browser, {"event": "page_engagement"}).status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    assert UserInteraction.objects.count() == 3


def test_repeated_searches_add_nothing_to_a_visitors_score(
    browser, mailoutbox, django_capture_on_commit_callbacks
):
    from leads.models import Lead

    post(browser, {"event": "page_engagement", "engagement_seconds": 200})
    scores = [post(browser, {"event": "search", "query": "x"}).json()["score"] for _ in range(17)]
    assert scores == [15] * 17  # was 20, 25, ... 100
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post("/contact/", {"first_name": "Mallory", "email": "mallory@example.com",
                                              "consent_contact": "on", "csrfmiddlewaretoken": browser.token})
    assert response.status_code == 302
    lead = Lead.objects.get()
    # What the enquiry itself is worth (base 70) and the time on site (+15): the
    # searches add nothing, however many.
    assert lead.lead_score == 85
    assert [reason["rule"] for reason in lead.score_reasons] == ["Explicit enquiry", "High engagement time"]


# What track.js sends is answered without DRF's machinery; the same event asked for
# with another Accept header goes through DRF. Both must give the same answer.
PLAIN, THROUGH_DRF = {}, {"HTTP_ACCEPT": "application/json; indent=2"}


@pytest.mark.parametrize("headers", [PLAIN, THROUGH_DRF], ids=["plain", "drf"])
def test_a_visitors_first_event_without_a_cookie_gives_them_one_and_the_next_joins_it(client, headers):
    client.cookies["csrftoken"] = token = _get_new_csrf_string()  # a CSRF cookie, and no visitor yet
    assert "clinic_visitor" not in client.cookies

    first = client.post(URL, {"event": "page_engagement", "engagement_seconds": 200},
                        content_type="application/json", HTTP_X_CSRFTOKEN=token, **headers)
    assert first.status_code == 201
    assert "clinic_visitor" in first.cookies
    client.post(URL, {"event": "page_engagement", "engagement_seconds": 200},
                content_type="application/json", HTTP_X_CSRFTOKEN=token, **headers)

    assert UserSession.objects.get().interaction_count == 2


def test_the_plain_answer_is_the_one_drf_gives(browser):
    event = {"event": "search", "query": "lip filler", "page_url": "/treatments/"}
    plain, through_drf = post(browser, event), post(browser, event, **THROUGH_DRF)

    assert plain.status_code == through_drf.status_code == 201
    assert {key: value for key, value in plain.json().items() if key != "interaction"} == {
        key: value for key, value in through_drf.json().items() if key != "interaction"}
    for header in ("Content-Type", "Allow", "Vary"):
        assert plain.headers[header] == through_drf.headers[header]
    assert UserInteraction.objects.count() == 2


@pytest.mark.parametrize("body", ['{"event": "page_engagement", "engagement_seconds": NaN}', "[1, 2]", ""])
def test_a_body_the_plain_path_cannot_read_gets_drfs_400(browser, body):
    response = browser.generic("POST", URL, body, content_type="application/json", HTTP_X_CSRFTOKEN=browser.token)
    assert response.status_code == 400
    assert set(response.json()) == {"detail", "errors"}
    assert not UserInteraction.objects.exists()


# The plain path's own check of an event (interactions.api.event_plainly) stands in
# for TrackSerializer on the request track.js sends; it must never accept what the
# serializer refuses, nor read a body otherwise.
texts = st.one_of(st.sampled_from(["", "/treatments/", " /padded/ ", "lip filler", "a" * 201, "a" * 501, "x\x00y",
                                   "tab\there", "\ud800", "  "]), st.text(max_size=30))
values = st.one_of(texts, st.integers(-5, 2000), st.booleans(), st.none(), st.floats(allow_nan=False),
                   st.lists(st.integers(), max_size=2))
bodies = st.dictionaries(
    st.sampled_from(["event", "page_url", "engagement_seconds", "scroll_depth", "query", "context", "leaving",
                     "csrfmiddlewaretoken", "other"]),
    st.one_of(st.sampled_from(["page_engagement", "search", "contact"]), values),
    max_size=7,
)


@given(body=bodies)
@settings(max_examples=500, deadline=None)
def test_the_plain_check_of_an_event_accepts_only_what_the_serializer_does_and_reads_it_alike(body):
    plain = event_plainly(body)
    try:
        expected = TRACK_EVENT.run_validation(body)
    except serializers.ValidationError:
        assert plain is None, body
        return
    if plain is not None:
        assert plain == expected


@pytest.mark.parametrize("body", [
    {"event": "page_engagement", "page_url": "/treatments/botox/", "engagement_seconds": 25, "scroll_depth": 50},
    {"event": "search", "query": "lip filler"},
    {"event": "page_engagement", "page_url": "/", "engagement_seconds": 0, "leaving": True},
])
def test_what_track_js_sends_takes_the_plain_check(body):
    assert event_plainly(body) == TRACK_EVENT.run_validation(body)


def test_a_json_body_carrying_the_form_token_is_tracked_not_a_500(browser):
    response = post(browser, {"event": "page_engagement", "csrfmiddlewaretoken": browser.token})
    assert response.status_code == 201
    assert UserInteraction.objects.count() == 1
