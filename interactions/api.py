"""POST /api/v1/track/: page engagement and search events from the clinic's own pages
(static/js/track.js), tied to the visitor's cookie; the answer says whether to
offer the contact form now."""

import json

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.decorators import method_decorator
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import CSRFCheck
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import StrictFieldsMixin
from core.page_context import page_context_read
from core.parsers import JSONParser, json_loads
from core.ratelimits import TRACKING, limit_posts
from core.schema import NOT_BLANK
from interactions.cookie_consent import tracking_allowed
from interactions.models import InteractionType
from interactions.middleware import finds_its_visitor
from interactions.services import session_start_for
from interactions.tracker import Tracked, track_visitor_event

# One page view rarely lasts longer; larger numbers are tabs left open.
MAX_ENGAGEMENT_SECONDS = 30 * 60


class BrowserCsrf(BasePermission):
    """Anonymous visitors post here from our pages, so DRF's session authentication
    (which checks CSRF only for logged-in users) is not enough: check it always. The
    token comes as the X-CSRFToken header, or as csrfmiddlewaretoken in a beacon's body."""

    def has_permission(self, request, view) -> bool:
        if not hasattr(view, request.method.lower()):
            return True  # the view answers 405 for a method it does not have
        reason = csrf_failure(request)
        if reason:
            raise PermissionDenied(f"CSRF check failed: {reason}")
        return True


def csrf_failure(request) -> str | None:
    """Why Django's CSRF check refuses this request, or None if it passes."""
    check = CSRFCheck(lambda _request: None)
    check.process_request(request)
    return check.process_view(request, None, (), {})


class TrackSerializer(StrictFieldsMixin, serializers.Serializer):
    event = serializers.ChoiceField(choices=[InteractionType.PAGE_ENGAGEMENT, InteractionType.SEARCH])
    page_url = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    engagement_seconds = serializers.IntegerField(
        min_value=0, max_value=MAX_ENGAGEMENT_SECONDS, required=False, default=0
    )
    scroll_depth = serializers.IntegerField(min_value=0, max_value=100, required=False)
    query = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    context = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, default="",
        help_text="The signed page context a treatment page carries (its procedure and category), sent back as is; "
        "one this site did not sign is ignored.",
    )
    leaving = serializers.BooleanField(
        required=False, default=False,
        help_text="Sent as the page is left (a beacon): nobody will see an offer, so none is made or counted.",
    )

    def validate(self, data):
        if data["event"] == InteractionType.SEARCH and not data["query"].strip():
            raise serializers.ValidationError({"query": "A search event needs the words searched for."})
        return data

    def validate_context(self, value: str) -> dict:
        return _context_of(value)


def _context_of(value: str) -> dict:
    # A context the site did not sign (or one from a tab left open for over a week)
    # is dropped: the event is still stored, only without the treatment it names.
    if not value:
        return {}
    try:
        return page_context_read(value)
    except DjangoValidationError:
        return {}


class TrackSerializerSchema(OpenApiSerializerExtension):
    """The schema states the rule across two fields: a search carries the words searched for."""

    target_class = TrackSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema["anyOf"] = [
            # The enum wrapped in anyOf, so drf-spectacular's enum hook leaves it here.
            {"properties": {"event": {"anyOf": [{"type": "string", "enum": [InteractionType.PAGE_ENGAGEMENT.value]}]}}},
            {"properties": {"query": {"type": "string", "pattern": NOT_BLANK}}, "required": ["query"]},
        ]
        return schema


class TrackResponseSerializer(serializers.Serializer):
    interaction = serializers.IntegerField()
    score = serializers.IntegerField()
    engagement_level = serializers.CharField()
    show_contact_prompt = serializers.BooleanField()


# One serializer for every request: a new one per request deep-copies its fields,
# about 0.4 ms, more than the rest of the validation. run_validation keeps no state
# on the instance (is_valid would), and gives the same errors.
TRACK_EVENT = TrackSerializer()


def _tracked(request: HttpRequest, event: dict) -> Tracked:
    """Store and score a validated event for the visitor whose cookie `request` (the
    Django request) carries; a visitor without one is started, and the middleware
    sends them their cookie with the answer."""
    data = {"query": event["query"].strip()} if event["event"] == InteractionType.SEARCH else {}
    if "scroll_depth" in event:
        data["scroll_depth"] = event["scroll_depth"]
    data.update(event.get("context") or {})
    tracked = track_visitor_event(
        cookie=request.COOKIES.get(settings.VISITOR_COOKIE_NAME, ""),
        start=lambda: session_start_for(request),
        interaction_type=event["event"],
        data=data,
        page_url=event["page_url"],
        engagement_seconds=event["engagement_seconds"],
        # A beacon sent as the page is left: nobody will see an offer.
        prompt_page=None if event["leaving"] else event["page_url"],
    )
    request.user_session = tracked.session
    return tracked


def _answer(tracked: Tracked) -> dict:
    return {
        "interaction": tracked.interaction.pk,
        "score": tracked.session.score,
        "engagement_level": tracked.session.engagement_level,
        "show_contact_prompt": tracked.show_contact_prompt,
    }


# The requests static/js/track.js sends: its fetch (JSON) and its beacon (a form).
PLAIN_BODIES = ("application/json", "application/x-www-form-urlencoded")


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")  # as DRF's strict parser: NaN and Infinity are refused


def _plain_body(request: HttpRequest):
    """The body of a request track.js sends, parsed as DRF would; None for any other
    (another content type or accepted answer, a format override, a malformed body)."""
    meta = request.META
    if meta.get("QUERY_STRING") or meta.get("HTTP_ACCEPT", "*/*") not in ("*/*", "application/json"):
        return None
    if request.content_type not in PLAIN_BODIES:
        return None
    if request.content_type == "application/x-www-form-urlencoded":
        return request.POST
    try:
        return json_loads(request.body.decode(request.encoding or settings.DEFAULT_CHARSET),
                          parse_constant=_refuse_constant)
    except ValueError:
        return None


# TrackSerializer's text fields and their max_length.
PLAIN_TEXT = {"page_url": 500, "query": 200, "context": 1000}
PLAIN_NUMBERS = {"engagement_seconds": (0, MAX_ENGAGEMENT_SECONDS), "scroll_depth": (0, 100)}
PLAIN_EVENTS = frozenset({InteractionType.PAGE_ENGAGEMENT.value, InteractionType.SEARCH.value})


def _plain_text(value) -> bool:
    # What DRF's CharField keeps as it is: no whitespace to trim, no NUL or surrogates.
    return type(value) is str and value.isprintable() and value == value.strip()


def event_plainly(body) -> dict | None:
    """TrackSerializer's validated event for a JSON body every field of which is plainly
    valid, in a tenth of the serializer's time; None for anything else, which the
    serializer then judges and words (tests/interactions/test_api.py checks, on
    random bodies, that this never accepts what the serializer would not, nor gives
    another event)."""
    if type(body) is not dict or type(body.get("event")) is not str or body["event"] not in PLAIN_EVENTS:
        return None
    event = {"event": body["event"], "page_url": "", "engagement_seconds": 0, "query": "", "context": "",
             "leaving": False}
    for name, value in body.items():
        if name in PLAIN_TEXT:
            if not _plain_text(value) or len(value) > PLAIN_TEXT[name]:
                return None
        elif name in PLAIN_NUMBERS:
            low, high = PLAIN_NUMBERS[name]
            if type(value) is not int or not low <= value <= high:
                return None
        elif name == "leaving":
            if type(value) is not bool:
                return None
        elif name != "event":
            return None
        event[name] = value
    if event["event"] == InteractionType.SEARCH and not event["query"]:
        return None
    event["context"] = _context_of(event["context"])
    return event


# Outside DRF's wrapper, so an over-the-limit post gets the 429 from the middleware.
@method_decorator(limit_posts(TRACKING), name="dispatch")
@finds_its_visitor
class TrackView(APIView):
    """The one endpoint every page of the site calls, several times a visit: the
    request track.js sends, well formed, is answered without DRF's request wrapping,
    content negotiation and rendering (`answer_plainly`, about a fifth of the
    request's Python); anything else (an error, another content type, the browsable
    API) goes through DRF, so every answer but the plain 201 is DRF's own."""

    authentication_classes = []
    permission_classes = [BrowserCsrf]
    parser_classes = [JSONParser, FormParser]

    def dispatch(self, request, *args, **kwargs):
        answer = self.answer_plainly(request)
        return answer if answer is not None else super().dispatch(request, *args, **kwargs)

    def answer_plainly(self, request: HttpRequest) -> HttpResponse | None:
        """The 201 for a well-formed event from track.js, with DRF's body, headers and
        checks (CSRF, consent, the serializer); None when DRF must answer."""
        if request.method != "POST" or csrf_failure(request) or not tracking_allowed(request):
            return None
        body = _plain_body(request)
        if body is None:
            return None
        event = event_plainly(body)
        if event is None:
            try:
                event = TRACK_EVENT.run_validation(body)
            except serializers.ValidationError:
                return None
        response = HttpResponse(
            json.dumps(_answer(_tracked(request, event)), separators=(",", ":")),
            content_type="application/json", status=status.HTTP_201_CREATED,
        )
        response["Allow"] = ", ".join(self.allowed_methods)
        patch_vary_headers(response, ("Accept",))
        return response

    @extend_schema(request=TrackSerializer, responses={201: TrackResponseSerializer}, auth=[])
    def post(self, request):
        if not tracking_allowed(request):
            raise PermissionDenied("Tracking is off until the visitor accepts cookies.")
        event = TRACK_EVENT.run_validation(request.data)
        return Response(_answer(_tracked(request._request, event)), status=status.HTTP_201_CREATED)
