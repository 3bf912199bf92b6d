"""Pieces shared by the forms: the honeypot that turns robots away, the
one-time submission id that makes a double click harmless, the date picker."""

import uuid

from django import forms
from django.core.exceptions import ValidationError

HONEYPOT_FIELD = "website"
# Neutral on purpose: it must not tell a robot which field gave it away.
HONEYPOT_ERROR = "Sorry, we could not accept this form. Please try again."


class HoneypotBoundField(forms.BoundField):
    def css_classes(self, extra_classes=None):
        # The class goes on the field's wrapper (label and input), which site.css moves
        # off-screen: still read by screen readers, hence the label, never seen.
        extra = extra_classes.split() if hasattr(extra_classes, "split") else list(extra_classes or [])
        return super().css_classes(extra_classes=["hp-field", *extra])


def honeypot_field() -> forms.CharField:
    return forms.CharField(
        required=False,
        max_length=200,
        label="Leave this field empty",
        bound_field_class=HoneypotBoundField,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )


class HoneypotMixin:
    """Adds a field people never see (or reach with the keyboard) to a form, as its last
    field; robots that fill every input fill it too, and such a submission is invalid."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[HONEYPOT_FIELD] = honeypot_field()

    def clean(self):
        if self.cleaned_data.get(HONEYPOT_FIELD):
            raise ValidationError(HONEYPOT_ERROR, code="honeypot")
        return super().clean()


SUBMISSION_FIELD = "submission_id"


class OneSubmissionMixin:
    """A fresh id in every rendered form: a double click or a browser retry posts the
    same id twice, and the services record it once (UserInteraction.external_id)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[SUBMISSION_FIELD] = forms.UUIDField(required=False, initial=uuid.uuid4, widget=forms.HiddenInput)

    @property
    def submission_key(self) -> str | None:
        value = self.cleaned_data.get(SUBMISSION_FIELD)
        return f"submission:{value}" if value else None


class DayInput(forms.DateInput):
    """The browser's date picker. `<input type="date">` takes its value as YYYY-MM-DD
    whatever the page's language; in the locale's own format (26/11/2026) it shows
    an empty box."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")
