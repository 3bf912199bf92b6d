"""The clinic's profile row, so the admin always has one to edit. Its name, currency and
country come from CLINIC_NAME, CLINIC_CURRENCY and CLINIC_PHONE_REGION (environment);
the rest from the model's defaults at the time of this migration."""

from django.conf import settings
from django.db import migrations


def create_profile(apps, schema_editor):
    ClinicProfile = apps.get_model("core", "ClinicProfile")
    ClinicProfile.objects.get_or_create(pk=1, defaults={
        "name": getattr(settings, "CLINIC_NAME", "Lumière Aesthetics"),
        "currency": getattr(settings, "CLINIC_CURRENCY", "GBP"),
        "country": getattr(settings, "CLINIC_PHONE_REGION", "GB"),
    })


class Migration(migrations.Migration):
    dependencies = [("core", "0001_clinic_profile")]
    operations = [migrations.RunPython(create_profile, migrations.RunPython.noop)]
