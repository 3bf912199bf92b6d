"""/admin/comprehensive/lead-scoring/: rules in words, their performance, thresholds."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from clinic.roles import FRONT_DESK, MARKETING
from leads.models import Lead
from scoring.models import ScoringSettings

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
