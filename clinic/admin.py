"""The clinic's admin site: the back office staff work in."""

from django.conf import settings
from django.contrib import admin


class ClinicAdminSite(admin.AdminSite):
    site_header = f"{settings.CLINIC_NAME} back office"
    site_title = f"{settings.CLINIC_NAME} admin"
    index_title = "Leads, interactions and scoring"
