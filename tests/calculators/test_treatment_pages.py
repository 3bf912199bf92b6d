"""Treatment pages: what a treatment is, and engagement there counted as interest in it."""

import re

import pytest

from core.page_context import page_context_sign
from interactions.models import UserInteraction

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(visitor_browser):
    return visitor_browser


def track(client, payload):
    return client.post("/api/v1/track/", payload, content_type="application/json", HTTP_X_CSRFTOKEN=client.token)


def test_a_treatment_page_says_what_it_treats_where_from_what_price_and_the_downtime(client):
    page = client.get("/treatments/botox/").content.decode()
    assert "<h1" in page and "Anti-wrinkle injections (Botox)" in page
    assert "Forehead lines" in page or "forehead lines" in page
    assert "from £150 per area" in page
    assert 'href="/enhanced-cost/?treatment=botox"' in page and 'href="/book/?treatment=botox"' in page


def test_names_in_the_catalog_and_on_the_home_page_lead_to_the_treatment_page(client):
    assert 'href="/treatments/lip-filler/"' in client.get("/").content.decode()
    assert 'href="/treatments/lip-filler/"' in client.get("/treatments/").content.decode()


def test_an_unknown_or_withdrawn_treatment_is_not_found(client):
    from calculators.models import Procedure

    Procedure.objects.filter(slug="hifu").update(is_active=False)
    assert client.get("/treatments/hifu/").status_code == 404
    assert client.get("/treatments/no-such-thing/").status_code == 404


def test_work_out_the_cost_starts_the_calculator_with_that_treatment(client):
    page = client.get("/enhanced-cost/?treatment=lip-filler").content.decode()
    assert re.search(r'<option value="lip-filler"[^>]*selected', page)


def test_reading_a_treatment_page_is_interest_in_that_treatment(browser):
    page = browser.get("/treatments/botox/").content.decode()
    context = re.search(r'<meta name="track-context" content="([^"]+)"', page).group(1)
    response = track(browser, {"event": "page_engagement", "page_url": "/treatments/botox/",
                               "engagement_seconds": 40, "context": context})
    assert response.status_code == 201
    assert UserInteraction.objects.get().data == {"procedures": ["botox"], "categories": ["injectables"]}


def test_a_page_context_the_site_did_not_make_adds_nothing_to_the_event(browser):
    forged = page_context_sign(procedures=["botox"], categories=["injectables"])[:-3] + "abc"
    response = track(browser, {"event": "page_engagement", "context": forged, "scroll_depth": 40})
    assert response.status_code == 201
    assert UserInteraction.objects.get().data == {"scroll_depth": 40}
