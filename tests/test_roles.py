"""Roles are data: each sees and does what its job needs, enforced on every view."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from clinic.roles import CLINIC_MANAGER, FRONT_DESK, MARKETING
from interactions.models import UserInteraction, UserSession
from leads.models import Lead
from scoring.models import LeadScoringRule


@pytest.fixture
def as_role(client, demo):
    def login(role: str):
        user = get_user_model().objects.create_user(f"{role.lower().replace(' ', '_')}", password="pw-12345-x",
                                                    is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return client
    return login


def lead_of(email):
    return Lead.objects.get(email=email)


PAGES = {
    "dashboard": "/admin/comprehensive/dashboard/",
    "leads": "/admin/leads/lead/",
    "sessions": "/admin/interactions/usersession/",
    "interactions": "/admin/interactions/userinteraction/",
    "rules": "/admin/scoring/leadscoringrule/",
    "costs": "/admin/leads/campaigncost/",
    "consents": "/admin/leads/consent/",
    "appointments": "/admin/leads/appointment/",
}
ALLOWED = {
    CLINIC_MANAGER: set(PAGES),
    FRONT_DESK: {"dashboard", "leads", "sessions", "interactions", "rules", "consents", "appointments"},
    MARKETING: {"dashboard", "leads", "sessions", "interactions", "rules", "costs"},
}


@pytest.mark.parametrize("role", [CLINIC_MANAGER, FRONT_DESK, MARKETING])
@pytest.mark.parametrize("page", list(PAGES))
def test_each_role_opens_exactly_its_pages(as_role, role, page):
    status = as_role(role).get(PAGES[page]).status_code
    assert status == (200 if page in ALLOWED[role] else 403)


def test_marketing_never_sees_who_the_patients_are(as_role):
    client = as_role(MARKETING)
    sarah = lead_of("sarah.chen@example.com")
    pages = [
        client.get("/admin/leads/lead/").content.decode(),
        client.get(f"/admin/leads/lead/{sarah.pk}/change/").content.decode(),
        client.get("/admin/interactions/usersession/").content.decode(),
        client.get("/admin/interactions/userinteraction/").content.decode(),
        client.get(f"/admin/interactions/usersession/{sarah.sessions.first().pk}/change/").content.decode(),
        client.get(f"/admin/leads/lead/{sarah.pk}/history/").content.decode(),
    ]
    for page in pages:
        assert "Sarah" not in page and "sarah.chen@example.com" not in page and "+447911100201" not in page
    assert f"Lead #{sarah.pk}" in pages[0]
    assert "Why this score" in pages[1]  # the score explanation stays visible


def test_marketing_cannot_search_for_a_patient_or_export(as_role):
    client = as_role(MARKETING)
    page = client.get("/admin/leads/lead/", {"q": "Sarah"}).content.decode()
    assert 'id="searchbar"' not in page
    response = client.post("/admin/leads/lead/", {
        "action": "export_csv", "_selected_action": [lead_of("sarah.chen@example.com").pk]})
    assert b"sarah.chen@example.com" not in response.content


def test_front_desk_cannot_change_rules_but_marketing_can(as_role, client):
    rule = LeadScoringRule.objects.get(name="High budget")
    data = {"name": rule.name, "kind": "bonus", "condition": '{"field": "budget_level", "op": "eq", "value": "high"}',
            "points": "30", "order": "10", "is_active": "on"}
    front_desk = as_role(FRONT_DESK)
    assert front_desk.post(f"/admin/scoring/leadscoringrule/{rule.pk}/change/", data).status_code == 403
    marketing = as_role(MARKETING)
    assert marketing.post(f"/admin/scoring/leadscoringrule/{rule.pk}/change/", data).status_code == 302
    rule.refresh_from_db()
    assert rule.points == 30


def test_front_desk_works_leads_with_contact_details(as_role):
    client = as_role(FRONT_DESK)
    page = client.get("/admin/leads/lead/", {"q": "07911 100201"}).content.decode()
    assert "Sarah Chen" in page


def test_nobody_changes_the_interaction_log(as_role):
    interaction = UserInteraction.objects.first()
    for role in (CLINIC_MANAGER, FRONT_DESK, MARKETING):
        response = as_role(role).post(f"/admin/interactions/userinteraction/{interaction.pk}/change/", {"score": 1})
        assert response.status_code == 403
    assert UserSession.objects.exists()


def test_only_staff_who_work_leads_may_adjust_a_score(as_role):
    lead = lead_of("sarah.chen@example.com")
    assert as_role(MARKETING).get(f"/admin/leads/lead/{lead.pk}/adjust-score/").status_code == 403
