"""Give every visitor an anonymous UserSession, kept in a cookie (in strict consent
mode, only once they have accepted tracking)."""

import uuid

from django.conf import settings

from interactions.consent import tracking_allowed
from interactions.models import UserSession
from interactions.services import UTM_FIELDS, client_ip, external_referrer, session_start, session_touch

# Requests that are not a patient looking at the clinic's pages.
UNTRACKED_PREFIXES = ("/admin/", "/static/", "/media/", "/favicon.ico", "/robots.txt", "/api/schema")


class UserSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.user_session = None
        if request.path.startswith(UNTRACKED_PREFIXES):
            return self.get_response(request)

        session = self._known_session(request)
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
        # The view may have made the session (interactions.services.visitor_session).
        session = request.user_session
        if session is not None and request.COOKIES.get(settings.VISITOR_COOKIE_NAME) != str(session.public_id):
            response.set_cookie(
                settings.VISITOR_COOKIE_NAME,
                str(session.public_id),
                max_age=settings.VISITOR_COOKIE_AGE_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=settings.VISITOR_COOKIE_SECURE,
            )
        return response

    @staticmethod
    def _known_session(request) -> UserSession | None:
        raw = request.COOKIES.get(settings.VISITOR_COOKIE_NAME, "")
        try:
            public_id = uuid.UUID(raw)
        except ValueError:
            return None
        return UserSession.objects.filter(public_id=public_id).first()
