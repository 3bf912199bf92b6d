"""Rules are checked on every tracked event, so their size is limited: a rule with an
"in" list of 200,000 values or an "any" of 40,000 tests, or a hundred active rules,
is refused in plain words wherever rules are saved."""

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from scoring import engine
from scoring.engine import ConditionError
from scoring.models import LeadScoringRule

HUGE_IN = {"field": "data.query", "op": "in", "value": list(range(200_000))}  # 1.3 MB of JSON
HUGE_ANY = {"any": [{"field": "data.query", "op": "eq", "value": f"word {n}"} for n in range(40_000)]}


def bonus(name, condition=None, **fields):
    return {"name": name, "kind": "bonus", "points": 5,
            "condition": condition or {"field": "data.occasion", "op": "eq", "value": name}, **fields}


@pytest.mark.parametrize(("condition", "message"), [
    (HUGE_IN, "The list of 'in' may hold at most 100 values; this one has 200,000."),
    (HUGE_ANY, "A condition may test at most 50 things"),
    ({"all": [{"not": {"field": "urgency", "op": "exists"}}] * 51}, "at most 50 things"),
    ({"field": "data.query", "op": "contains", "value": "x" * 201}, "at most 200 characters"),
    ({"field": "data." + "x" * 200, "op": "exists"}, "at most 200 characters"),
])
def test_oversized_conditions_are_refused_in_plain_words(condition, message):
    with pytest.raises(ConditionError, match=message.replace("(", r"\(")):
        engine.validate_condition(condition)


def test_conditions_at_the_limits_are_accepted():
    engine.validate_condition({"field": "concerns", "op": "in", "value": [f"c{n}" for n in range(100)]})
    engine.validate_condition({"any": [{"field": "position", "op": "eq", "value": n} for n in range(50)]})


@pytest.fixture
def staff_api(db):
    client = APIClient()
    client.force_login(get_user_model().objects.create_superuser("boss", password="pw-12345-x"))
    return client


@pytest.mark.parametrize("condition", [HUGE_IN, HUGE_ANY])
def test_the_api_refuses_an_oversized_rule_with_400(staff_api, condition):
    response = staff_api.post("/api/v1/scoring-rules/", bonus("Huge", condition), format="json")
    assert response.status_code == 400
    assert "at most" in response.json()["errors"]["condition"][0]
    assert not LeadScoringRule.objects.filter(name="Huge").exists()


def test_no_more_than_50_rules_can_be_active(staff_api):
    active = LeadScoringRule.objects.filter(is_active=True).count()
    LeadScoringRule.objects.bulk_create(
        LeadScoringRule(name=f"Extra {n}", kind="bonus", points=1,
                        condition={"field": "data.extra", "op": "eq", "value": n})
        for n in range(engine.MAX_ACTIVE_RULES - active)
    )
    response = staff_api.post("/api/v1/scoring-rules/", bonus("One too many"), format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["is_active"] == [
        "At most 50 rules can be active at once (each one is checked on every tracked event); deactivate one first."
    ]
    assert staff_api.post("/api/v1/scoring-rules/", bonus("Kept aside", is_active=False),
                          format="json").status_code == 201
    existing = LeadScoringRule.objects.get(name="Extra 0")
    assert staff_api.patch(f"/api/v1/scoring-rules/{existing.pk}/", {"points": 2}, format="json").status_code == 200

    page = staff_api.post("/admin/scoring/leadscoringrule/add/", {
        **bonus("Via the admin"), "condition": json.dumps(bonus("x")["condition"]), "order": "0", "is_active": "on",
    })
    assert page.status_code == 200 and "deactivate one first" in page.content.decode()
    assert not LeadScoringRule.objects.filter(name__in=["One too many", "Via the admin"]).exists()


def test_a_rules_file_that_would_make_too_many_active_is_refused(db, tmp_path):
    path = tmp_path / "rules.json"
    call_command("scoring_rules", "export", str(path), stdout=StringIO())
    document = json.loads(path.read_text())
    document["rules"] += [bonus(f"Extra {n}") for n in range(engine.MAX_ACTIVE_RULES)]
    path.write_text(json.dumps(document))
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("scoring_rules", "load", str(path), stdout=StringIO(), stderr=err)
    assert "61 rules would be active. At most 50 rules can be active at once" in err.getvalue()
    assert not LeadScoringRule.objects.filter(name="Extra 0").exists()


@pytest.mark.parametrize("condition", [
    {"field": "data.a\x00", "op": "exists"},
    {"field": "urgency", "op": "in", "value": ["soon\x00"]},
])
def test_a_nul_character_in_a_condition_is_refused_in_words(condition):
    """PostgreSQL cannot store one in JSON: it used to be a 500 there (found by tests/test_fuzz.py)."""
    with pytest.raises(engine.ConditionError, match="NUL"):
        engine.validate_condition(condition)
