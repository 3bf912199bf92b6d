"""Response headers and error pages every page gets, whatever app serves it."""

import ipaddress

from django.conf import settings
from django.core.exceptions import BadRequest, MiddlewareNotUsed, SuspiciousOperation
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.http import Http404
from django.urls import Resolver404, get_resolver, resolve
from django.utils.module_loading import import_string
from django.views import defaults
from django.views.debug import ExceptionReporter


def is_loopback(request) -> bool:
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


class PublicErrorReporter(ExceptionReporter):
    """Stands in for Django's technical error page (settings, environment, paths) with
    the site's own 400 or 500 page. The error is still logged in full."""

    def _page(self) -> str:
        if self.exc_type is not None and issubclass(self.exc_type, (SuspiciousOperation, BadRequest)):
            return defaults.bad_request(self.request, self.exc_value).content.decode()
        return defaults.server_error(self.request).content.decode()

    def get_traceback_html(self) -> str:
        return self._page()

    def get_traceback_text(self) -> str:
        return "Sorry, something went wrong."


class DebugPagesOnlyForLoopbackMiddleware:
    """With DEBUG on (`make run`), Django's error pages show the environment, the
    settings, file paths and every URL of the site. Only a client on this machine
    sees them; anyone else (HOST=0.0.0.0, a shared network) gets the normal error
    pages. First in MIDDLEWARE, so it covers errors raised by any other middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not settings.DEBUG or is_loopback(request):
            return self.get_response(request)
        request.exception_reporter_class = PublicErrorReporter
        response = self.get_response(request)
        if response.status_code == 404 and not self._resolves(request):
            # A path no URL pattern matches: DEBUG answers with the list of every
            # pattern instead of the 404 view.
            return self._not_found(request, Resolver404({"path": request.path_info}))
        return response

    def process_exception(self, request, exception):
        if settings.DEBUG and not is_loopback(request) and isinstance(exception, Http404):
            return self._not_found(request, exception)
        return None

    @staticmethod
    def _resolves(request) -> bool:
        try:
            resolve(request.path_info, getattr(request, "urlconf", None))
        except Resolver404:
            return False
        return True

    @staticmethod
    def _not_found(request, exception):
        view = get_resolver(getattr(request, "urlconf", None)).resolve_error_handler(404)
        response = view(request, exception)
        if hasattr(response, "render"):
            response = response.render()
        return response


class PermissionsPolicyMiddleware:
    """Adds settings.PERMISSIONS_POLICY as the Permissions-Policy header of every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = getattr(settings, "PERMISSIONS_POLICY", "")
        if policy:
            response.headers.setdefault("Permissions-Policy", policy)
        return response


class ShortStackMiddleware:
    """Sends the requests for settings.SHORT_STACK_PATHS through settings.MIDDLEWARE
    without settings.SHORT_STACK_SKIPS: the tracking endpoint, posted to several times
    a page view, needs the security headers, the CSRF check, the visitor's cookie and
    the rate limit, but not the staff's sessions, login, messages and lockouts, nor
    static files. First in MIDDLEWARE; every other request goes on down the whole
    stack. The shorter stack is Django's own request handling (`BaseHandler`): the
    view middleware, exception middleware and error responses work as they do there."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.paths = frozenset(settings.SHORT_STACK_PATHS)
        if not self.paths:
            raise MiddlewareNotUsed
        skipped = {*settings.SHORT_STACK_SKIPS, f"{__name__}.{type(self).__name__}"}
        self.stack = _Stack([path for path in settings.MIDDLEWARE if path not in skipped])

    def __call__(self, request):
        if request.path_info in self.paths:
            return self.stack.respond(request)
        return self.get_response(request)


class _Stack(BaseHandler):
    """Django's request handling through these middleware (synchronous, as this site
    is served: gunicorn and runserver)."""

    def __init__(self, middleware: list[str]):
        self.middleware = middleware
        self.load_middleware()

    def load_middleware(self, is_async=False):
        # BaseHandler.load_middleware, for a list other than settings.MIDDLEWARE.
        self._view_middleware, self._template_response_middleware, self._exception_middleware = [], [], []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(self.middleware):
            try:
                instance = import_string(path)(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(instance, "process_view"):
                self._view_middleware.insert(0, instance.process_view)
            if hasattr(instance, "process_template_response"):
                self._template_response_middleware.append(instance.process_template_response)
            if hasattr(instance, "process_exception"):
                self._exception_middleware.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler

    def respond(self, request):
        return self._middleware_chain(request)
