"""Staff change a lead through one service, whatever the road (API, lead page, list):
the same rules, one transaction, all of it or none of it."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clinic.roles import CLINIC_MANAGER, FRONT_DESK, MARKETING
from leads.models import Lead, LeadStatusChange
from leads.services import lead_update


def staff_in(role: str, username: str | None = None):
    user = get_user_model().objects.create_user(username or role.lower().replace(" ", "_"), password="pw-12345-x",
                                                is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def api(demo):
    client = APIClient()
    token = Token.objects.create(user=staff_in(FRONT_DESK))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def sarah(demo):
    return Lead.objects.get(email="sarah.chen@example.com")


def test_the_api_refuses_a_negative_value(api, sarah):
    before = sarah.value
    response = api.patch(f"/api/v1/leads/{sarah.pk}/", {"value": "-5000"}, format="json")
    assert response.status_code == 400 and "value" in response.json()["errors"]
    sarah.refresh_from_db()
    assert sarah.value == before


def test_the_api_refuses_to_give_a_lead_to_marketing(api, sarah):
    staff_in(MARKETING, "mia")
    response = api.patch(f"/api/v1/leads/{sarah.pk}/", {"owner": "mia"}, format="json")
    assert response.status_code == 400
    assert "does not work leads" in response.json()["errors"]["owner"][0]
    sarah.refresh_from_db()
    assert sarah.owner is None or sarah.owner.username != "mia"


def test_a_refused_change_writes_nothing_at_all(api, sarah):
    staff_in(MARKETING, "mia")
    status, value, history = sarah.status, sarah.value, sarah.status_changes.count()
    response = api.patch(f"/api/v1/leads/{sarah.pk}/", {"status": "won", "value": "900", "owner": "mia"}, format="json")
    assert response.status_code == 400
    sarah.refresh_from_db()
    assert (sarah.status, sarah.value, sarah.status_changes.count()) == (status, value, history)


def test_status_owner_and_value_change_together_with_the_history_kept(api, sarah):
    colleague = staff_in(CLINIC_MANAGER, "maria")
    response = api.patch(f"/api/v1/leads/{sarah.pk}/", {"status": "lost", "value": "0", "owner": "maria"},
                         format="json")
    assert response.status_code == 200, response.json()
    sarah.refresh_from_db()
    assert (sarah.status, sarah.value, sarah.owner) == ("lost", Decimal("0"), colleague)
    assert LeadStatusChange.objects.filter(lead=sarah, to_status="lost", changed_by__username="front_desk").exists()


def test_contact_details_are_changed_only_by_staff_who_may_see_them(sarah):
    marketing = staff_in(MARKETING, "mia")
    with pytest.raises(ValidationError, match="contact details"):
        lead_update(lead=sarah, by=marketing, email="other@example.com")
    desk = staff_in(FRONT_DESK, "desk")
    lead_update(lead=sarah, by=desk, email=" Sarah.New@Example.com ")
    sarah.refresh_from_db()
    assert sarah.email == "sarah.new@example.com"


def test_an_address_already_on_another_lead_is_refused(sarah):
    other = Lead.objects.exclude(pk=sarah.pk).exclude(email="").first()
    with pytest.raises(ValidationError) as error:
        lead_update(lead=sarah, by=None, email=other.email)
    assert "email" in error.value.message_dict


@pytest.fixture
def admin_client(client, demo):
    client.login(username="admin", password="admin")
    return client


def lead_page_form(lead, **changes):
    form = {
        "first_name": lead.first_name, "last_name": lead.last_name, "email": lead.email, "phone": lead.phone,
        "message": lead.message, "status": lead.status, "owner": lead.owner_id or "", "value": lead.value or "",
    }
    for prefix in ("notes", "appointments", "interactions", "status_changes", "consents"):
        form.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return {**form, **changes}


def test_the_lead_page_shows_the_services_refusal_and_saves_nothing(admin_client, sarah):
    mia = staff_in(MARKETING, "mia")
    response = admin_client.post(f"/admin/leads/lead/{sarah.pk}/change/",
                                 lead_page_form(sarah, status="won", owner=mia.pk, value="-5"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "does not work leads" in errors["owner"][0] and "value" in errors
    sarah.refresh_from_db()
    assert sarah.status != "won" and sarah.owner != mia


def test_the_lead_page_saves_through_the_service(admin_client, sarah):
    response = admin_client.post(f"/admin/leads/lead/{sarah.pk}/change/",
                                 lead_page_form(sarah, status="qualified", value="450", phone="07911 100299"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    sarah.refresh_from_db()
    assert (sarah.status, sarah.value, sarah.phone) == ("qualified", Decimal("450"), "+447911100299")
    assert sarah.status_changes.last().changed_by.username == "admin"


@pytest.mark.parametrize("value", ["-0.01", "NaN", "lots"])
def test_a_value_that_is_not_a_positive_number_is_refused_by_the_service(sarah, value):
    with pytest.raises(ValidationError) as error:
        lead_update(lead=sarah, by=None, value=value)
    assert "value" in error.value.message_dict


def test_a_lead_keeps_the_furthest_stage_it_reached_when_moved_back_or_lost(db):
    lead = Lead.objects.create(email="walk.in@example.com")
    for status, furthest in (("contacted", "contacted"), ("booked", "booked"), ("qualified", "booked"),
                             ("lost", "booked"), ("won", "won"), ("new", "won")):
        lead_update(lead=lead, by=None, status=status)
        assert (lead.status, lead.furthest_stage) == (status, furthest)
        lead.refresh_from_db()
        assert (lead.status, lead.furthest_stage) == (status, furthest)
    assert lead.status_changes.count() == 6


def test_a_refused_status_change_leaves_the_furthest_stage_as_it_was(db):
    lead = Lead.objects.create(email="walk.in@example.com")
    with pytest.raises(ValidationError):  # refused by the model's rules, after the history row is written
        lead_update(lead=lead, by=None, status="booked", first_name="x" * 101)
    lead.refresh_from_db()
    assert (lead.status, lead.furthest_stage, lead.status_changes.count()) == ("new", "new", 0)
