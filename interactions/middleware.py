"""Give every visitor an anonymous UserSession, kept in a cookie (in strict consent
mode, only once they have accepted tracking)."""

from django.conf import settings

from interactions.cookie_consent import tracking_allowed
from interactions.services import (
    UTM_FIELDS,
    client_ip,
    external_referrer,
    session_from_cookie,
    session_start,
    session_touch,
)

# Requests that are not a patient looking at the clinic's pages.
UNTRACKED_PREFIXES = ("/admin/", "/static/", "/media/", "/favicon.ico", "/robots.txt", "/api/schema")


class UserSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.user_session = None
        if request.path.startswith(UNTRACKED_PREFIXES):
            return self.get_response(request)

        session = session_from_cookie(request.COOKIES.get(settings.VISITOR_COOKIE_NAME, ""))
        allowed = tracking_allowed(request)
        if session is not None:
            if allowed:
                session_touch(session=session)
        elif allowed:
            session = session_start(
                landing_page=request.get_full_path(),
                referrer=external_referrer(request.META.get("HTTP_REFERER", ""), request.get_host()),
                utm={name: request.GET.get(name, "") for name in UTM_FIELDS},
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
                ip=client_ip(request),
            )
        request.user_session = session

        response = self.get_response(request)
        # A session started (here or by interactions.services.visitor_session) or given
        # a new key (on giving contact details) during this request carries its cookie.
        issued = getattr(request.user_session, "issued_cookie", None)
        if issued:
            response.set_cookie(
                settings.VISITOR_COOKIE_NAME,
                issued,
                max_age=settings.VISITOR_COOKIE_AGE_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=settings.VISITOR_COOKIE_SECURE,
            )
        return response
