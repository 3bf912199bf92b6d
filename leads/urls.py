from django.urls import path

from leads import views

app_name = "leads"
urlpatterns = [
    path("contact/", views.contact, name="contact"),
    path("contact/dismiss/", views.dismiss, name="dismiss"),
    path("contact/thanks/", views.thanks, name="thanks"),
]
