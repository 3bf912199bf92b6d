"""Root URLs: the public site and its tools, the contact form, the admin back office."""

from django.contrib import admin
from django.urls import include, path

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from clinic import views
from interactions.api import TrackView

api_v1 = [
    path("track/", TrackView.as_view(), name="api-track"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("calculators.urls")),
    path("", include("leads.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
