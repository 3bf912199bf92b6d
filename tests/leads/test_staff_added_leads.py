"""A person who phoned or walked in, added by staff in the admin, becomes a lead like
every other: normalised details, one lead per person, and a consent record (method staff)."""

import pytest

from leads.models import Consent, ConsentMethod, Lead, LeadSource

INLINES = ("notes", "appointments", "interactions", "status_changes", "consents")


@pytest.fixture
def manager(client, demo):
    client.login(username="admin", password="admin")
    return client


def add_form(**fields):
    form = {"first_name": "Walk", "last_name": "In", "email": "", "phone": "07911 100456", "message": "",
            "status": "new", "owner": "", "value": "", "consent_contact": "on"}
    for prefix in INLINES:
        form.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return {**form, **fields}


def test_a_lead_added_by_staff_records_consent_given_to_staff(manager):
    assert "Agreed to be contacted" in manager.get("/admin/leads/lead/add/").content.decode()
    response = manager.post("/admin/leads/lead/add/", add_form(status="contacted"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    lead = Lead.objects.get(phone="+447911100456")
    assert lead.source == LeadSource.STAFF
    consent = Consent.objects.get(lead=lead)
    assert (consent.purpose, consent.method, consent.text_version) == ("contact", ConsentMethod.STAFF, "contact-v1")
    assert lead.status_changes.get().to_status == "contacted"


def test_staff_cannot_add_a_person_without_their_consent_or_twice(manager):
    response = manager.post("/admin/leads/lead/add/", add_form(consent_contact=""))
    assert response.status_code == 200 and "consent_contact" in response.context["adminform"].form.errors
    existing = Lead.objects.exclude(phone="").first()
    response = manager.post("/admin/leads/lead/add/", add_form(phone=existing.phone))
    assert response.status_code == 200 and response.context["adminform"].form.errors
    assert not Lead.objects.filter(first_name="Walk").exists()


def test_a_lead_added_by_staff_is_given_only_to_someone_who_works_leads(manager):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    mia = get_user_model().objects.create_user("mia", password="pw-12345-x", is_staff=True)
    mia.groups.add(Group.objects.get(name="Marketing"))
    response = manager.post("/admin/leads/lead/add/", add_form(owner=mia.pk, value="-1"))
    errors = response.context["adminform"].form.errors
    assert "does not work leads" in errors["owner"][0] and "value" in errors
    assert not Lead.objects.filter(first_name="Walk").exists()
