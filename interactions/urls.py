from django.urls import path

from interactions import views

app_name = "interactions"
urlpatterns = [
    path("privacy/cookies/", views.cookie_consent, name="cookie_consent"),
]
