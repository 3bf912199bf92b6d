"""manage.py scoring_rules export / load: the rules as a versionable JSON file."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from scoring.models import LeadScoringRule, ScoringSettings
from tests.factories import scoring_settings_change

pytestmark = pytest.mark.django_db

RULE_FIELDS = ["name", "description", "kind", "condition", "points", "per_occurrence", "is_active", "order"]


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("scoring_rules", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def all_rules():
    return list(LeadScoringRule.objects.order_by("name").values(*RULE_FIELDS))


def all_settings():
    return ScoringSettings.objects.values(
        "medium_threshold", "high_threshold", "contact_prompt_threshold",
        "contact_prompt_cooldown_minutes", "contact_prompt_max_shows",
    ).get()


@pytest.fixture
def exported(tmp_path):
    path = tmp_path / "rules.json"
    run("export", str(path))
    return path


def edited(path, change):
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))
    return path


def test_export_writes_every_rule_and_the_settings_as_pretty_stable_json():
    text, _ = run("export")
    document = json.loads(text)
    assert document["settings"]["medium_threshold"] == 40 and document["settings"]["high_threshold"] == 70
    assert [rule["name"] for rule in document["rules"]][:2] == ["AI recommendation", "Face analysis"]
    assert list(document["rules"][0]) == RULE_FIELDS
    assert text.startswith('{\n  "format": "clinic-scoring-rules"')
    assert run("export")[0] == text


def test_export_then_load_into_a_fresh_database_gives_identical_rules(exported):
    rules, settings = all_rules(), all_settings()
    LeadScoringRule.objects.all().delete()
    scoring_settings_change(medium_threshold=10, high_threshold=20, contact_prompt_max_shows=9)

    out, _ = run("load", str(exported))

    assert "11 created, 0 updated, 0 deactivated, 0 unchanged; settings changed." in out
    assert all_rules() == rules
    assert all_settings() == settings
    assert run("export")[0] == exported.read_text()


def test_loading_the_same_file_again_changes_nothing(exported):
    out, _ = run("load", str(exported))
    assert "0 created, 0 updated, 0 deactivated, 11 unchanged; settings unchanged." in out
    assert "rescore_leads" not in out


def test_rules_are_matched_by_name_and_created_or_updated(exported):
    def change(document):
        document["rules"][0]["points"] = 65
        document["rules"].append({
            "name": "Wedding", "kind": "bonus", "points": 10,
            "condition": {"field": "data.occasion", "op": "eq", "value": "wedding"},
        })

    out, _ = run("load", str(edited(exported, change)))
    assert "update 'AI recommendation': points: 60 -> 65" in out
    assert "create 'Wedding'" in out
    assert "Stored scores keep the old rules until you run: manage.py rescore_leads" in out
    assert LeadScoringRule.objects.get(name="AI recommendation").points == 65
    wedding = LeadScoringRule.objects.get(name="Wedding")
    assert (wedding.is_active, wedding.per_occurrence, wedding.description) == (True, False, "")


def test_a_file_with_a_bad_condition_is_refused_with_the_rule_name_and_changes_nothing(exported):
    rules, settings = all_rules(), all_settings()

    def change(document):
        document["rules"][0]["points"] = 65
        document["rules"][6]["condition"] = {"field": "budget", "op": "eq", "value": "high"}
        document["settings"]["high_threshold"] = 90

    err = StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("scoring_rules", "load", str(edited(exported, change)), stdout=StringIO(), stderr=err)
    assert "not loaded (1 problem); nothing was changed" in str(refused.value)
    assert "Rule 'High budget': condition: Unknown field 'budget'." in err.getvalue()
    assert all_rules() == rules and all_settings() == settings


def test_every_problem_is_reported_at_once(exported):
    def change(document):
        rules = document["rules"]
        rules[0]["kind"] = "extra"
        rules[1]["points"] = 500
        rules[2]["per_occurrence"] = True
        rules[3]["colour"] = "red"
        rules.append(dict(rules[4]))
        rules.append({"kind": "bonus"})
        document["settings"]["medium_threshold"] = 80

    err = StringIO()
    with pytest.raises(CommandError):
        call_command("scoring_rules", "load", str(edited(exported, change)), stdout=StringIO(), stderr=err)
    problems = err.getvalue()
    assert "Rule 'AI recommendation': kind: Value 'extra' is not a valid choice." in problems
    assert "Rule 'Face analysis': points: Ensure this value is less than or equal to 100." in problems
    assert "Rule 'Cost calculator': per_occurrence: A base score is given once" in problems
    assert "Rule 'Appointment booking': unknown key 'colour'." in problems
    assert "Rule 'Explicit enquiry': appears 2 times; names must be unique." in problems
    assert "Rule #13: needs a \"name\"." in problems
    assert "Settings: medium_threshold: Medium must not be above the high threshold." in problems


def test_replace_deactivates_rules_missing_from_the_file_and_keeps_them(exported):
    def change(document):
        document["rules"] = [rule for rule in document["rules"] if rule["name"] != "Returning visitor"]

    path = edited(exported, change)
    run("load", str(path))
    assert LeadScoringRule.objects.get(name="Returning visitor").is_active

    out, _ = run("load", str(path), "--replace")
    assert "deactivate 'Returning visitor'" in out
    assert "0 created, 0 updated, 1 deactivated, 10 unchanged" in out
    assert not LeadScoringRule.objects.get(name="Returning visitor").is_active
    assert LeadScoringRule.objects.filter(is_active=True).count() == 10


def test_a_dry_run_shows_what_would_change_and_saves_nothing(exported):
    rules, settings = all_rules(), all_settings()

    def change(document):
        document["rules"] = document["rules"][1:]
        document["rules"][0]["points"] = 90
        document["rules"].append({"name": "Spam words", "kind": "bonus", "points": -50,
                                  "condition": {"field": "data.query", "op": "contains", "value": "casino"}})
        document["settings"]["high_threshold"] = 75

    out, _ = run("load", str(edited(exported, change)), "--replace", "--dry-run")
    assert "create 'Spam words'" in out
    assert "update 'Face analysis': points: 80 -> 90" in out
    assert "deactivate 'AI recommendation'" in out
    assert "settings: high_threshold: 70 -> 75" in out
    assert ("Dry run, nothing was saved: 1 to create, 1 to update, 1 to deactivate, 9 unchanged; "
            "settings to change.") in out
    assert all_rules() == rules and all_settings() == settings


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "Cannot read"), ("{not json", "is not valid JSON"), ('["a list"]', "must be a JSON object")],
)
def test_an_unreadable_or_malformed_file_is_refused(tmp_path, content, message):
    path = tmp_path / "rules.json"
    if content is not None:
        path.write_text(content)
    err = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("scoring_rules", "load", str(path), stdout=StringIO(), stderr=err)
    assert message in str(raised.value) + err.getvalue()
