"""The clinic's starting rules: the report's scoring table, plus one of ours.

The rules are copied here (not imported) so this migration keeps doing the same
thing whatever later code does with the defaults.
"""

from django.db import migrations


def _type(name):
    return {"field": "interaction_type", "op": "eq", "value": name}


DEFAULT_RULES = [
    # (name, kind, condition, points, per_occurrence, description)
    ("AI recommendation", "base", _type("ai_recommendation"), 60, False,
     "Asked the AI recommender about a treatment."),
    ("Face analysis", "base", _type("face_analysis"), 80, False,
     "Uploaded a face photo for analysis: high intent."),
    ("Cost calculator", "base", _type("cost_calculator"), 70, False,
     "Priced one or more treatments."),
    ("Appointment booking", "base", _type("appointment_booking"), 90, False,
     "Asked for an appointment."),
    ("Multiple procedures", "bonus", {"field": "procedure_count", "op": "gte", "value": 2}, 15, False,
     "Interested in two or more procedures."),
    ("High budget", "bonus", {"field": "budget_level", "op": "eq", "value": "high"}, 20, False,
     "Said their budget is in the high range."),
    ("Immediate urgency", "bonus", {"field": "urgency", "op": "eq", "value": "immediate"}, 25, False,
     "Wants treatment now or within weeks (a wedding next month, a holiday)."),
    ("High engagement time", "bonus", {"field": "engagement_seconds", "op": "gte", "value": 180}, 15, False,
     "Spent three minutes or more on the site."),
    ("Each further interaction", "bonus",
     {"all": [{"field": "position", "op": "gt", "value": 1},
              {"field": "interaction_type", "op": "ne", "value": "page_engagement"}]},
     5, True,
     "Every action after the first (tools and searches; plain page views do not count)."),
    ("Returning visitor", "bonus", {"field": "visit_count", "op": "gte", "value": 2}, 10, False,
     "Came back on a separate visit: patients who research over several days book more often."),
]


def install_defaults(apps, schema_editor):
    Rule = apps.get_model("scoring", "LeadScoringRule")
    Settings = apps.get_model("scoring", "ScoringSettings")
    for order, (name, kind, condition, points, per_occurrence, description) in enumerate(DEFAULT_RULES, 1):
        Rule.objects.update_or_create(
            name=name,
            defaults={
                "kind": kind,
                "condition": condition,
                "points": points,
                "per_occurrence": per_occurrence,
                "description": description,
                "order": order * 10,
                "is_active": True,
            },
        )
    Settings.objects.get_or_create(pk=1)


def remove_defaults(apps, schema_editor):
    apps.get_model("scoring", "LeadScoringRule").objects.filter(
        name__in=[rule[0] for rule in DEFAULT_RULES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("scoring", "0001_initial")]
    operations = [migrations.RunPython(install_defaults, remove_defaults)]
