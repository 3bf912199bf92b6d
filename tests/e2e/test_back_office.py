"""Clinic staff in a real browser: dashboard, a lead, a status change."""

from io import StringIO

import pytest
from django.core.management import call_command

from leads.models import Lead, LeadStatusChange

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_staff_read_the_dashboard_and_move_a_lead_along(page, screenshot):
    call_command("seed_demo", stdout=StringIO())
    page.goto("/admin/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "admin")
    page.click("input[type=submit]")

    page.click("text=Comprehensive dashboard")
    page.wait_for_selector("#funnel")
    assert "botox-spring" in page.inner_text("#attribution")
    assert page.locator("svg.chart").count() >= 6
    screenshot("dashboard")

    lead = Lead.objects.get(email="anita.reddy@example.com")
    page.goto("/admin/leads/lead/?q=anita.reddy")
    page.click("text=Anita Reddy")
    assert "Cost calculator" in page.inner_text(".field-score_explanation")
    page.select_option("select[name=status]", "contacted")
    page.fill("textarea[name=notes-0-text]", "Called back, sending the quote.")
    screenshot("lead")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist")

    lead.refresh_from_db()
    assert lead.status == "contacted"
    assert LeadStatusChange.objects.filter(lead=lead, to_status="contacted").exists()
    assert lead.notes.get().text == "Called back, sending the quote."
