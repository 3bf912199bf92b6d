"""Every model is in the admin, and a lead shows why it has its score."""

import pytest
from django.urls import reverse

from interactions.models import UserInteraction, UserSession
from calculators.models import Procedure
from leads.models import Appointment, Consent, Lead
from scoring.models import LeadScoringRule, ScoringSettings

pytestmark = pytest.mark.django_db

MODELS = [UserSession, UserInteraction, Lead, Consent, Appointment, LeadScoringRule, Procedure]


@pytest.fixture
def staff_client(client, demo):
    client.login(username="admin", password="admin")
    return client


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_each_model_has_a_list_and_a_detail_page(staff_client, model):
    assert staff_client.get(admin_url(model, "changelist")).status_code == 200
    obj = model.objects.first()
    assert staff_client.get(admin_url(model, "change", obj.pk)).status_code == 200


def test_a_lead_page_explains_the_score(staff_client):
    lead = Lead.objects.get(email="sarah.chen@example.com")
    page = staff_client.get(admin_url(Lead, "change", lead.pk)).content.decode()
    assert "AI recommendation" in page and "+60" in page
    assert "Immediate urgency" in page and "+25" in page
    assert "I&#x27;d like botox for my forehead lines" in page  # the journey


def test_leads_can_be_filtered_by_score_band_and_searched_by_phone(staff_client):
    page = staff_client.get(admin_url(Lead, "changelist"), {"score_band": "75-100", "q": "07911 100201"})
    assert "Sarah Chen" in page.content.decode()


def test_staff_editing_a_lead_get_the_same_phone_normalisation(staff_client):
    lead = Lead.objects.get(email="anita.reddy@example.com")
    response = staff_client.post(
        admin_url(Lead, "change", lead.pk),
        {
            "first_name": "Anita", "last_name": "Reddy", "email": " Anita.Reddy@Example.com",
            "phone": "+44 (0)7911 100203", "message": "", "status": "contacted", "owner": "", "value": "",
            "interactions-TOTAL_FORMS": "0", "interactions-INITIAL_FORMS": "0",
            "consents-TOTAL_FORMS": "0", "consents-INITIAL_FORMS": "0",
            "appointments-TOTAL_FORMS": "0", "appointments-INITIAL_FORMS": "0",
            "notes-TOTAL_FORMS": "0", "notes-INITIAL_FORMS": "0",
            "status_changes-TOTAL_FORMS": "0", "status_changes-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    lead.refresh_from_db()
    assert (lead.email, lead.phone, lead.status) == ("anita.reddy@example.com", "+447911100203", "contacted")


def test_a_rule_with_a_bad_condition_is_explained_on_the_form(staff_client):
    response = staff_client.post(
        admin_url(LeadScoringRule, "add"),
        {"name": "Typo", "kind": "bonus", "condition": '{"field": "urgncy", "op": "eq", "value": "x"}',
         "points": "5", "is_active": "on", "order": "0"},
    )
    assert response.status_code == 200
    assert "Unknown field" in response.content.decode()
    assert not LeadScoringRule.objects.filter(name="Typo").exists()


def test_the_settings_list_opens_the_single_settings_row(staff_client):
    response = staff_client.get(admin_url(ScoringSettings, "changelist"))
    assert response.status_code == 302
    assert response.url == admin_url(ScoringSettings, "change", 1)


def test_recorded_interactions_cannot_be_edited(staff_client):
    interaction = UserInteraction.objects.first()
    response = staff_client.post(admin_url(UserInteraction, "change", interaction.pk), {"score": "100"})
    assert response.status_code == 403
