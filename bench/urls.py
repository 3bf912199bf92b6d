"""The site's URLs plus /bench/bare/, the smallest Django view: the ceiling the
tracking endpoint's throughput is compared with (as issue 11 measured it: a small
JSON body, the same gunicorn settings). It passes the site's middleware, but the
visitor middleware does not look its visitor up. Only bench.settings uses it."""

from django.http import JsonResponse
from django.urls import include, path

from clinic.urls import handler404  # noqa: F401  (the site's own 404 page)
from interactions.middleware import finds_its_visitor


@finds_its_visitor
def bare(request):
    return JsonResponse({"ok": True})


urlpatterns = [
    path("bench/bare/", bare),
    path("", include("clinic.urls")),
]
