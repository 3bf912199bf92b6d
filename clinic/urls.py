"""Root URLs: the public site and its tools, the contact form, the admin back office."""

from django.contrib import admin
from django.urls import include, path

from clinic import views

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("calculators.urls")),
    path("", include("leads.urls")),
    path("admin/", admin.site.urls),
]
