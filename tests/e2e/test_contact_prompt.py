"""The contact prompt reaches a hot visitor however they move through the site."""

import pytest

from interactions.models import UserSession

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)



def test_a_visitor_who_leaves_the_form_empty_is_still_offered_it_after_the_skin_analysis(page, screenshot, face_photo):
    # The finder: the form is on the result page; they read it, reload it, leave it empty.
    page.goto("/enhanced-ai/")
    page.fill("textarea[name=query]", "I'd like botox for my forehead lines before my wedding next month")
    page.click("button:has-text('Find my treatment')")
    page.wait_for_selector("#recommendations")
    assert page.is_visible("#contact-prompt")
    for _ in range(3):
        page.mouse.wheel(0, 600)
        page.wait_for_timeout(150)
        page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        page.wait_for_timeout(300)
        page.reload()
        page.wait_for_selector("#contact-prompt")

    # A search, then a skin analysis with a face photo.
    page.goto("/treatments/?q=lip+filler")
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_timeout(300)
    page.goto("/enhanced-face/")
    page.set_input_files("input[name=photo]", str(face_photo))
    page.check("input[name=photo_consent]")
    page.click("button:has-text('Analyse my photo')")
    page.wait_for_selector("#measures")
    assert page.is_visible("#contact-prompt")
    screenshot("face-result-offers-the-form")
    session = UserSession.objects.get()
    assert session.score == 100
    assert session.contact_prompt_shown_count <= 3

    # A mistake keeps them on the result page, with the error beside the field.
    page.fill("#contact-prompt input[name=first_name]", "Priya")
    page.fill("#contact-prompt input[name=email]", "priya@")
    page.check("#contact-prompt input[name=consent_contact]")
    page.click("#contact-prompt button:has-text('Send')")
    page.wait_for_selector("#contact-prompt .invalid-feedback")
    assert page.is_visible("#measures")
    assert page.is_visible("text=No thanks, not now")
    screenshot("prompt-error-in-place")
    page.fill("#contact-prompt input[name=email]", "priya.sharma@example.com")
    page.click("#contact-prompt button:has-text('Send')")
    page.wait_for_selector("#thanks")
