"""One shape for every API error: {"detail": "...", "errors": {"field": ["message"]}}."""

import re
from collections.abc import Mapping

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.views import exception_handler as drf_exception_handler


class Pagination(PageNumberPagination):
    """Pages of 50; clients may ask for up to 200 with ?page_size= (more gives 200).
    A page size that is not a whole number from 1 is a 400, not silently 50."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        values = request.query_params.getlist(self.page_size_query_param)
        if not values:
            return self.page_size
        if len(values) > 1 or not re.fullmatch(r"[0-9]+", values[0]) or int(values[0]) < 1:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"A whole number from 1 (more than {self.max_page_size} "
                                              f"gives {self.max_page_size})."]}
            )
        return min(int(values[0]), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters


# Errors that say the request conflicts with what is stored (a name already taken),
# not that it is malformed: 409, so a client knows the same request could succeed later.
CONFLICT_CODES = {"unique", "conflict"}


class ErrorSerializer(serializers.Serializer):
    """Every 4xx answer of the API (documented on each operation by core/schema.py)."""

    detail = serializers.CharField(help_text="What went wrong, in words.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="For bad input: each field (or non_field_errors) with its messages; otherwise empty.",
    )


# A JSON body says exactly what the schema says, or is refused with 400: keys the
# serializer does not write (a misspelt "stauts", a read-only "lead_score") and values
# of another JSON type (DRF would read 0 as false, true as 1 and 5 as "5") are errors,
# where DRF would answer 200 having silently changed nothing or something else.
# (A comment, not a docstring: drf-spectacular would show it on every serializer.)
class StrictFieldsMixin:
    # HTML forms (the tracking beacon, the browsable API) send their CSRF token beside the fields.
    FORM_KEYS = frozenset({"csrfmiddlewaretoken"})

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            writable = sorted(name for name, field in self.fields.items() if not field.read_only)
            unknown = sorted(set(data) - set(writable) - self.FORM_KEYS)
            if unknown:
                message = f"Not a field that can be sent here; use: {', '.join(writable)}."
                raise serializers.ValidationError({name: [message] for name in unknown})
        if isinstance(data, dict) and not hasattr(data, "getlist"):  # JSON; form posts are all text
            wrong = {name: [message] for name, value in data.items()
                     if name in self.fields and (message := _json_type_error(self.fields[name], value))}
            if wrong:
                raise serializers.ValidationError(wrong)
        return super().to_internal_value(data)


def _json_type_error(field, value) -> str | None:
    if value is None or isinstance(field, serializers.JSONField):
        return None  # null: the field's own allow_null decides
    if isinstance(field, serializers.BooleanField) and not isinstance(value, bool):
        return "Must be true or false."
    if isinstance(field, serializers.IntegerField) and (isinstance(value, bool) or not isinstance(value, int)):
        return "Must be a whole number."
    if isinstance(field, serializers.CharField) and not isinstance(value, str):
        return "Must be a string."
    return None


def _codes(codes) -> set[str]:
    if isinstance(codes, Mapping):
        return set().union(*map(_codes, codes.values()))
    if isinstance(codes, list):
        return set().union(*map(_codes, codes))
    return {codes}


def _as_lists(errors):
    return {field: messages if isinstance(messages, (list, Mapping)) else [messages]
            for field, messages in errors.items()}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = {"detail": "Some fields are not valid.", "errors": _as_lists(errors)}
        codes = _codes(exc.get_codes())
        if codes and codes <= CONFLICT_CODES:
            response.status_code = status.HTTP_409_CONFLICT
            response.data["detail"] = "The request conflicts with what is stored."
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": str(response.data["detail"]), "errors": {}}
    return response
