"""Staff API for the scoring rules, with the same validation as the admin form."""

from rest_framework import serializers, viewsets

from core.permissions import CONTACT_PERMISSION
from scoring import engine
from scoring.models import TOO_MANY_ACTIVE, LeadScoringRule
from scoring.privacy import condition_check_privacy


class RuleSerializer(serializers.ModelSerializer):
    condition_in_words = serializers.CharField(read_only=True)

    class Meta:
        model = LeadScoringRule
        fields = ["id", "name", "description", "kind", "condition", "condition_in_words", "points",
                  "per_occurrence", "is_active", "order", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, data):
        current = self.instance
        candidate = engine.Rule(
            name=data.get("name", getattr(current, "name", "")),
            kind=data.get("kind", getattr(current, "kind", engine.BONUS)),
            condition=data.get("condition", getattr(current, "condition", None)),
            points=data.get("points", getattr(current, "points", 0)),
            per_occurrence=data.get("per_occurrence", getattr(current, "per_occurrence", False)),
        )
        try:
            engine.validate_rule(candidate)
        except engine.ConditionError as error:
            field = "per_occurrence" if candidate.kind == engine.BASE and candidate.per_occurrence else "condition"
            raise serializers.ValidationError({field: str(error)}) from error
        request = self.context.get("request")
        if "condition" in data and request is not None and not request.user.has_perm(CONTACT_PERMISSION):
            condition_check_privacy(data["condition"])
        rule = current or LeadScoringRule()
        if data.get("is_active", getattr(current, "is_active", True)) and rule.too_many_active():
            raise serializers.ValidationError({"is_active": TOO_MANY_ACTIVE})
        return data


class RuleViewSet(viewsets.ModelViewSet):
    queryset = LeadScoringRule.objects.all()
    serializer_class = RuleSerializer
