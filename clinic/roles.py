"""The clinic's staff roles and what each may do: the specification the latest
`clinic/migrations/` data migration installs (with the lists copied into it, so
migrations never run live code). A test holds the database to this file: change a
role here, then add a migration with the new lists frozen in it."""

CLINIC_MANAGER = "Clinic manager"
FRONT_DESK = "Front desk"
MARKETING = "Marketing"

# The manager holds every permission of these apps, of staff accounts and of the
# clinic's profile...
MANAGER_APPS = ("interactions", "scoring", "leads", "calculators", "auth", "core")
# ...except deleting what the clinic's records promise to keep: the interaction log,
# sessions, consents, status history, notes and the audit trail are append-only,
# photos go only by erasure or the retention purge, and a person leaves only through
# the audited GDPR erasure (leads.erase_lead), never a plain delete.
APPEND_ONLY_DELETE = [
    ("interactions", "delete_usersession"), ("interactions", "delete_userinteraction"),
    ("interactions", "delete_interactionphoto"),
    ("leads", "delete_lead"), ("leads", "delete_consent"), ("leads", "delete_leadstatuschange"),
    ("leads", "delete_leadnote"), ("leads", "delete_auditevent"),
]

# (app_label, codename) per role.
FRONT_DESK_PERMISSIONS = [
    ("leads", "view_lead"), ("leads", "change_lead"), ("leads", "view_contact_details"), ("leads", "export_lead"),
    ("leads", "view_appointment"), ("leads", "add_appointment"), ("leads", "change_appointment"),
    ("leads", "view_consent"), ("leads", "view_leadstatuschange"),
    ("leads", "view_leadnote"), ("leads", "add_leadnote"),
    ("interactions", "view_usersession"), ("interactions", "view_userinteraction"),
    ("scoring", "view_leadscoringrule"), ("scoring", "view_scoringsettings"), ("scoring", "view_ruleversion"),
    ("calculators", "view_procedure"),
    # The conversion models and their figures (no patient in them).
    ("leads", "view_conversionmodel"),
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
    # A/B tests of the contact offer and form: set up, started, stopped and read.
    ("interactions", "view_experiment"), ("interactions", "add_experiment"), ("interactions", "change_experiment"),
    ("interactions", "view_experimentvariant"), ("interactions", "add_experimentvariant"),
    ("interactions", "change_experimentvariant"), ("interactions", "delete_experimentvariant"),
    # The rule versions (a record of the rules as they were).
    ("scoring", "view_ruleversion"),
    # The conversion models and their figures beside the rule score's.
    ("leads", "view_conversionmodel"),
]


def role_permissions() -> dict[str, set[tuple[str, str]]]:
    """Each role's (app_label, codename) pairs, from the permissions that exist now."""
    from django.contrib.auth.models import Permission

    every = set(Permission.objects.filter(content_type__app_label__in=MANAGER_APPS)
                .values_list("content_type__app_label", "codename"))
    return {
        CLINIC_MANAGER: every - set(APPEND_ONLY_DELETE),
        FRONT_DESK: set(FRONT_DESK_PERMISSIONS),
        MARKETING: set(MARKETING_PERMISSIONS),
    }
