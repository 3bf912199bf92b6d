"""The API's errors: the statuses its schema lists, each with the one error body."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clinic.roles import CLINIC_MANAGER
from scoring.models import LeadScoringRule

pytestmark = pytest.mark.django_db
RULE = {"name": "Surgical interest", "kind": "bonus", "points": 10,
        "condition": {"field": "procedures", "op": "contains", "value": "rhinoplasty"}}


@pytest.fixture
def manager():
    user = get_user_model().objects.create_user("manager", password="pw-12345-x", is_staff=True)
    user.groups.add(Group.objects.get(name=CLINIC_MANAGER))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"detail", "errors"} and body["detail"]
    return body["errors"]


def test_a_bad_token_is_401_and_names_the_scheme():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get("/api/v1/leads/")
    error(response, 401)
    assert response["WWW-Authenticate"] == "Token"


def test_no_credentials_is_401_too():
    response = APIClient().get("/api/v1/leads/")
    error(response, 401)
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(
    ("url", "query", "field"),
    [
        ("/api/v1/interactions/", "converted=", "converted"),
        ("/api/v1/interactions/", "converted=yes", "converted"),
        ("/api/v1/interactions/", "session=", "session"),
        ("/api/v1/interactions/", "session=not-a-uuid", "session"),
        ("/api/v1/interactions/", "lead=1.5", "lead"),
        ("/api/v1/leads/", "level=", "level"),
        ("/api/v1/leads/", "created_after=", "created_after"),
        ("/api/v1/leads/", "score_min=80&score_min=90", "score_min"),
        ("/api/v1/leads/", "page_size=abc", "page_size"),
        ("/api/v1/leads/", "page_size=0", "page_size"),
        ("/api/v1/dashboard/", "start=", "start"),
    ],
)
def test_a_filter_it_cannot_read_is_400_not_ignored(manager, url, query, field):
    assert field in error(manager.get(f"{url}?{query}"), 400)


def test_filtering_by_an_id_that_matches_nothing_gives_an_empty_page(manager):
    response = manager.get("/api/v1/interactions/?lead=987654&converted=true")
    assert response.status_code == 200 and response.json()["count"] == 0


@pytest.mark.parametrize("moment", ["0022-02-25T09:44:25-21:32", "0001-01-01T00:00:00+05:00",
                                    "9999-12-31T23:00:00-05:00"])
def test_any_iso_moment_filters_even_offsets_postgresql_refuses(manager, moment):
    for url in ("/api/v1/interactions/", "/api/v1/leads/"):
        response = manager.get(url, {"created_after": moment, "created_before": moment})
        assert response.status_code == 200, response.content


def test_unknown_or_read_only_body_keys_are_400_naming_them(manager):
    errors = error(manager.post("/api/v1/scoring-rules/", {**RULE, "pionts": 5, "created_at": "x"}, format="json"),
                   400)
    assert set(errors) == {"pionts", "created_at"} and "points" in errors["pionts"][0]
    assert not LeadScoringRule.objects.filter(name=RULE["name"]).exists()


def test_values_of_another_json_type_are_400_not_coerced(manager):
    errors = error(manager.post("/api/v1/scoring-rules/", {**RULE, "is_active": 0, "points": True, "name": 5},
                                format="json"), 400)
    assert set(errors) == {"is_active", "points", "name"}


def test_the_staff_api_takes_json_bodies(manager):
    response = manager.post("/api/v1/scoring-rules/", {**RULE, "condition": json.dumps(RULE["condition"])})
    error(response, 415)


def test_a_name_already_taken_is_a_409_conflict(manager):
    assert manager.post("/api/v1/scoring-rules/", RULE, format="json").status_code == 201
    assert "name" in error(manager.post("/api/v1/scoring-rules/", RULE, format="json"), 409)


def test_a_base_rule_cannot_become_per_occurrence(manager):
    rule = LeadScoringRule.objects.filter(kind="base").first()
    assert "per_occurrence" in error(manager.patch(f"/api/v1/scoring-rules/{rule.pk}/", {"per_occurrence": True},
                                                   format="json"), 409)
    assert "per_occurrence" in error(manager.post("/api/v1/scoring-rules/", {
        **RULE, "kind": "base", "per_occurrence": True}, format="json"), 400)


def test_a_path_that_is_no_endpoint_answers_json(manager):
    error(manager.get("/api/v1/leads/1.5/"), 404)
    error(manager.get("/api/v1/nothing-here/"), 404)
    assert "text/html" in Client().get("/no-such-page/")["Content-Type"]


def test_a_method_the_tracking_endpoint_lacks_is_405():
    error(Client().generic("QUERY", "/api/v1/track/"), 405)


def test_over_the_tracking_limit_the_answer_has_the_error_shape(settings):
    settings.CLINIC_RATE_LIMITS = {**settings.CLINIC_RATE_LIMITS, "tracking": "1/m"}
    browser = Client()
    browser.get("/")
    headers = {"HTTP_X_CSRFTOKEN": browser.cookies["csrftoken"].value}
    browser.post("/api/v1/track/", {"event": "page_engagement"}, content_type="application/json", **headers)
    response = browser.post("/api/v1/track/", {"event": "page_engagement"}, content_type="application/json",
                            **headers)
    assert error(response, 429) == {} and response["Retry-After"] == "60"


def test_the_schema_lists_every_error_status_with_the_error_body(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    operations = {(method.upper(), path): operation for path, item in schema["paths"].items()
                  for method, operation in item.items()}
    assert set(operations["GET", "/api/v1/leads/"]["responses"]) == {"200", "400", "401", "403", "404"}
    assert set(operations["PATCH", "/api/v1/scoring-rules/{id}/"]["responses"]) == {
        "200", "400", "401", "403", "404", "409", "415"}
    assert set(operations["POST", "/api/v1/track/"]["responses"]) == {"201", "400", "403", "415", "429"}
    for operation in operations.values():
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert operations["GET", "/api/v1/leads/"]["responses"]["401"]["headers"]["WWW-Authenticate"]
    rule = schema["components"]["schemas"]["RuleRequest"]
    assert rule["additionalProperties"] is False
    assert rule["properties"]["condition"]["allOf"] == [{"$ref": "#/components/schemas/ScoringCondition"}]
