"""/admin/comprehensive/lead-scoring/: rules in words, their performance, thresholds."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from clinic.roles import FRONT_DESK, MARKETING
from leads.models import Lead
from scoring.models import ScoringSettings
from tests.factories import scoring_rule_change

URL = "/admin/comprehensive/lead-scoring/"


@pytest.fixture
def staff(client, demo):
    client.login(username="admin", password="admin")
    return client


def test_the_page_lists_every_rule_in_words_with_its_performance(staff):
    page = staff.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "urgency is equal to immediate" in html
    assert "Each further interaction" in html and "every occurrence" in html
    rows = dict((rule.name, perf) for rule, perf in page.context["rules"])
    fired = sum(1 for lead in Lead.objects.all() if any(r["rule"] == "Immediate urgency" for r in lead.score_reasons))
    assert rows["Immediate urgency"].leads == fired > 0
    assert page.context["baseline"].leads == Lead.objects.count()


def test_thresholds_are_saved_and_validated(staff):
    data = {"medium_threshold": 30, "high_threshold": 75, "contact_prompt_threshold": 50,
            "contact_prompt_cooldown_minutes": 60, "contact_prompt_max_shows": 2}
    assert staff.post(URL, data).status_code == 302
    assert ScoringSettings.objects.get().high_threshold == 75
    response = staff.post(URL, {**data, "medium_threshold": 90})
    assert response.status_code == 400
    assert "Medium must not be above" in response.content.decode()


def test_front_desk_may_read_but_not_change_thresholds(client, demo):
    user = get_user_model().objects.create_user("desk", password="pw-12345-x", is_staff=True)
    user.groups.add(Group.objects.get(name=FRONT_DESK))
    client.force_login(user)
    assert client.get(URL).status_code == 200
    assert client.post(URL, {"medium_threshold": 1}).status_code == 403


def test_marketing_tunes_thresholds(client, demo):
    user = get_user_model().objects.create_user("mkt", password="pw-12345-x", is_staff=True)
    user.groups.add(Group.objects.get(name=MARKETING))
    client.force_login(user)
    data = {"medium_threshold": 35, "high_threshold": 70, "contact_prompt_threshold": 60,
            "contact_prompt_cooldown_minutes": 1440, "contact_prompt_max_shows": 3}
    assert client.post(URL, data).status_code == 302


def test_rescore_all_runs_as_a_task_and_shows_its_progress(staff, django_capture_on_commit_callbacks):
    from leads.models import RescoreRun
    from scoring.models import LeadScoringRule

    scoring_rule_change("Immediate urgency", points=5)
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(URL, {"rescore": "1"}).status_code == 302
    run = RescoreRun.objects.get()
    assert run.status == "done" and run.done == run.total == Lead.objects.count()
    assert run.changed > 0 and run.requested_by.username == "admin"
    sarah = Lead.objects.get(email="sarah.chen@example.com")
    assert sarah.lead_score == 60 + 5
    page = staff.get(URL).content.decode()
    assert 'id="rescore-runs"' in page and f"{run.total} / {run.total}" in page


def test_front_desk_cannot_start_a_rescore(client, demo):
    user = get_user_model().objects.create_user("desk2", password="pw-12345-x", is_staff=True)
    user.groups.add(Group.objects.get(name=FRONT_DESK))
    client.force_login(user)
    assert client.post(URL, {"rescore": "1"}).status_code == 403


def rule_data(rule, **changes):
    import json

    data = {"name": rule.name, "description": rule.description, "kind": rule.kind,
            "condition": json.dumps(rule.condition), "points": rule.points, "order": rule.order}
    if rule.is_active:
        data["is_active"] = "on"
    if rule.per_occurrence:
        data["per_occurrence"] = "on"
    return {**data, **changes}


def test_a_rule_change_is_previewed_on_the_leads_before_saving(staff):
    from scoring.models import LeadScoringRule

    rule = LeadScoringRule.objects.get(name="Immediate urgency")
    form = staff.get(f"/admin/scoring/leadscoringrule/{rule.pk}/change/").content.decode()
    assert "Preview the effect on leads" in form
    before = dict(Lead.objects.values_list("pk", "lead_score"))
    response = staff.post(f"/admin/comprehensive/lead-scoring/preview/{rule.pk}/", rule_data(rule, points=0))
    assert response.status_code == 200
    summary = response.context["summary"]
    fired = sum(1 for lead in Lead.objects.all() if any(r["rule"] == "Immediate urgency" for r in lead.score_reasons))
    assert 0 < summary.changed <= fired
    assert "leads would change" in response.content.decode()
    assert dict(Lead.objects.values_list("pk", "lead_score")) == before
    rule.refresh_from_db()
    assert rule.points == 25


def test_previewing_a_new_rule_and_a_bad_one(staff):
    from scoring.models import LeadScoringRule

    new = LeadScoringRule(name="Surgical interest", kind="bonus", points=10,
                          condition={"field": "procedures", "op": "contains", "value": "rhinoplasty"}, order=200)
    response = staff.post("/admin/comprehensive/lead-scoring/preview/", rule_data(new))
    assert response.status_code == 200
    assert not LeadScoringRule.objects.filter(name="Surgical interest").exists()
    bad = rule_data(new, condition='{"field": "nope", "op": "eq", "value": 1}')
    response = staff.post("/admin/comprehensive/lead-scoring/preview/", bad)
    assert response.status_code == 400 and "Unknown field" in response.content.decode()
