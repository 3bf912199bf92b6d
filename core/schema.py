"""The OpenAPI schema lists every status an operation answers, each error with the one
error body ({"detail", "errors"}), so clients and schemathesis can hold the API to it.

drf-spectacular documents only the success response; this AutoSchema adds the errors
from what the view is made of (a body or query parameters: 400; authenticators that
name a scheme: 401; permissions: 403; a path parameter or pages: 404; unique fields:
409; a body: 415; a rate limit: 429), so a new endpoint is documented without a decorator. A status
a view documents itself with `extend_schema(responses=...)` is kept as it wrote it.
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import force_instance
from rest_framework import permissions, serializers
from rest_framework.validators import UniqueTogetherValidator, UniqueValidator

from core.api import ErrorSerializer, StrictFieldsMixin

ERRORS = {
    "400": "The request is not valid: `errors` names each field with its messages.",
    "401": "No valid credentials: send `Authorization: Token <key>`.",
    "403": "Signed in without the permission this needs (or, for the tracking endpoint, "
           "no valid CSRF token, or tracking is off until the visitor accepts cookies).",
    "404": "No such object, or no such page of results.",
    "409": "The change conflicts with what is stored (a name already taken; for a scoring "
           "rule, also `per_occurrence` on a rule whose stored kind is `base`).",
    "415": "The body is not in a media type this operation reads (see its request body).",
    "429": "Too many requests from this address: wait a minute (see Retry-After).",
}
WRITE_METHODS = {"POST", "PUT", "PATCH"}
# Text with something besides the whitespace Python's str.strip() removes (DRF trims
# text fields with it, so "\x1c" alone is blank to the API though not to ECMA's \s).
NOT_BLANK = "[^\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status in self._error_statuses():
            if status not in responses:
                responses[status] = self._error_response(status)
        return dict(sorted(responses.items()))

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        # Said in the schema only where the serializer really refuses other keys.
        if direction == "request" and isinstance(serializer, StrictFieldsMixin) and "properties" in schema:
            schema["additionalProperties"] = False
        return schema

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (direction == "request" and type(field) is serializers.CharField and field.trim_whitespace
                and not field.allow_blank and "pattern" not in schema):
            schema["pattern"] = NOT_BLANK
        return schema

    def _error_statuses(self) -> list[str]:
        statuses = []
        has_query = any(parameter["in"] == "query" for parameter in self._get_parameters())
        if has_query or (self.method in WRITE_METHODS and self._get_request_body()):
            statuses.append("400")
        if self._answers_401():
            statuses.append("401")
        if any(not isinstance(permission, permissions.AllowAny) for permission in self.view.get_permissions()):
            statuses.append("403")
        if "{" in self.path or (self._is_list_view() and self._get_paginator()):
            statuses.append("404")
        if self.method in WRITE_METHODS and self._has_unique_fields():
            statuses.append("409")
        if self.method in WRITE_METHODS and self._get_request_body():
            statuses.append("415")
        if self.method == "POST" and getattr(getattr(self.view, "dispatch", None), "rate_limit", None):
            statuses.append("429")
        return statuses

    def _answers_401(self) -> bool:
        # DRF answers 401 (not 403) only when the first authenticator names a scheme
        # for the WWW-Authenticate header; otherwise missing credentials are a 403.
        if not self.get_auth() or {} in self.get_auth():
            return False
        authenticators = self.view.get_authenticators()
        return bool(authenticators and authenticators[0].authenticate_header(self.view.request))

    def _has_unique_fields(self) -> bool:
        serializer = force_instance(self.get_request_serializer())
        if not isinstance(serializer, serializers.Serializer):
            return False
        if any(isinstance(validator, UniqueTogetherValidator) for validator in serializer.get_validators()):
            return True
        return any(
            isinstance(validator, UniqueValidator)
            for field in serializer.fields.values() if not field.read_only
            for validator in field.validators
        )

    def _error_response(self, status: str) -> dict:
        response = self._get_response_for_code(ErrorSerializer, status, media_types=["application/json"])
        response["description"] = ERRORS[status]
        headers = {
            "401": ("WWW-Authenticate", "The scheme to use: `Token`."),
            "429": ("Retry-After", "Seconds to wait before trying again."),
        }
        if status in headers:
            name, description = headers[status]
            response["headers"] = {name: {"schema": {"type": "string"}, "required": True, "description": description}}
        return response
