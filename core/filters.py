"""Query filters for the staff API that refuse what they cannot read (400 with the
field's message) instead of dropping the filter and answering with every row."""

import datetime

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
BOOLEAN_VALUES = ("true", "false")


class IntegerField(forms.IntegerField):
    # Whole numbers only ("2.5" is refused, not rounded); bounded by what every database can compare.
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", INT64_MIN)
        kwargs.setdefault("max_value", INT64_MAX)
        super().__init__(**kwargs)


@extend_schema_field({"type": "integer", "format": "int64", "minimum": INT64_MIN, "maximum": INT64_MAX})
class IntegerFilter(django_filters.NumberFilter):
    """A whole number; a related object's id filters by id, so an id that matches
    nothing gives an empty page rather than an error."""

    field_class = IntegerField


class UtcIsoDateTimeField(IsoDateTimeField):
    # In UTC before it reaches the database: PostgreSQL refuses offsets beyond ±15:59
    # (an error, so a 500) although ISO 8601 allows up to ±23:59. A moment that falls
    # outside years 1-9999 once in UTC is read as the first or last representable one.
    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None or moment.tzinfo is None:
            return moment
        try:
            return moment.astimezone(datetime.UTC)
        except OverflowError:
            edge = datetime.datetime.min if moment.year == 1 else datetime.datetime.max
            return edge.replace(tzinfo=datetime.UTC)


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class StrictFilterSet(django_filters.FilterSet):
    """Given once, with a value its filter can read: `?converted=` or `?converted=yes`
    or `?level=` used to be ignored, so a client asking for converted interactions
    silently got all of them."""

    def is_valid(self) -> bool:
        if not super().is_valid():
            return False
        for name, query_filter in self.filters.items():
            if name not in self.data:
                continue
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else [self.data[name]]
            if len(values) > 1:
                self.form.add_error(name, "Give this filter one value.")
            elif isinstance(query_filter, django_filters.BooleanFilter) and values[0] not in BOOLEAN_VALUES:
                self.form.add_error(name, "Use true or false.")
            elif values[0] == "" and not isinstance(query_filter, django_filters.CharFilter):
                self.form.add_error(name, "Give a value, or leave this filter out.")
        return not self.form.errors
