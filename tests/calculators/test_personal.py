"""Pages that follow the visitor's own history (calculators/personal.py): the home page
leads with their treatments and greets them back with their last result, the cost
calculator starts from the finder's suggestions, the contact offer speaks of their tool."""

import datetime
import re

import pytest
from django.conf import settings
from django.utils import timezone

from core.page_context import page_context_sign
from interactions.models import UserInteraction, UserSession
from interactions.selectors import visitor_history

pytestmark = pytest.mark.django_db
WEDDING = {"query": "I want botox for my forehead lines before my wedding next month"}


def selected_treatments(page: str) -> list[str]:
    """The treatment chosen in each line of the cost calculator that has one."""
    lines = re.findall(r'<select name="line-\d+-procedure".*?</select>', page, re.S)
    return [m.group(1) for line in lines if (m := re.search(r'<option value="([\w-]+)" selected>', line))]


def come_back_later(client):
    """The visitor returns after the visit gap: their next page starts a new visit."""
    UserSession.objects.update(last_seen_at=timezone.now() - datetime.timedelta(seconds=settings.VISIT_GAP_SECONDS + 60))
    return client.get("/").content.decode()


def test_the_cost_calculator_starts_from_the_treatments_the_finder_suggested(client):
    assert selected_treatments(client.get("/enhanced-cost/").content.decode()) == []

    client.post("/enhanced-ai/", WEDDING)
    suggested = [r["procedure"] for r in UserInteraction.objects.get().data["recommendations"]]
    page = client.get("/enhanced-cost/").content.decode()

    assert suggested and selected_treatments(page) == suggested[:3]
    assert 'id="suggested-lines"' in page
    # A treatment page's "work out the cost" still starts with that treatment alone.
    assert selected_treatments(client.get("/enhanced-cost/?treatment=lip-filler").content.decode()) == ["lip-filler"]


def test_a_returning_visitor_is_greeted_with_their_last_result(client):
    assert 'id="welcome-back"' not in client.get("/").content.decode()
    result = client.post("/enhanced-ai/", WEDDING).url
    assert 'id="welcome-back"' not in client.get("/").content.decode()  # the same visit

    page = come_back_later(client)

    assert 'id="welcome-back"' in page and "treatment finder" in page
    assert f'href="{result}"' in page
    assert "Anti-wrinkle injections (Botox)" in page.split('id="welcome-back"')[1].split("</div>")[0]


def test_the_home_page_leads_with_the_treatments_the_visitor_looked_at(client):
    assert 'id="your-treatments"' not in client.get("/").content.decode()
    client.get("/treatments/lip-filler/")
    token = client.cookies["csrftoken"].value
    client.post("/api/v1/track/", {"event": "page_engagement", "page_url": "/treatments/lip-filler/",
                                   "engagement_seconds": 40,
                                   "context": page_context_sign(procedures=["lip-filler"], categories=["injectables"])},
                content_type="application/json", HTTP_X_CSRFTOKEN=token)

    page = client.get("/").content.decode()

    yours = page.split('id="your-treatments"')[1].split("</div>")[0]
    assert 'href="/treatments/lip-filler/"' in yours


def test_the_contact_offer_speaks_of_the_tool_used_last(client):
    def offer_words():
        return re.search(r'data-prompt-text="([^"]*)"', client.get("/treatments/").content.decode()).group(1)

    assert "personal treatment plan" in offer_words()
    client.post("/enhanced-ai/", WEDDING)
    assert "treatments the finder suggested" in offer_words()
    client.post("/enhanced-cost/", {"line-TOTAL_FORMS": "1", "line-INITIAL_FORMS": "0", "line-MIN_NUM_FORMS": "0",
                                    "line-MAX_NUM_FORMS": "6", "budget_range": "1500_5000",
                                    "line-0-procedure": "botox", "line-0-quantity": 1, "line-0-sessions": ""})
    assert "detailed quote" in offer_words()


def test_the_history_lists_treatments_newest_first_once_each(client):
    client.post("/enhanced-ai/", WEDDING)
    client.post("/enhanced-cost/", {"line-TOTAL_FORMS": "2", "line-INITIAL_FORMS": "0", "line-MIN_NUM_FORMS": "0",
                                    "line-MAX_NUM_FORMS": "6", "budget_range": "1500_5000",
                                    "line-0-procedure": "lip-filler", "line-0-quantity": 1, "line-0-sessions": "",
                                    "line-1-procedure": "botox", "line-1-quantity": 1, "line-1-sessions": ""})
    history = visitor_history(UserSession.objects.get())

    assert history.looked_at[:2] == ["lip-filler", "botox"]
    assert len(history.looked_at) == len(set(history.looked_at))
    assert history.last_result.interaction_type == "cost_calculator"
    assert "botox" in history.suggested  # the finder's, not the quote's
