"""Root URLs: the public site, the admin back office."""

from django.contrib import admin
from django.urls import path

from clinic import views

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
]
