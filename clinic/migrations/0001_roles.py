"""The staff roles as auth groups (clinic/roles.py says what each may do)."""

from django.db import migrations


def apply_roles(apps, schema_editor):
    from clinic.roles import roles_apply

    roles_apply(apps)


def remove_roles(apps, schema_editor):
    from clinic.roles import CLINIC_MANAGER, FRONT_DESK, MARKETING

    apps.get_model("auth", "Group").objects.filter(name__in=[CLINIC_MANAGER, FRONT_DESK, MARKETING]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("leads", "0005_lead_notes"),
        ("interactions", "0003_external_id_and_score_adjustment"),
        ("scoring", "0002_default_rules"),
        ("calculators", "0002_default_catalog"),
    ]
    operations = [migrations.RunPython(apply_roles, remove_roles)]
