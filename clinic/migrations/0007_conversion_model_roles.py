"""Every role reads the conversion models (leads.ConversionModel: each training's
figures beside the rule score's; it has only a view permission); the clinic manager
holds it already."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# The roles as they were when this migration was written: copied, never imported,
# so the migration does the same thing on any database, whatever clinic/roles.py says later.
CLINIC_MANAGER = "Clinic manager"
FRONT_DESK = "Front desk"
MARKETING = "Marketing"
MANAGER_APPS = ("interactions", "scoring", "leads", "calculators", "auth", "core")
FRONT_DESK_PERMISSIONS = [
    ("leads", "view_lead"), ("leads", "change_lead"), ("leads", "view_contact_details"), ("leads", "export_lead"),
    ("leads", "view_appointment"), ("leads", "add_appointment"), ("leads", "change_appointment"),
    ("leads", "view_consent"), ("leads", "view_leadstatuschange"),
    ("leads", "view_leadnote"), ("leads", "add_leadnote"),
    ("interactions", "view_usersession"), ("interactions", "view_userinteraction"),
    ("scoring", "view_leadscoringrule"), ("scoring", "view_scoringsettings"), ("scoring", "view_ruleversion"),
    ("calculators", "view_procedure"),
    ("leads", "view_conversionmodel"),
]
PREVIOUS_FRONT_DESK_PERMISSIONS = FRONT_DESK_PERMISSIONS[:-1]
MARKETING_PERMISSIONS = [
    ("leads", "view_lead"),
    ("leads", "view_campaigncost"), ("leads", "add_campaigncost"), ("leads", "change_campaigncost"),
    ("leads", "delete_campaigncost"),
    ("interactions", "view_usersession"), ("interactions", "view_userinteraction"),
    ("scoring", "view_leadscoringrule"), ("scoring", "add_leadscoringrule"), ("scoring", "change_leadscoringrule"),
    ("scoring", "delete_leadscoringrule"), ("scoring", "view_scoringsettings"), ("scoring", "change_scoringsettings"),
    ("calculators", "view_procedure"),
    ("interactions", "view_experiment"), ("interactions", "add_experiment"), ("interactions", "change_experiment"),
    ("interactions", "view_experimentvariant"), ("interactions", "add_experimentvariant"),
    ("interactions", "change_experimentvariant"), ("interactions", "delete_experimentvariant"),
    ("scoring", "view_ruleversion"),
    ("leads", "view_conversionmodel"),
]
PREVIOUS_MARKETING_PERMISSIONS = MARKETING_PERMISSIONS[:-1]
APPEND_ONLY_DELETE = [
    ("interactions", "delete_usersession"), ("interactions", "delete_userinteraction"),
    ("interactions", "delete_interactionphoto"),
    ("leads", "delete_lead"), ("leads", "delete_consent"), ("leads", "delete_leadstatuschange"),
    ("leads", "delete_leadnote"), ("leads", "delete_auditevent"),
]

def set_roles(apps, front_desk_permissions, marketing_permissions):
    """Give each group exactly its permissions (created first: Django normally makes
    them only after all migrations have run)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for config in apps.get_app_configs():
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)
    by_key = {(p.content_type.app_label, p.codename): p for p in Permission.objects.select_related("content_type")}
    manager = [perm for key, perm in by_key.items() if key[0] in MANAGER_APPS and key not in set(APPEND_ONLY_DELETE)]
    for name, permissions in ((CLINIC_MANAGER, manager), (FRONT_DESK, [by_key[key] for key in front_desk_permissions]),
                              (MARKETING, [by_key[key] for key in marketing_permissions])):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions)


def apply_roles(apps, schema_editor):
    set_roles(apps, FRONT_DESK_PERMISSIONS, MARKETING_PERMISSIONS)


def restore_roles(apps, schema_editor):
    set_roles(apps, PREVIOUS_FRONT_DESK_PERMISSIONS, PREVIOUS_MARKETING_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0006_rule_version_roles"),
        ("leads", "0016_conversion_model"),
    ]
    operations = [migrations.RunPython(apply_roles, restore_roles)]
