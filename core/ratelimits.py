"""Rate limits on public posts: who the client is, how often it may post, and the 429 page.

Views take `@limit_posts(FORMS)` (or `UPLOADS`, `TRACKING`); the limits themselves are
`settings.CLINIC_RATE_LIMITS`, read at each request, so they can change without a
code change. Over a limit the view raises django-ratelimit's `Ratelimited`, which
`RatelimitMiddleware` hands to `too_many_requests` (settings.RATELIMIT_VIEW).
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django_ratelimit.decorators import ratelimit


FORMS = "forms"
UPLOADS = "uploads"
TRACKING = "tracking"

# Fixed windows of a minute: "please wait a minute" is then true.
RETRY_AFTER_SECONDS = 60
TOO_MANY = "Too many attempts; please wait a minute and try again."


def _rate(group: str, request: HttpRequest) -> str | None:
    # An upload limit only counts posts that carry a file: the treatment finder
    # takes plain words too, and those are ordinary form posts.
    if group == UPLOADS and not request.FILES:
        return None
    return settings.CLINIC_RATE_LIMITS[group]


def limit_posts(kind: str = FORMS):
    """Limit POSTs to the decorated view to `settings.CLINIC_RATE_LIMITS[kind]` per client IP.

    Every view decorated with the same kind shares one count per address (twenty
    form posts a minute in all, not twenty per form). Stack two to apply both:

        @limit_posts(FORMS)
        @limit_posts(UPLOADS)
        def face(request): ...

    For a Django REST framework view put it outside DRF's wrapper, so that the
    429 comes from the middleware rather than DRF's 403 for PermissionDenied:

        @limit_posts(TRACKING)
        @api_view(["POST"])
        def track(request): ...

    or `@method_decorator(limit_posts(TRACKING), name="dispatch")` on an APIView.
    """
    if kind not in settings.CLINIC_RATE_LIMITS:
        raise ValueError(f"Unknown rate limit {kind!r}: add it to CLINIC_RATE_LIMITS.")
    limit = ratelimit(group=kind, key="ip", rate=_rate, method="POST", block=True)

    def decorate(view):
        limited = limit(view)
        # Read by the API schema (core/schema.py), which documents the 429 of limited views.
        limited.rate_limit = kind
        return limited

    return decorate


def too_many_requests(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The answer over a limit: 429, the friendly page, or JSON for scripts."""
    if request.content_type == "application/json" or not request.accepts("text/html"):
        response = JsonResponse({"detail": TOO_MANY, "errors": {}}, status=429)
    else:
        response = render(request, "429.html", {"message": TOO_MANY}, status=429)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
