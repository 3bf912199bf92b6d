"""Staff API for the scoring rules, validated by the model itself (full_clean), as
the admin's form is: one set of rules for both."""

import copy

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers, viewsets

from core.permissions import CONTACT_PERMISSION
from scoring.models import LeadScoringRule
from scoring.privacy import condition_check_privacy


class RuleSerializer(serializers.ModelSerializer):
    condition_in_words = serializers.CharField(read_only=True)

    class Meta:
        model = LeadScoringRule
        fields = ["id", "name", "description", "kind", "condition", "condition_in_words", "points",
                  "per_occurrence", "is_active", "order", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, data):
        # A copy: a refused PATCH must leave the rule being edited untouched.
        candidate = copy.copy(self.instance) if self.instance is not None else LeadScoringRule()
        for name, value in data.items():
            setattr(candidate, name, value)
        try:
            candidate.full_clean()
        except DjangoValidationError as error:
            raise serializers.ValidationError(serializers.as_serializer_error(error)) from error
        request = self.context.get("request")
        if "condition" in data and request is not None and not request.user.has_perm(CONTACT_PERMISSION):
            condition_check_privacy(data["condition"])
        return data


class RuleViewSet(viewsets.ModelViewSet):
    queryset = LeadScoringRule.objects.all()
    serializer_class = RuleSerializer
