"""A returning patient in a real browser, on a phone and on a desktop: the home page
greets them with their last result and their treatments, the cost calculator starts
from what the finder suggested."""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from interactions.models import UserSession

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.mark.parametrize("width", [390, 1280])
def test_a_returning_patient_finds_their_treatments_waiting(page, screenshot, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/enhanced-ai/")
    page.fill("textarea[name=query]", "I'd like botox for my forehead lines before my wedding next month")
    page.click("button:has-text('Find my treatment')")
    page.wait_for_selector("#recommendations")
    result_url = page.url

    # They come back the next day: a new visit.
    UserSession.objects.update(last_seen_at=timezone.now() - datetime.timedelta(seconds=settings.VISIT_GAP_SECONDS + 3600))
    page.goto("/")
    welcome = page.locator("#welcome-back")
    assert welcome.is_visible()
    assert "treatment finder" in welcome.inner_text()
    assert "Anti-wrinkle injections (Botox)" in page.inner_text("#your-treatments")
    screenshot(f"home-{width}")

    welcome.locator("text=See your results again").click()
    page.wait_for_selector("#recommendations")
    assert page.url == result_url

    page.goto("/enhanced-cost/")
    assert page.is_visible("#suggested-lines")
    assert page.input_value("select[name=line-0-procedure]") == "botox"
    screenshot(f"cost-{width}")
