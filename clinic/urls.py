"""Root URLs: the public site and its tools, the contact form, the admin back office."""

from django.contrib import admin
from django.urls import include, path

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from rest_framework.routers import DefaultRouter

from clinic import views
from clinic.api_dashboard import DashboardView
from interactions.api import TrackView
from interactions.api_staff import InteractionViewSet
from leads.api import LeadViewSet
from scoring.api import RuleViewSet

router = DefaultRouter()
router.register("leads", LeadViewSet, basename="lead")
router.register("interactions", InteractionViewSet, basename="interaction")
router.register("scoring-rules", RuleViewSet, basename="scoring-rule")

api_v1 = [
    path("track/", TrackView.as_view(), name="api-track"),
    path("dashboard/", DashboardView.as_view(), name="api-dashboard"),
    *router.urls,
]

handler404 = "clinic.views.page_not_found"

urlpatterns = [
    # First: every page of the site posts to api/v1/track/ several times a visit, and
    # Django tries the patterns in order (behind the site's includes it cost 0.1 ms).
    path("api/v1/", include(api_v1)),
    path("", views.home, name="home"),
    path("", include("calculators.urls")),
    path("", include("leads.urls")),
    path("", include("interactions.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file (?script), not inline: CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
