"""Roles again, after the models added since 0001 (rescore runs, the audit trail):
the clinic manager holds every permission of the clinic's apps."""

from django.db import migrations


def apply_roles(apps, schema_editor):
    from clinic.roles import roles_apply

    roles_apply(apps)


class Migration(migrations.Migration):
    dependencies = [("clinic", "0001_roles"), ("leads", "0007_gdpr_erasure_and_audit")]
    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]
