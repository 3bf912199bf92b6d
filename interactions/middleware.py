"""Give every visitor an anonymous UserSession, kept in a cookie (in strict consent
mode, only once they have accepted tracking)."""

from django.conf import settings

from interactions.cookie_consent import tracking_allowed
from interactions.services import session_from_cookie, session_start_for, session_touch

# Requests that are not a patient looking at the clinic's pages.
UNTRACKED_PREFIXES = ("/admin/", "/static/", "/media/", "/favicon.ico", "/robots.txt", "/api/schema")


def finds_its_visitor(view):
    """Mark a view (a class or a function) that reads the visitor's session itself (the
    tracking endpoint, which locks it as it reads it), or needs none: the middleware
    leaves request.user_session to it."""
    view.finds_its_visitor = True
    return view


class UserSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.user_session = None
        response = self.get_response(request)
        # A session started (here, by the view, or by interactions.services.visitor_session)
        # or given a new key (on giving contact details) during this request carries its cookie.
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

    def process_view(self, request, view_func, view_args, view_kwargs):
        # Once the address is resolved: a page that does not exist starts no visitor.
        view = getattr(view_func, "view_class", view_func)
        if request.path.startswith(UNTRACKED_PREFIXES) or getattr(view, "finds_its_visitor", False):
            return None
        session = session_from_cookie(request.COOKIES.get(settings.VISITOR_COOKIE_NAME, ""))
        allowed = tracking_allowed(request)
        if session is not None:
            if allowed:
                session_touch(session=session)
        elif allowed:
            session = session_start_for(request)
        request.user_session = session
        return None
