"""The site's URLs plus /bench/bare/, the smallest Django view: the ceiling the
tracking endpoint's throughput is compared with. Only bench.settings uses it."""

from django.http import JsonResponse
from django.urls import include, path

from clinic.urls import handler404  # noqa: F401  (the site's own 404 page)


def bare(request):
    return JsonResponse({"ok": True})


urlpatterns = [
    path("bench/bare/", bare),
    path("", include("clinic.urls")),
]
