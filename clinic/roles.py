"""The clinic's staff roles and what each may do. Applied to auth groups by a data
migration; `roles_apply` can be run again after adding models or permissions."""

from django.contrib.auth.management import create_permissions

CLINIC_MANAGER = "Clinic manager"
FRONT_DESK = "Front desk"
MARKETING = "Marketing"

OUR_APPS = ("interactions", "scoring", "leads", "calculators")

# (app_label, codename) per role; the manager gets every permission of our apps
# and of staff accounts.
FRONT_DESK_PERMISSIONS = [
    ("leads", "view_lead"), ("leads", "change_lead"), ("leads", "view_contact_details"), ("leads", "export_lead"),
    ("leads", "view_appointment"), ("leads", "add_appointment"), ("leads", "change_appointment"),
    ("leads", "view_consent"), ("leads", "view_leadstatuschange"),
    ("leads", "view_leadnote"), ("leads", "add_leadnote"),
    ("interactions", "view_usersession"), ("interactions", "view_userinteraction"),
    ("scoring", "view_leadscoringrule"), ("scoring", "view_scoringsettings"),
    ("calculators", "view_procedure"),
]
# Marketing reads analytics and tunes scoring, but never sees who the patients are.
MARKETING_PERMISSIONS = [
    ("leads", "view_lead"),
    ("leads", "view_campaigncost"), ("leads", "add_campaigncost"), ("leads", "change_campaigncost"),
    ("leads", "delete_campaigncost"),
    ("interactions", "view_usersession"), ("interactions", "view_userinteraction"),
    ("scoring", "view_leadscoringrule"), ("scoring", "add_leadscoringrule"), ("scoring", "change_leadscoringrule"),
    ("scoring", "delete_leadscoringrule"), ("scoring", "view_scoringsettings"), ("scoring", "change_scoringsettings"),
    ("calculators", "view_procedure"),
]


def roles_apply(apps) -> None:
    """Create or update the three groups with exactly their permissions."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    # Permissions are normally created after migrations; make sure they exist now.
    for config in apps.get_app_configs():
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)

    def lookup(pairs):
        wanted = set(pairs)
        found = [
            perm for perm in Permission.objects.select_related("content_type")
            if (perm.content_type.app_label, perm.codename) in wanted
        ]
        missing = wanted - {(p.content_type.app_label, p.codename) for p in found}
        if missing:
            raise LookupError(f"Permissions not found: {sorted(missing)}")
        return found

    manager = Permission.objects.filter(content_type__app_label__in=[*OUR_APPS, "auth"])
    for name, permissions in (
        (CLINIC_MANAGER, list(manager)),
        (FRONT_DESK, lookup(FRONT_DESK_PERMISSIONS)),
        (MARKETING, lookup(MARKETING_PERMISSIONS)),
    ):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions)
