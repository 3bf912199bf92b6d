"""POST /api/v1/track/: page engagement and search events from the clinic's own pages
(static/js/track.js), tied to the visitor's cookie; the answer says whether to
offer the contact form now."""

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
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
from core.parsers import JSONParser
from core.ratelimits import TRACKING, limit_posts
from core.schema import NOT_BLANK
from interactions.cookie_consent import tracking_allowed
from interactions.models import InteractionType
from interactions.middleware import finds_its_visitor
from interactions.services import session_start_for
from interactions.tracker import track_visitor_event

# One page view rarely lasts longer; larger numbers are tabs left open.
MAX_ENGAGEMENT_SECONDS = 30 * 60


class BrowserCsrf(BasePermission):
    """Anonymous visitors post here from our pages, so DRF's session authentication
    (which checks CSRF only for logged-in users) is not enough: check it always. The
    token comes as the X-CSRFToken header, or as csrfmiddlewaretoken in a beacon's body."""

    def has_permission(self, request, view) -> bool:
        if not hasattr(view, request.method.lower()):
            return True  # the view answers 405 for a method it does not have
        check = CSRFCheck(lambda _request: None)
        check.process_request(request)
        reason = check.process_view(request, None, (), {})
        if reason:
            raise PermissionDenied(f"CSRF check failed: {reason}")
        return True


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


# Outside DRF's wrapper, so an over-the-limit post gets the 429 from the middleware.
@method_decorator(limit_posts(TRACKING), name="dispatch")
@finds_its_visitor
class TrackView(APIView):
    authentication_classes = []
    permission_classes = [BrowserCsrf]
    parser_classes = [JSONParser, FormParser]

    @extend_schema(request=TrackSerializer, responses={201: TrackResponseSerializer}, auth=[])
    def post(self, request):
        if not tracking_allowed(request):
            raise PermissionDenied("Tracking is off until the visitor accepts cookies.")
        event = TRACK_EVENT.run_validation(request.data)
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
        request.user_session = tracked.session  # a new visitor's cookie goes with the answer
        return Response(
            {
                "interaction": tracked.interaction.pk,
                "score": tracked.session.score,
                "engagement_level": tracked.session.engagement_level,
                "show_contact_prompt": tracked.show_contact_prompt,
            },
            status=status.HTTP_201_CREATED,
        )
