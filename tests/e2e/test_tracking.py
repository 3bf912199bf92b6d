"""The page tracker (static/js/track.js) in a real browser."""

import pytest

from interactions.models import UserInteraction, UserSession
from scoring.models import LeadScoringRule, ScoringSettings
from tests.factories import scoring_settings_change

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_scrolling_a_page_is_tracked_and_the_prompt_appears_once_the_threshold_is_crossed(page, screenshot):
    # A clinic's own rule: reading a treatment page to the end is worth 20 points,
    # and 20 points are enough to offer the contact form.
    LeadScoringRule.objects.create(
        name="Read to the end", kind="bonus", points=20, order=200,
        condition={"field": "data.scroll_depth", "op": "gte", "value": 90},
    )
    scoring_settings_change(contact_prompt_threshold=20)

    page.goto("/treatments/")
    assert not page.is_visible("#track-prompt")
    page.mouse.wheel(0, 2000)
    page.wait_for_timeout(300)
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_selector("#track-prompt")
    screenshot("prompt")

    events = UserInteraction.objects.filter(interaction_type="page_engagement", page_url="/treatments/")
    assert events.count() >= 2
    assert max(event.data["scroll_depth"] for event in events) >= 90
    session = UserSession.objects.get()
    assert session.score == 20 and session.contact_prompt_shown_count == 1

    page.click("#track-prompt >> text=Not now")
    page.wait_for_selector("#track-prompt", state="detached")
    page.wait_for_timeout(300)
    session.refresh_from_db()
    assert session.contact_prompt_dismissed_at is not None
