"""Previewing a rule change scores every lead in memory (the engine is pure): the
answer a real rescore would give, with no lock taken and nothing written."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.models import Lead
from leads.rescoring import leads_rescore_bulk, rule_change_preview
from scoring.models import LeadScoringRule

WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|SAVEPOINT)\b|\bFOR UPDATE\b", re.IGNORECASE)


def test_an_unchanged_rule_changes_no_lead(demo):
    rule = LeadScoringRule.objects.get(name="Immediate urgency")
    summary = rule_change_preview(rule=rule)
    assert (summary.rescored, summary.changed) == (Lead.objects.count(), 0)


@pytest.mark.parametrize(
    "change",
    [
        {"points": 0},
        {"points": 30, "name": "Immediate urgency, more"},
        {"is_active": False},
        {"kind": "base", "points": 95},
    ],
)
def test_the_preview_gives_what_saving_and_rescoring_would(demo, change):
    rule = LeadScoringRule.objects.get(name="Immediate urgency")
    for name, value in change.items():
        setattr(rule, name, value)
    preview = rule_change_preview(rule=rule)
    rule.save()
    rescore = leads_rescore_bulk(leads=Lead.objects.all(), dry_run=True)
    assert (preview.changed, preview.level_changes) == (rescore.changed, rescore.level_changes)
    assert preview.changed > 0


def test_a_new_rule_is_previewed_too(demo):
    new = LeadScoringRule(name="Botox asked", kind="bonus", points=10, order=200,
                          condition={"field": "procedures", "op": "contains", "value": "botox"})
    preview = rule_change_preview(rule=new)
    new.save()
    assert preview.changed == leads_rescore_bulk(leads=Lead.objects.all(), dry_run=True).changed > 0


def test_the_preview_takes_no_lock_and_writes_nothing(demo):
    rule = LeadScoringRule.objects.get(name="Immediate urgency")
    rule.points = 0
    with CaptureQueriesContext(connection) as queries:
        rule_change_preview(rule=rule)
    assert not [query["sql"] for query in queries.captured_queries if WRITES.search(query["sql"])]
    assert LeadScoringRule.objects.get(pk=rule.pk).points == 25


def test_previewing_in_the_admin_locks_nothing_and_writes_nothing(demo, client):
    client.login(username="admin", password="admin")
    rule = LeadScoringRule.objects.get(name="Immediate urgency")
    data = {"name": rule.name, "description": rule.description, "kind": rule.kind, "points": "0",
            "condition": '{"field": "urgency", "op": "eq", "value": "immediate"}', "order": rule.order,
            "is_active": "on"}
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/admin/comprehensive/lead-scoring/preview/{rule.pk}/", data)
    assert response.status_code == 200 and response.context["summary"].changed > 0
    ours = re.compile(r'"?(leads|scoring|interactions)_', re.IGNORECASE)
    assert not [query["sql"] for query in queries.captured_queries
                if WRITES.search(query["sql"]) and (ours.search(query["sql"]) or "FOR UPDATE" in query["sql"])]
