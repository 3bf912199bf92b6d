"""An explicit enquiry (the contact form, a detailed-quote request) is high intent on its
own: a patient who writes to the clinic directly scored 0 / low before. Its base is 70,
the default high threshold: high by itself, but below a booking (a date chosen, 90), so
what the patient did before (their tools, urgency, budget) still sets leads apart.
Copied here, not imported, so the migration does the same thing whatever later code does."""

from django.db import migrations

RULE = {
    "name": "Explicit enquiry",
    "kind": "base",
    "condition": {"field": "interaction_type", "op": "eq", "value": "contact_form"},
    "points": 70,
    "per_occurrence": False,
    "description": "Wrote to the clinic (the contact form, a detailed quote): high intent on its own, "
                   "below a booking, which names a date.",
    "order": 45,
    "is_active": True,
}


def forwards(apps, schema_editor):
    Rule = apps.get_model("scoring", "LeadScoringRule")
    Rule.objects.get_or_create(name=RULE["name"], defaults={k: v for k, v in RULE.items() if k != "name"})


def backwards(apps, schema_editor):
    apps.get_model("scoring", "LeadScoringRule").objects.filter(name=RULE["name"], condition=RULE["condition"]).delete()


class Migration(migrations.Migration):
    dependencies = [("scoring", "0004_further_interaction_counts_tools")]
    operations = [migrations.RunPython(forwards, backwards)]
