"""Staff API for the interaction log: read and filter, never write (it is a record)."""

import django_filters
from rest_framework import serializers, viewsets

from core.filters import IntegerFilter, IsoDateTimeFilter, StrictFilterSet
from interactions.models import UserInteraction


class InteractionSerializer(serializers.ModelSerializer):
    session = serializers.UUIDField(source="session.public_id", read_only=True)

    class Meta:
        model = UserInteraction
        fields = [
            "id", "session", "lead", "interaction_type", "data", "page_url", "engagement_seconds",
            "score", "score_reasons", "converted", "created_at",
        ]
        read_only_fields = fields


class InteractionFilter(StrictFilterSet):
    created_after = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    source = django_filters.CharFilter(field_name="session__utm_source")
    session = django_filters.UUIDFilter(field_name="session__public_id")
    lead = IntegerFilter(field_name="lead")

    class Meta:
        model = UserInteraction
        fields = ["interaction_type", "converted", "lead"]


class InteractionViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = UserInteraction.objects.select_related("session").order_by("-created_at", "-pk")
    serializer_class = InteractionSerializer
    filterset_class = InteractionFilter
