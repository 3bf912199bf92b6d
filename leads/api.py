"""Staff API for leads: list with filters, read, and move along the pipeline.
Same permissions as the admin; contact details only for roles that may see them."""

import django_filters
from django.contrib.auth import get_user_model
from rest_framework import mixins, serializers, viewsets

from core.api import StrictFieldsMixin
from core.filters import IntegerFilter, IsoDateTimeFilter, StrictFilterSet
from core.permissions import CONTACT_PERMISSION
from core.redaction import person_names, redact, redact_value
from leads.models import Lead, LeadStatus
from leads.services import lead_update

CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "message")
# Identifying like the contact fields (erasure clears them), so hidden with them.
IDENTIFYING_FIELDS = ("landing_page", "referrer")


class LeadSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(
        slug_field="username", allow_null=True, required=False,
        queryset=get_user_model().objects.filter(is_staff=True, is_active=True),
    )
    status = serializers.ChoiceField(choices=LeadStatus.choices, required=False)

    class Meta:
        model = Lead
        fields = [
            "id", *CONTACT_FIELDS, "lead_score", "engagement_level", "score_reasons", "source", "interaction",
            "landing_page", "referrer", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
            "status", "owner", "value", "created_at", "updated_at",
        ]
        read_only_fields = [name for name in fields if name not in ("status", "owner", "value")]

    def _sees_contacts(self) -> bool:
        request = self.context.get("request")
        return request is None or request.user.has_perm(CONTACT_PERMISSION)

    def get_fields(self):
        fields = super().get_fields()
        if not self._sees_contacts():
            for name in (*CONTACT_FIELDS, *IDENTIFYING_FIELDS):
                fields.pop(name, None)
        return fields

    def to_representation(self, lead):
        data = super().to_representation(lead)
        if not self._sees_contacts():
            # Free text: a staff adjustment's reason, a campaign term the patient typed.
            names = person_names(lead)
            data["score_reasons"] = redact_value(data["score_reasons"], names=names)
            data["utm_term"] = redact(data["utm_term"], names=names)
            data["utm_content"] = redact(data["utm_content"], names=names)
        return data

    def update(self, lead, validated_data):
        """Through the service the admin uses too: one transaction, the same rules
        (history kept, owners who work leads, no negative value)."""
        return lead_update(lead=lead, by=self.context["request"].user, **validated_data)


class LeadFilter(StrictFilterSet):
    score_min = IntegerFilter(field_name="lead_score", lookup_expr="gte")
    score_max = IntegerFilter(field_name="lead_score", lookup_expr="lte")
    created_after = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    level = django_filters.ChoiceFilter(field_name="engagement_level", choices=Lead._meta.get_field(
        "engagement_level").choices)

    class Meta:
        model = Lead
        fields = ["status", "source", "utm_source", "utm_medium", "utm_campaign"]


class LeadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                  viewsets.GenericViewSet):
    """Leads, newest first. PATCH changes status, owner (a staff username) or value."""

    queryset = Lead.objects.select_related("owner").order_by("-created_at", "-pk")
    serializer_class = LeadSerializer
    filterset_class = LeadFilter
    http_method_names = ["get", "patch", "head", "options"]
