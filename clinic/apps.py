from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ClinicAdminConfig(admin_apps.AdminConfig):
    """The admin, with the clinic's own site (dashboard pages) as admin.site."""

    default = False
    default_site = "clinic.admin.ClinicAdminSite"


class ClinicConfig(AppConfig):
    default = True
    name = "clinic"
    verbose_name = "Clinic"
