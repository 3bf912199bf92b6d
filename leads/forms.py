"""The progressive contact form: it asks only for what the clinic does not know yet."""

from django import forms
from django.core.exceptions import ValidationError

from core.forms import HoneypotMixin, OneSubmissionMixin
from leads.consent_texts import consent_text
from leads.contact import normalise_email, normalise_phone
from leads.enquiry import KnownContact
from leads.models import ConsentPurpose


def _consent_field(purpose: str, *, required: bool) -> forms.BooleanField:
    _, text = consent_text(purpose)
    return forms.BooleanField(required=required, label=text)


class ContactForm(OneSubmissionMixin, HoneypotMixin, forms.Form):
    first_name = forms.CharField(max_length=100, label="First name")
    last_name = forms.CharField(max_length=100, required=False, label="Last name")
    email = forms.EmailField(max_length=254, required=False, label="E-mail")
    phone = forms.CharField(max_length=30, required=False, label="Phone", help_text="We only call about your enquiry.")
    message = forms.CharField(
        max_length=2000, required=False, label="Anything we should know? (optional)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    consent_contact = _consent_field(ConsentPurpose.CONTACT, required=True)
    consent_marketing = _consent_field(ConsentPurpose.MARKETING, required=False)
    interaction = forms.IntegerField(required=False, widget=forms.HiddenInput)
    next = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)

    def __init__(self, *args, known: KnownContact | None = None, short: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if short:
            # A contact-form experiment's short variant (interactions.experiments): the
            # last name and the message are optional anyway, so the full form's post
            # is the same form.
            del self.fields["last_name"]
            del self.fields["message"]
        if known is None:
            return
        # Progressive profiling: a known patient is never asked again for what is on file.
        if known.first_name:
            del self.fields["first_name"]
            del self.fields["last_name"]
        if known.contact:
            del self.fields["email"]
            del self.fields["phone"]
        if known.consent:
            del self.fields["consent_contact"]
            del self.fields["consent_marketing"]

    @property
    def asks_for_contact(self) -> bool:
        return "email" in self.fields

    def clean_email(self) -> str:
        return normalise_email(self.cleaned_data.get("email", ""))

    def clean_phone(self) -> str:
        return normalise_phone(self.cleaned_data.get("phone", ""))

    def clean(self):
        data = super().clean()
        if self.asks_for_contact and not self.errors and not data.get("email") and not data.get("phone"):
            raise ValidationError("Please give an e-mail address or a phone number so we can reply.")
        return data


class ContactDetailsForm(OneSubmissionMixin, HoneypotMixin, forms.Form):
    """Step two, on the thank-you page: the phone or e-mail that was left out."""

    email = forms.EmailField(max_length=254, required=False, label="E-mail")
    phone = forms.CharField(max_length=30, required=False, label="Phone")
    message = forms.CharField(
        max_length=2000, required=False, label="Best time to call, or anything else",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, has_email: bool, has_phone: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if has_email:
            del self.fields["email"]
        if has_phone:
            del self.fields["phone"]

    def clean_phone(self) -> str:
        return normalise_phone(self.cleaned_data.get("phone", ""))

    def clean_email(self) -> str:
        return normalise_email(self.cleaned_data.get("email", ""))
