"""A patient uses every tool in a real browser; the lead that results is checked
in the database."""

import datetime

import pytest
from django.utils import timezone

from interactions.models import UserInteraction
from leads.models import Appointment, Lead

# Data migrations (scoring rules, catalog) must survive the live server's flushes.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)



def test_a_patient_uses_every_tool_and_becomes_one_scored_lead(page, screenshot, face_photo):
    page.goto("/")
    screenshot("home")

    # 1. Treatment finder: a concern in words.
    page.click("text=Find my treatment")
    page.fill("textarea[name=query]", "I'd like botox for my forehead lines before my wedding next month")
    screenshot("recommender")
    page.click("button:has-text('Find my treatment')")
    page.wait_for_selector("#recommendations")
    assert "Anti-wrinkle injections (Botox)" in page.inner_text("#recommendations")
    screenshot("recommendation")
    assert page.is_visible("#contact-prompt")
    page.click("text=No thanks, not now")

    # 2. Skin analysis: a real face photo.
    page.goto("/enhanced-face/")
    page.set_input_files("input[name=photo]", str(face_photo))
    page.check("input[name=photo_consent]")
    page.click("button:has-text('Analyse my photo')")
    page.wait_for_selector("#measures")
    assert "Redness" in page.inner_text("#measures")
    assert "not a medical diagnosis" in page.inner_text("#disclaimer")
    screenshot("face-analysis")

    # 3. Cost calculator: it starts from what the skin analysis suggested; the patient
    # prices two treatments of their own and removes the rest.
    page.goto("/enhanced-cost/")
    assert page.is_visible("#suggested-lines")
    for line in range(2, page.locator("select[name$=-procedure]").count()):
        page.select_option(f"select[name=line-{line}-procedure]", "")
    page.select_option("select[name=line-0-procedure]", "botox")
    page.fill("input[name=line-0-quantity]", "2")
    page.select_option("select[name=line-1-procedure]", "lip-filler")
    page.select_option("select[name=budget_range]", "1500_5000")
    page.click("button:has-text('Calculate')")
    page.wait_for_selector("#quote")
    assert "£522.50–£807.50" in page.inner_text("#total")
    screenshot("cost-estimate")

    # 4. The detailed-quote form on the estimate makes the visitor a lead.
    page.fill("#contact-prompt input[name=first_name]", "Sarah")
    page.fill("#contact-prompt input[name=last_name]", "Chen")
    page.fill("#contact-prompt input[name=email]", "sarah.chen@example.com")
    page.check("#contact-prompt input[name=consent_contact]")
    screenshot("contact-form")
    page.click("#contact-prompt button:has-text('Send')")
    page.wait_for_selector("#thanks")
    screenshot("thanks")
    page.fill("input[name=phone]", "07911 123456")
    page.click("button:has-text('Add')")
    page.wait_for_selector("text=We have added your details")

    # 5. Booking: the known patient is not asked for their details again.
    page.goto("/book/?treatment=botox")
    assert page.locator("input[name=email]").count() == 0
    date = timezone.localdate() + datetime.timedelta(days=10)
    page.fill("input[name=preferred_date]", date.isoformat())
    page.select_option("select[name=time_window]", "afternoon")
    page.click("button:has-text('Request this appointment')")
    page.wait_for_selector("#booking-summary")
    screenshot("booking-confirmed")

    lead = Lead.objects.get()
    assert (lead.email, lead.phone) == ("sarah.chen@example.com", "+447911123456")
    assert lead.source == "cost_calculator"
    # Reading time on each page is tracked too (track.js), and the contact form and its
    # second step are recorded under their one-time ids; the tools are the steps.
    assert UserInteraction.objects.filter(lead=lead, interaction_type="contact_form").count() == 2
    tools = UserInteraction.objects.filter(lead=lead).exclude(interaction_type__in=["page_engagement", "contact_form"])
    kinds = list(tools.order_by("created_at").values_list("interaction_type", flat=True))
    assert kinds == ["ai_recommendation", "face_analysis", "cost_calculator", "appointment_booking"]
    # Booking base 90, then bonuses: urgency, high budget, two procedures, three further interactions.
    assert lead.lead_score == 100
    assert lead.engagement_level == "high"
    assert Appointment.objects.get().lead == lead


def test_booking_then_going_back_and_sending_again_makes_one_appointment(page, screenshot):
    page.goto("/book/?treatment=hydrafacial")
    date = timezone.localdate() + datetime.timedelta(days=12)
    page.fill("input[name=preferred_date]", date.isoformat())
    page.select_option("select[name=time_window]", "morning")
    page.fill("input[name=first_name]", "Anita")
    page.fill("input[name=email]", "anita.reddy@example.com")
    page.check("input[name=consent_contact]")
    page.click("button:has-text('Request this appointment')")
    page.wait_for_selector("#booking-summary")

    page.go_back()
    page.wait_for_selector("button:has-text('Request this appointment')")
    # The page comes back from the browser's cache or freshly rendered (then the
    # patient, now known, is not asked for their details again): fill what is empty.
    if page.input_value("input[name=preferred_date]") != date.isoformat():
        page.fill("input[name=preferred_date]", date.isoformat())
        page.select_option("select[name=time_window]", "morning")
    if page.locator("input[name=consent_contact]").count() and not page.is_checked("input[name=consent_contact]"):
        page.check("input[name=consent_contact]")
    page.click("button:has-text('Request this appointment')")
    page.wait_for_selector("#booking-summary")
    screenshot("booking-sent-twice")
    assert "already asked for this appointment" in page.inner_text("main")
    assert Appointment.objects.count() == 1
    assert Lead.objects.count() == 1
