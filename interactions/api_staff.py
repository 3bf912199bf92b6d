"""Staff API for the interaction log: read and filter, never write (it is a record)."""

from urllib.parse import urlsplit

import django_filters
from rest_framework import serializers, viewsets

from core.filters import IntegerFilter, IsoDateTimeFilter, StrictFilterSet
from core.permissions import CONTACT_PERMISSION
from core.redaction import person_names, redact_data, redact_value
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

    def to_representation(self, interaction):
        data = super().to_representation(interaction)
        request = self.context.get("request")
        if request is not None and not request.user.has_perm(CONTACT_PERMISSION):
            # What the patient typed can say who they are (see core/redaction.py); a
            # page's query string too, so only its path is shown, as erasure keeps it.
            names = person_names(interaction.lead) if interaction.lead_id else ()
            data["data"] = redact_data(data["data"], names=names)
            data["score_reasons"] = redact_value(data["score_reasons"], names=names)
            data["page_url"] = urlsplit(data["page_url"] or "").path
        return data



class InteractionFilter(StrictFilterSet):
    created_after = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    source = django_filters.CharFilter(field_name="session__utm_source")
    session = django_filters.UUIDFilter(field_name="session__public_id")
    # A number, not a choice of leads: the browsable API would render the choice as a
    # <select> naming every lead, to marketing too.
    lead = IntegerFilter(field_name="lead_id")

    class Meta:
        model = UserInteraction
        fields = ["interaction_type", "converted", "lead"]


class InteractionViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = UserInteraction.objects.select_related("session", "lead").order_by("-created_at", "-pk")
    serializer_class = InteractionSerializer
    filterset_class = InteractionFilter
