"""The lead page's score chart and the score history page, as each role sees them;
and the history the import and the bulk rescore write."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from clinic.roles import CLINIC_MANAGER, FRONT_DESK, MARKETING
from interactions.tracker import track_user_interaction
from leads.models import Lead, LeadScoreChange, ScoreChangeCause
from leads.services import create_lead_from_form, lead_adjust_score
from scoring.services import scoring_config
from tests.factories import UserSessionFactory, scoring_rule_change

pytestmark = pytest.mark.django_db


def staff(role: str, name: str = ""):
    username = name or role.lower().replace(" ", "_")
    user = get_user_model().objects.create_user(username, password="pw-12345-x", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def lead():
    start = timezone.now() - timedelta(days=20)
    session = UserSessionFactory(created_at=start, last_seen_at=start)
    track_user_interaction(session, "ai_recommendation", {"urgency": "immediate"}, occurred_at=start)
    lead = create_lead_from_form(session=session, data={"email": "sarah@example.com", "consent_contact": True},
                                 occurred_at=start)
    lead_adjust_score(lead=lead, points=-10, reason="Sarah asked to wait", by=staff(CLINIC_MANAGER, "adjuster"))
    lead.start = start
    return lead


def history_page(client, lead, **query):
    return client.get(f"/admin/leads/lead/{lead.pk}/score/", query)


def test_the_lead_page_charts_the_score_with_each_rule_change_marked(client, lead):
    scoring_rule_change("Immediate urgency", points=5)
    call_command("rescore_leads", stdout=StringIO())
    client.force_login(staff(FRONT_DESK))
    page = client.get(f"/admin/leads/lead/{lead.pk}/change/").content.decode()
    chart = re.search(r'<div class="score-chart">(.*?)</svg>', page, re.S).group(1)
    assert chart.count("<circle") == 3  # 85 on conversion, 75 after the adjustment, 55 after the rule change
    assert f">v{scoring_config().version}<" in chart
    assert f"/admin/leads/lead/{lead.pk}/score/" in page


@pytest.mark.parametrize("role", [CLINIC_MANAGER, FRONT_DESK, MARKETING])
def test_every_role_reads_the_score_of_a_day_and_the_score_under_a_version(client, lead, role):
    old_version = scoring_config().version
    scoring_rule_change("Immediate urgency", points=5)
    call_command("rescore_leads", stdout=StringIO())
    client.force_login(staff(role))
    day = (lead.start + timedelta(days=1)).date().isoformat()
    response = history_page(client, lead, day=day, version=old_version)
    assert response.status_code == 200
    page = response.content.decode()
    as_of = re.search(r'id="score-as-of">(.*?)</div>', page, re.S).group(1)
    assert "<strong>85</strong>" in as_of and f"rule version {old_version}" in as_of
    replay = re.search(r'id="score-replay">(.*?)</div>', page, re.S).group(1)
    assert "<strong>85</strong>" in replay
    changes = re.search(r'<table id="score-changes">(.*?)</table>', page, re.S).group(1)
    assert changes.count("<tr>") == 4  # the header and three changes
    # A staff adjustment's reason is free text: only staff who may see contact details read it.
    assert ("Sarah asked to wait" in page) == (role != MARKETING)


def test_a_bad_day_or_an_unknown_version_is_a_form_error(client, lead):
    client.force_login(staff(FRONT_DESK))
    response = history_page(client, lead, day="31-02-2026", version="999")
    assert response.status_code == 400
    assert "Enter a valid date" in response.content.decode()
    assert "Select a valid choice" in response.content.decode()


def test_the_import_records_each_row_that_moves_a_lead_score_at_its_time(tmp_path):
    start = timezone.now().replace(microsecond=0) - timedelta(days=30)
    rows = [
        "id,session_id,timestamp,type,urgency,email,consent",
        f"1,old-7,{start.isoformat()},ai_recommendation,immediate,,",
        f"2,old-7,{(start + timedelta(minutes=2)).isoformat()},contact_form,,ines@example.com,true",
        f"3,old-7,{(start + timedelta(days=3)).isoformat()},face_analysis,,,",
        f"4,old-7,{(start + timedelta(days=3, minutes=1)).isoformat()},search,,,",
    ]
    path = tmp_path / "history.csv"
    path.write_text("\n".join(rows) + "\n")
    call_command("import_interactions", str(path), stdout=StringIO())
    lead = Lead.objects.get(email="ines@example.com")
    history = list(LeadScoreChange.objects.filter(lead=lead).order_by("at"))
    assert [(change.at, change.cause) for change in history] == [
        (start + timedelta(minutes=2), ScoreChangeCause.IMPORT),
        (start + timedelta(days=3), ScoreChangeCause.IMPORT),
    ]
    assert history[-1].score == lead.lead_score
    assert {change.rule_version_id for change in history} == {scoring_config().version}
