"""The staff roles as auth groups: the clinic manager holds every permission of the
clinic's apps and of staff accounts; front desk and marketing hold the lists below."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# The roles as they were when this migration was written: copied, never imported,
# so the migration does the same thing on any database, whatever clinic/roles.py says later.
CLINIC_MANAGER = "Clinic manager"
FRONT_DESK = "Front desk"
MARKETING = "Marketing"
MANAGER_APPS = ("interactions", "scoring", "leads", "calculators", "auth")
FRONT_DESK_PERMISSIONS = [
    ("leads", "view_lead"), ("leads", "change_lead"), ("leads", "view_contact_details"), ("leads", "export_lead"),
    ("leads", "view_appointment"), ("leads", "add_appointment"), ("leads", "change_appointment"),
    ("leads", "view_consent"), ("leads", "view_leadstatuschange"),
    ("leads", "view_leadnote"), ("leads", "add_leadnote"),
    ("interactions", "view_usersession"), ("interactions", "view_userinteraction"),
    ("scoring", "view_leadscoringrule"), ("scoring", "view_scoringsettings"),
    ("calculators", "view_procedure"),
]
MARKETING_PERMISSIONS = [
    ("leads", "view_lead"),
    ("leads", "view_campaigncost"), ("leads", "add_campaigncost"), ("leads", "change_campaigncost"),
    ("leads", "delete_campaigncost"),
    ("interactions", "view_usersession"), ("interactions", "view_userinteraction"),
    ("scoring", "view_leadscoringrule"), ("scoring", "add_leadscoringrule"), ("scoring", "change_leadscoringrule"),
    ("scoring", "delete_leadscoringrule"), ("scoring", "view_scoringsettings"), ("scoring", "change_scoringsettings"),
    ("calculators", "view_procedure"),
]

def set_roles(apps, manager_excludes=()):
    """Give each group exactly its permissions (created first: Django normally makes
    them only after all migrations have run)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for config in apps.get_app_configs():
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)
    by_key = {(p.content_type.app_label, p.codename): p for p in Permission.objects.select_related("content_type")}
    manager = [perm for key, perm in by_key.items() if key[0] in MANAGER_APPS and key not in set(manager_excludes)]
    for name, permissions in ((CLINIC_MANAGER, manager), (FRONT_DESK, [by_key[key] for key in FRONT_DESK_PERMISSIONS]),
                              (MARKETING, [by_key[key] for key in MARKETING_PERMISSIONS])):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions)


def apply_roles(apps, schema_editor):
    set_roles(apps)


def remove_roles(apps, schema_editor):
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
