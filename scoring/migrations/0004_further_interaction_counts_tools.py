""""Each further interaction" counts tool uses only (the new `tool_position` fact).

It counted every interaction after the first except page views, searches included:
17 searches of "x" through the tracking API took a visitor from 15 to 100 and, via
the contact form, made a "high" lead and a staff e-mail with no tool used. A clinic
that has edited the rule keeps its own version. Conditions are copied here, not
imported, so this migration keeps doing the same thing whatever later code does.
"""

from django.db import migrations

NAME = "Each further interaction"
OLD = {
    "condition": {"all": [{"field": "position", "op": "gt", "value": 1},
                          {"field": "interaction_type", "op": "ne", "value": "page_engagement"}]},
    "description": "Every action after the first (tools and searches; plain page views do not count).",
}
NEW = {
    "condition": {"field": "tool_position", "op": "gt", "value": 1},
    "description": "Every tool used after the first (searches and page views do not count: "
                   "a browser can send any number of them).",
}


def _replace(apps, before, after):
    Rule = apps.get_model("scoring", "LeadScoringRule")
    rule = Rule.objects.filter(name=NAME).first()
    if rule is not None and rule.condition == before["condition"]:
        rule.condition = after["condition"]
        if rule.description == before["description"]:
            rule.description = after["description"]
        rule.save(update_fields=["condition", "description", "updated_at"])


def forwards(apps, schema_editor):
    _replace(apps, OLD, NEW)


def backwards(apps, schema_editor):
    _replace(apps, NEW, OLD)


class Migration(migrations.Migration):
    dependencies = [("scoring", "0003_contact_prompt_per_page")]
    operations = [migrations.RunPython(forwards, backwards)]
