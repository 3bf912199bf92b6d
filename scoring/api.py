"""Staff API for the scoring rules, validated by the model itself (full_clean), as
the admin's form is: one set of rules for both."""

import copy

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers, viewsets

from core.api import StrictFieldsMixin
from core.permissions import CONTACT_PERMISSION
from scoring import engine
from scoring.models import LeadScoringRule
from scoring.privacy import condition_check_privacy

CONDITION_COMPONENT = "ScoringCondition"


def _component(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _level(depth: int) -> str:
    return CONDITION_COMPONENT if depth == 1 else f"{CONDITION_COMPONENT}Level{depth}"


def condition_components() -> dict[str, dict]:
    """The engine's condition language (engine.validate_condition) as OpenAPI schema
    components, built from the engine's own tables so the two cannot drift apart.

    A condition is a comparison {"field", "op", "value"} or a group {"all": [...]},
    {"any": [...]}, {"not": {...}}. Groups nest at most MAX_CONDITION_DEPTH levels, so
    each level is its own component whose groups hold the next level's conditions."""
    data_field = {"type": "string", "pattern": r"^data\.[\s\S]", "maxLength": engine.MAX_TEXT_LENGTH}

    def field(*kinds: str) -> dict:
        names = [name for name, spec in engine.FIELDS.items() if not kinds or spec.kind in kinds]
        return {"anyOf": [{"type": "string", "enum": names}, data_field]}

    scalar = {"anyOf": [{"type": "string", "maxLength": engine.MAX_TEXT_LENGTH}, {"type": "number"}, {"type": "boolean"}],
              "nullable": True}
    other_operators = sorted(set(engine.OPERATORS) - engine.NUMERIC_OPERATORS - engine.LIST_OPERATORS
                             - {"exists", "contains"})

    def comparison(field_schema: dict, operators, value: dict | None) -> dict:
        # Wrapped in anyOf so drf-spectacular's enum hook leaves each branch its own operators.
        properties = {"field": field_schema, "op": {"anyOf": [{"type": "string", "enum": sorted(operators)}]}}
        required = ["field", "op"]
        if value is not None:
            properties["value"] = value
            required.append("value")
        else:
            properties["value"] = {"type": "boolean", "nullable": True}
        return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}

    def group(key: str, schema: dict) -> dict:
        return {"type": "object", "properties": {key: schema}, "required": [key], "additionalProperties": False}

    components = {
        "ScoringComparison": {"anyOf": [
            comparison(field(), ["exists"], None),
            comparison(field("number"), engine.NUMERIC_OPERATORS, {"type": "number"}),
            comparison(field(), engine.LIST_OPERATORS, {"type": "array", "items": scalar, "minItems": 1,
                                                                    "maxItems": engine.MAX_LIST_VALUES}),
            comparison(field(), other_operators, scalar),
            comparison(field("text", "list", "bool"), ["contains"], scalar),
        ]},
    }
    for depth in range(1, engine.MAX_CONDITION_DEPTH + 1):
        if depth < engine.MAX_CONDITION_DEPTH:
            inner = _component(_level(depth + 1))
            groups = [group("all", {"type": "array", "items": inner, "minItems": 1}),
                      group("any", {"type": "array", "items": inner, "minItems": 1}),
                      group("not", inner)]
        else:  # the deepest level: a comparison only (a group would need something inside)
            groups = []
        components[_level(depth)] = {"anyOf": [_component("ScoringComparison"), *groups]}
    components[CONDITION_COMPONENT]["description"] = (
        'When a rule applies: a comparison such as {"field": "urgency", "op": "eq", "value": "immediate"} '
        f"(a field of {', '.join(engine.FIELDS)}, or data.<key>), or a group "
        '{"all": [...]}, {"any": [...]} or {"not": {...}}, nested at most '
        f"{engine.MAX_CONDITION_DEPTH} levels deep (ScoringConditionLevel2... hold the nested ones), "
        f"testing at most {engine.MAX_CONDITION_TESTS} things in all."
    )
    return components


class ConditionField(serializers.JSONField):
    """A rule's condition: a JSON object in the engine's condition language."""


class ConditionFieldSchema(OpenApiSerializerFieldExtension):
    target_class = ConditionField

    def map_serializer_field(self, auto_schema, direction):
        for name, schema in condition_components().items():
            auto_schema.registry.register_on_missing(
                ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
            )
        return _component(CONDITION_COMPONENT)


class RuleSerializerSchema(OpenApiSerializerExtension):
    """The one rule across two fields the schema can state: a base rule is not per occurrence."""

    target_class = "scoring.api.RuleSerializer"

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["not"] = {
                "type": "object",
                "required": ["kind", "per_occurrence"],
                "properties": {"kind": {"type": "string", "enum": [engine.BASE]},
                               "per_occurrence": {"type": "boolean", "enum": [True]}},
            }
        return schema


class RuleSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    condition = ConditionField(help_text=LeadScoringRule._meta.get_field("condition").help_text)
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
            details = serializers.as_serializer_error(error)
            if set(details) == {"per_occurrence"} and not {"kind", "per_occurrence"} <= set(data):
                # A base rule cannot be per occurrence. Both in the body: the body is invalid
                # (400, and the schema says so). One of them stored on the rule: the change
                # conflicts with the rule as it is (409).
                raise serializers.ValidationError(
                    {"per_occurrence": [serializers.ErrorDetail(str(m), code="conflict") for m in details["per_occurrence"]]}
                ) from error
            raise serializers.ValidationError(details) from error
        request = self.context.get("request")
        if "condition" in data and request is not None and not request.user.has_perm(CONTACT_PERMISSION):
            condition_check_privacy(data["condition"])
        return data


class RuleViewSet(viewsets.ModelViewSet):
    queryset = LeadScoringRule.objects.all()
    serializer_class = RuleSerializer
