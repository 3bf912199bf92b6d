from django.urls import path

from calculators import views

app_name = "calculators"
urlpatterns = [
    path("enhanced-ai/", views.recommend, name="recommend"),
    path("enhanced-ai/result/<int:pk>/", views.recommend_result, name="recommend_result"),
    path("enhanced-face/", views.face, name="face"),
    path("enhanced-face/result/<int:pk>/", views.face_result, name="face_result"),
    path("enhanced-cost/", views.cost, name="cost"),
    path("enhanced-cost/result/<int:pk>/", views.cost_result, name="cost_result"),
    path("book/", views.book, name="book"),
    path("book/confirmed/<int:pk>/", views.book_confirmed, name="book_confirmed"),
    path("treatments/", views.treatments, name="treatments"),
    path("treatments/<slug:slug>/", views.treatment, name="treatment"),
]
