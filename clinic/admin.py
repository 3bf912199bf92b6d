"""The clinic's admin site: the back office staff work in, with its own pages
(dashboard) added through get_urls."""

from functools import partial

from django.contrib import admin
from django.shortcuts import redirect
from django.urls import path, reverse

from clinic.cohorts import cohorts_view
from clinic.dashboard import dashboard_view
from core.clinic import clinic_profile
from clinic.lead_scoring import lead_scoring_view, rule_preview_view


def interactions_redirect(request):
    """The report's address for the interaction log: the log's admin list, with its
    filters (and the query string given here)."""
    url = reverse("admin:interactions_userinteraction_changelist")
    query = request.GET.urlencode()
    return redirect(f"{url}?{query}" if query else url)


class ClinicAdminSite(admin.AdminSite):
    @property
    def site_header(self) -> str:
        return f"{clinic_profile().name} back office"

    @property
    def site_title(self) -> str:
        return f"{clinic_profile().name} admin"

    index_title = "Leads, interactions and scoring"
    index_template = "admin/clinic_index.html"

    def get_urls(self):
        extra = [
            path(
                "comprehensive/interactions/",
                self.admin_view(interactions_redirect),
                name="comprehensive_interactions",
            ),
            path(
                "comprehensive/lead-scoring/",
                self.admin_view(partial(lead_scoring_view, admin_site=self)),
                name="comprehensive_lead_scoring",
            ),
            path(
                "comprehensive/lead-scoring/preview/",
                self.admin_view(partial(rule_preview_view, admin_site=self)),
                name="comprehensive_rule_preview_new",
            ),
            path(
                "comprehensive/lead-scoring/preview/<int:object_id>/",
                self.admin_view(partial(rule_preview_view, admin_site=self)),
                name="comprehensive_rule_preview",
            ),
            path(
                "comprehensive/dashboard/",
                self.admin_view(partial(dashboard_view, admin_site=self)),
                name="comprehensive_dashboard",
            ),
            path(
                "comprehensive/cohorts/",
                self.admin_view(partial(cohorts_view, admin_site=self)),
                name="comprehensive_cohorts",
            ),
        ]
        return extra + super().get_urls()
