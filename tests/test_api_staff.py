"""The staff API: authentication, the admin's role rules, filters, validation, pagination."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clinic.roles import FRONT_DESK, MARKETING
from leads.models import Lead, LeadStatusChange
from scoring.models import LeadScoringRule


@pytest.fixture
def api(demo):
    def as_role(role=None):
        client = APIClient()
        if role:
            user = get_user_model().objects.create_user(role.lower().replace(" ", "_"), password="pw-12345-x",
                                                        is_staff=True)
            user.groups.add(Group.objects.get(name=role))
            token = Token.objects.create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client
    return as_role


def sarah():
    return Lead.objects.get(email="sarah.chen@example.com")


def test_the_staff_api_needs_a_token_or_a_session(api):
    response = api().get("/api/v1/leads/")
    assert response.status_code in (401, 403)
    assert response.json()["detail"]


def test_front_desk_lists_leads_with_contact_details_paginated(api):
    body = api(FRONT_DESK).get("/api/v1/leads/").json()
    assert body["count"] == Lead.objects.count() and len(body["results"]) == 50 and body["next"]
    assert "email" in body["results"][0]


def test_marketing_reads_leads_without_who_they_are(api):
    body = api(MARKETING).get(f"/api/v1/leads/{sarah().pk}/").json()
    assert body["lead_score"] == 85
    assert not {"first_name", "last_name", "email", "phone", "message"} & set(body)


@pytest.mark.parametrize(
    ("query", "check"),
    [
        ({"level": "high"}, lambda lead: lead.engagement_level == "high"),
        ({"status": "won"}, lambda lead: lead.status == "won"),
        ({"score_min": 90, "score_max": 95}, lambda lead: 90 <= lead.lead_score <= 95),
        ({"utm_source": "google"}, lambda lead: lead.utm_source == "google"),
    ],
)
def test_leads_filter_like_the_admin(api, query, check):
    body = api(FRONT_DESK).get("/api/v1/leads/", query | {"page_size": 200}).json()
    ids = {row["id"] for row in body["results"]}
    assert ids == {lead.pk for lead in Lead.objects.all() if check(lead)}


def test_changing_status_and_owner_goes_through_the_pipeline(api):
    client = api(FRONT_DESK)
    lead = sarah()
    response = client.patch(f"/api/v1/leads/{lead.pk}/", {"status": "contacted", "owner": "front_desk"},
                            format="json")
    assert response.status_code == 200, response.json()
    lead.refresh_from_db()
    assert (lead.status, lead.owner.username) == ("contacted", "front_desk")
    assert LeadStatusChange.objects.filter(lead=lead, to_status="contacted", changed_by__username="front_desk").exists()


def test_bad_changes_are_400_with_field_messages_and_contact_fields_are_read_only(api):
    client = api(FRONT_DESK)
    response = client.patch(f"/api/v1/leads/{sarah().pk}/", {"status": "married", "owner": "nobody"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"status", "owner"}
    client.patch(f"/api/v1/leads/{sarah().pk}/", {"email": "hacked@example.com"}, format="json")
    assert sarah().email == "sarah.chen@example.com"


def test_marketing_cannot_change_leads(api):
    assert api(MARKETING).patch(f"/api/v1/leads/{sarah().pk}/", {"status": "won"}, format="json").status_code == 403


def test_interactions_filter_by_type_and_source(api):
    body = api(MARKETING).get("/api/v1/interactions/", {"interaction_type": "face_analysis", "source": "facebook"}).json()
    assert body["count"] > 0
    assert {row["interaction_type"] for row in body["results"]} == {"face_analysis"}


def test_rules_are_validated_like_in_the_admin(api):
    client = api(MARKETING)
    bad = {"name": "Typo", "kind": "bonus", "points": 5, "condition": {"field": "urgncy", "op": "eq", "value": "x"}}
    response = client.post("/api/v1/scoring-rules/", bad, format="json")
    assert response.status_code == 400 and "Unknown field 'urgncy'" in response.json()["errors"]["condition"][0]
    good = {**bad, "condition": {"field": "urgency", "op": "eq", "value": "soon"}}
    response = client.post("/api/v1/scoring-rules/", good, format="json")
    assert response.status_code == 201 and response.json()["condition_in_words"] == "urgency is equal to soon"
    assert api(FRONT_DESK).delete(f"/api/v1/scoring-rules/{response.json()['id']}/").status_code == 403
    assert LeadScoringRule.objects.filter(name="Typo").exists()


def test_the_dashboard_figures_as_json_match_the_page(api, client):
    marketing = api(MARKETING)
    body = marketing.get("/api/v1/dashboard/").json()
    client.login(username="admin", password="admin")
    page = client.get("/admin/comprehensive/dashboard/")
    assert [kpi["value"] for kpi in body["kpis"]] == [value for _, value, _, _ in page.context["kpis"]]
    assert body["funnel"][0]["label"] == "Visitors"
    assert marketing.get("/api/v1/dashboard/", {"start": "2026-02-01", "end": "2026-01-01"}).status_code == 400


@pytest.mark.parametrize(
    "bad",
    [
        {"condition": {"field": "urgncy", "op": "eq", "value": "x"}},
        {"kind": "base", "per_occurrence": True},
        {"points": 1000},
        {"condition": {"field": "urgency", "op": "resembles", "value": "soon"}},
    ],
)
def test_the_api_refuses_a_rule_with_the_models_own_messages(api, bad):
    from clinic.lead_scoring import RuleForm

    rule = {"name": "Probe", "kind": "bonus", "points": 5, "condition": {"field": "urgency", "op": "eq", "value": "soon"},
            "per_occurrence": False, "is_active": True, "order": 1, **bad}
    response = api(MARKETING).post("/api/v1/scoring-rules/", rule, format="json")
    form = RuleForm({**rule, "condition": json.dumps(rule["condition"])})
    assert response.status_code == 400 and not form.is_valid()
    errors = response.json()["errors"]
    assert errors and all(form.errors.get(field) == messages for field, messages in errors.items())
