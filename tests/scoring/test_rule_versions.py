"""Rule versions: every change of the rules or settings is an immutable, numbered
snapshot, and the tracker scores with the version it names."""

import pytest
from django.db import transaction

from scoring.models import LeadScoringRule, RuleVersion, RuleVersionImmutable
from scoring.services import scoring_config
from scoring.versions import rule_version_at, rule_version_latest, rule_version_record, ruleset_of
from tests.factories import scoring_rule_change, scoring_settings_change

pytestmark = pytest.mark.django_db


def rule_points(version: RuleVersion, name: str) -> int:
    return next(rule.points for rule in version.engine_rules() if rule.name == name)


def test_saving_a_rule_records_a_new_version_once_it_commits(django_capture_on_commit_callbacks):
    before = rule_version_record()
    with django_capture_on_commit_callbacks(execute=True):
        scoring_rule_change("Immediate urgency", points=40)
    latest = rule_version_latest()
    assert latest.number == before.number + 1
    assert rule_points(latest, "Immediate urgency") == 40
    assert rule_points(before, "Immediate urgency") == 25  # the old version keeps what it was


def test_rules_saved_together_make_one_version(django_capture_on_commit_callbacks):
    before = rule_version_record()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        scoring_rule_change("Immediate urgency", points=40)
        scoring_rule_change("High budget", points=5)
        scoring_settings_change(high_threshold=75)
    assert rule_version_latest().number == before.number + 1
    assert rule_version_latest().settings_snapshot["high_threshold"] == 75


def test_a_save_that_changes_nothing_makes_no_version(django_capture_on_commit_callbacks):
    before = rule_version_record()
    with django_capture_on_commit_callbacks(execute=True):
        LeadScoringRule.objects.get(name="High budget").save()
    assert rule_version_latest() == before


def test_a_change_that_bypassed_the_save_is_recorded_before_anything_is_scored_with_it():
    before = rule_version_record()
    LeadScoringRule.objects.filter(name="High budget").update(points=35)  # no signal
    from scoring.services import scoring_config_forget

    scoring_config_forget()
    config = scoring_config()
    assert config.version == before.number + 1
    assert rule_points(RuleVersion.objects.get(number=config.version), "High budget") == 35


def test_the_scoring_config_is_its_versions_rules_and_settings():
    scoring_settings_change(medium_threshold=35)
    config = scoring_config()
    version = RuleVersion.objects.get(number=config.version)
    assert config.ruleset.fingerprint == ruleset_of(version).fingerprint
    assert config.thresholds.medium == 35 == version.scoring_settings().medium_threshold


def test_a_version_is_never_changed_or_deleted():
    version = rule_version_record()
    version.note = "edited"
    with pytest.raises(RuleVersionImmutable):
        version.save()
    with pytest.raises(RuleVersionImmutable):
        version.delete()
    assert RuleVersion.objects.get(pk=version.pk).note != "edited"


def test_the_version_in_force_at_a_moment_is_the_latest_recorded_by_then():
    first = rule_version_record()
    scoring_rule_change("High budget", points=35)
    second = rule_version_record()
    assert second.number == first.number + 1
    assert rule_version_at(second.created_at) == second
    assert rule_version_at(first.created_at) == first
    assert rule_version_at(first.created_at.replace(year=2000)) is None


def test_an_inactive_rule_is_in_the_snapshot_but_not_scored():
    scoring_rule_change("High budget", is_active=False)
    version = rule_version_record()
    assert "High budget" in [rule["name"] for rule in version.document["rules"]]
    assert "High budget" not in [rule.name for rule in version.engine_rules()]
