"""The Content-Security-Policy lets the site's own pages work: no violation is reported
on the public flows, the back office or the API docs."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_public_flows_report_no_csp_violation(page, face_photo):
    page.goto("/")
    assert page.evaluate("document.querySelector('script[src*=track]') !== null")
    page.goto("/treatments/?q=lip+filler")
    page.goto("/enhanced-ai/")
    page.fill("textarea[name=query]", "acne scars on my cheeks, as soon as possible")
    page.click("button:has-text('Find my treatment')")
    page.wait_for_selector("#recommendations")
    page.mouse.wheel(0, 1500)
    page.wait_for_timeout(300)

    page.goto("/enhanced-face/")
    page.set_input_files("input[name=photo]", str(face_photo))
    page.check("input[name=photo_consent]")
    page.click("button:has-text('Analyse my photo')")
    page.wait_for_selector("#measures")

    page.goto("/enhanced-cost/")
    page.select_option("select[name=line-0-procedure]", "botox")
    page.select_option("select[name=budget_range]", "1500_5000")
    page.click("button:has-text('Calculate')")
    page.wait_for_selector("#quote")
    page.goto("/book/")
    page.goto("/contact/")
    page.goto("/no-such-page/")
    # A page reports a violation asynchronously: give the last one a moment.
    page.wait_for_timeout(300)
    assert page.csp_violations == []


def test_the_back_office_and_api_docs_report_no_csp_violation(page, django_user_model):
    django_user_model.objects.create_superuser("boss", password="pw-12345-x")
    page.goto("/admin/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-12345-x")
    page.click("input[type=submit]")
    page.click("text=Comprehensive dashboard")
    page.wait_for_selector("#funnel")
    page.goto("/admin/scoring/leadscoringrule/1/change/")
    page.goto("/admin/leads/lead/")
    page.goto("/api/docs/")
    page.wait_for_selector("text=Clinic lead capture API")
    page.wait_for_timeout(300)
    assert page.csp_violations == []
