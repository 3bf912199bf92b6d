"""JSON nested absurdly deep is refused in plain words (400), never a crash (500)."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.parsers import JSONTooDeep, json_loads
from leads.importer.rows import json_loads_finite as _json_loads
from leads.models import Lead
from scoring.models import LeadScoringRule
from scoring.portability import RulesDocumentError, scoring_rules_parse

DEEP = "[" * 100_000 + "]" * 100_000
# Under Python's own recursion limit, so only the depth check stops it.
FAIRLY_DEEP = json.dumps({"event": "search", "query": "x", "extra": json.loads("[" * 500 + "]" * 500)})


@pytest.fixture
def staff_api(demo):
    client = APIClient()
    token = Token.objects.create(user=get_user_model().objects.get(username="admin"))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.mark.parametrize("body", [DEEP, FAIRLY_DEEP])
def test_a_deeply_nested_tracking_event_is_refused_with_400(db, body):
    browser = Client(enforce_csrf_checks=True)
    browser.get("/")
    response = browser.post("/api/v1/track/", body, content_type="application/json",
                            HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value)
    assert response.status_code == 400
    assert "nested more than 32 levels" in response.json()["detail"]


def test_a_deeply_nested_lead_update_is_refused_with_400(staff_api):
    lead = Lead.objects.get(email="sarah.chen@example.com")
    response = staff_api.patch(f"/api/v1/leads/{lead.pk}/", DEEP, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - the JSON is nested more than 32 levels deep.",
                               "errors": {}}


def test_a_deeply_nested_scoring_rule_is_refused_with_400(staff_api):
    before = LeadScoringRule.objects.count()
    response = staff_api.post("/api/v1/scoring-rules/", DEEP, content_type="application/json")
    assert response.status_code == 400
    assert "nested more than 32 levels" in response.json()["detail"]
    assert LeadScoringRule.objects.count() == before


def test_ordinary_json_still_parses_and_files_get_the_same_limit():
    assert json_loads('{"a": [1, {"b": 2}]}') == {"a": [1, {"b": 2}]}
    with pytest.raises(JSONTooDeep):
        json_loads(DEEP)
    with pytest.raises(ValueError, match="nested more than 32 levels"):
        _json_loads(DEEP)  # a line of an import_interactions JSON Lines file
    with pytest.raises(RulesDocumentError, match="nested more than 32 levels"):
        scoring_rules_parse(DEEP)
