"""Front desk works leads in the admin: statuses with history, owners, notes, CSV."""

import csv
import io

import pytest

from leads.models import Lead, LeadNote, LeadStatusChange


@pytest.fixture
def staff(client, demo):
    client.login(username="admin", password="admin")
    return client


def act(client, action, leads):
    return client.post("/admin/leads/lead/", {"action": action, "_selected_action": [lead.pk for lead in leads]})


def test_a_bulk_status_change_is_kept_in_the_history(staff):
    lead = Lead.objects.get(email="anita.reddy@example.com")
    assert act(staff, "mark_contacted", [lead]).status_code == 302
    lead.refresh_from_db()
    assert lead.status == "contacted"
    change = LeadStatusChange.objects.filter(lead=lead).last()
    assert (change.from_status, change.to_status, change.changed_by.username) == ("new", "contacted", "admin")


def test_assign_to_me(staff):
    lead = Lead.objects.get(email="anita.reddy@example.com")
    act(staff, "assign_to_me", [lead])
    lead.refresh_from_db()
    assert lead.owner.username == "admin"


def test_changing_the_status_on_the_lead_page_also_keeps_history_and_adds_a_note(staff):
    lead = Lead.objects.get(email="priya.sharma@example.com")
    form = {
        "first_name": "Priya", "last_name": "Sharma", "email": lead.email, "phone": lead.phone, "message": "",
        "status": "qualified", "owner": "", "value": "",
        "notes-TOTAL_FORMS": "1", "notes-INITIAL_FORMS": "0", "notes-0-text": "Called: wants a peel in March.",
    }
    for prefix in ("appointments", "interactions", "status_changes", "consents"):
        form.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    response = staff.post(f"/admin/leads/lead/{lead.pk}/change/", form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert LeadStatusChange.objects.filter(lead=lead, to_status="qualified").exists()
    note = LeadNote.objects.get(lead=lead)
    assert (note.text, note.author.username) == ("Called: wants a peel in March.", "admin")


def test_the_lead_list_shows_age_and_owner(staff):
    page = staff.get("/admin/leads/lead/").content.decode()
    assert "column-age" in page and "column-owner" in page


def test_export_gives_the_selected_leads_as_csv_safe_for_spreadsheets(staff):
    lead = Lead.objects.get(email="sarah.chen@example.com")
    Lead.objects.filter(pk=lead.pk).update(last_name="=HYPERLINK(\"http://evil\")")
    response = act(staff, "export_csv", [lead])
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:6] == ["id", "created", "first name", "last name", "email", "phone"]
    assert rows[1][4:6] == ["sarah.chen@example.com", "+447911100201"]
    assert rows[1][3].startswith("'=")
    assert len(rows) == 2


def test_staff_adjust_a_score_by_hand_with_a_reason_kept_in_the_journey(staff):
    lead = Lead.objects.get(email="anita.reddy@example.com")
    url = f"/admin/leads/lead/{lead.pk}/adjust-score/"
    assert staff.get(url).status_code == 200
    response = staff.post(url, {"points": "-20", "reason": "Only wanted prices for a friend"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.lead_score == 85 - 20
    assert lead.score_reasons[-1] == {"rule": "Adjusted by staff: Only wanted prices for a friend", "points": -20,
                                      "occurrences": 1}
    adjustment = lead.interactions.get(interaction_type="score_adjustment")
    assert adjustment.data["by"] == "admin"
    page = staff.get(f"/admin/leads/lead/{lead.pk}/change/").content.decode()
    assert "Adjusted by staff: Only wanted prices for a friend" in page


def test_the_adjustment_survives_rescoring(staff):
    from leads.services import lead_adjust_score, lead_rescore

    lead = Lead.objects.get(email="anita.reddy@example.com")
    lead_adjust_score(lead=lead, points=10, reason="walk-in", by=None)
    assert lead_rescore(lead=lead).points == 95


@pytest.mark.parametrize(("points", "reason"), [("0", "x"), ("80", "x"), ("5", ""), ("lots", "x")])
def test_an_adjustment_needs_a_sensible_amount_and_a_reason(staff, points, reason):
    lead = Lead.objects.get(email="anita.reddy@example.com")
    response = staff.post(f"/admin/leads/lead/{lead.pk}/adjust-score/", {"points": points, "reason": reason})
    assert response.status_code == 400
    assert not lead.interactions.filter(interaction_type="score_adjustment").exists()


def test_the_lead_page_shows_interest_by_treatment_category(client, db):
    from django.contrib.auth import get_user_model

    from calculators.services import cost_estimate_run, recommendation_from_text, CostChoice
    from calculators.models import Procedure
    from leads.services import create_lead_from_form
    from tests.factories import UserSessionFactory

    session = UserSessionFactory()
    recommendation_from_text(session=session, text="botox for my frown lines")
    cost_estimate_run(session=session, budget_range="not_sure", choices=[
        CostChoice(Procedure.objects.get(slug="botox"), 1), CostChoice(Procedure.objects.get(slug="chemical-peel"), 1)])
    lead = create_lead_from_form(session=session, data={"first_name": "Ann", "email": "ann@example.com",
                                                        "consent_contact": True})
    get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-12345-x")
    client.login(username="boss", password="pw-12345-x")
    page = client.get(f"/admin/leads/lead/{lead.pk}/change/").content.decode()
    assert page.index("Injectables") < page.index("Skin")  # botox twice, the peel once
    assert "67 %" in page and "33 %" in page


def test_leads_can_be_assigned_in_bulk_to_a_colleague_who_works_leads(staff):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from clinic.roles import FRONT_DESK, MARKETING

    User = get_user_model()
    desk = User.objects.create_user("maria", first_name="Maria", last_name="Lopez", password="x-12345-pw", is_staff=True)
    desk.groups.add(Group.objects.get(name=FRONT_DESK))
    marketer = User.objects.create_user("tom", password="x-12345-pw", is_staff=True)
    marketer.groups.add(Group.objects.get(name=MARKETING))
    page = staff.get("/admin/leads/lead/").content.decode()
    assert "Assign selected leads to Maria Lopez" in page
    assert "Assign selected leads to tom" not in page
    leads = list(Lead.objects.order_by("pk")[:3])
    act(staff, f"assign_to_user_{desk.pk}", leads)
    assert set(Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("owner__username", flat=True)) == {"maria"}
