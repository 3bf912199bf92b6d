"""Forms of the public tools: they parse and check input; the services do the work."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from calculators.models import Procedure, ProcedureCategory
from calculators.services import BUDGET_RANGES
from core.forms import DayInput, HoneypotMixin, OneSubmissionMixin
from leads.consent_texts import consent_text
from leads.models import ConsentPurpose, TimeWindow
from leads.services import MAX_BOOKING_DAYS_AHEAD

MAX_AUDIO_BYTES = 10 * 1024 * 1024
MAX_PHOTO_BYTES = 15 * 1024 * 1024


def _read_upload(upload, *, limit: int, what: str) -> bytes:
    if upload.size == 0:
        raise ValidationError(f"The {what} is empty.")
    if upload.size > limit:
        raise ValidationError(f"The {what} is too large: the limit is {limit // (1024 * 1024)} MB.")
    return upload.read()


def photo_consent_field() -> forms.BooleanField:
    _, text = consent_text(ConsentPurpose.PHOTO_ANALYSIS)
    return forms.BooleanField(required=False, label=text)


class RecommendationForm(OneSubmissionMixin, HoneypotMixin, forms.Form):
    """Describe a concern in words, upload a voice recording, or a photo: one of them."""

    query = forms.CharField(
        required=False,
        max_length=1000,
        label="Describe what you would like to change",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "e.g. lines on my forehead before my wedding next month"}),
    )
    audio = forms.FileField(
        required=False, label="…or upload a voice recording",
        widget=forms.ClearableFileInput(attrs={"accept": "audio/*", "capture": "user"}),
    )
    photo = forms.FileField(
        required=False, label="…or upload a photo of your face",
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )
    photo_consent = photo_consent_field()

    def clean(self):
        data = super().clean()
        given = [name for name in ("query", "audio", "photo") if data.get(name)]
        if not given and not self.errors:
            raise ValidationError("Describe your concern, or upload a recording or a photo.")
        if len(given) > 1:
            raise ValidationError("Please use one of the three: words, a recording or a photo.")
        if data.get("photo") and not data.get("photo_consent"):
            self.add_error("photo_consent", "Please agree to the photo analysis, or describe your concern in words.")
        return data

    def clean_audio(self) -> bytes | None:
        upload = self.cleaned_data.get("audio")
        return _read_upload(upload, limit=MAX_AUDIO_BYTES, what="recording") if upload else None

    def clean_photo(self) -> bytes | None:
        upload = self.cleaned_data.get("photo")
        return _read_upload(upload, limit=MAX_PHOTO_BYTES, what="photo") if upload else None


class FaceAnalysisForm(OneSubmissionMixin, HoneypotMixin, forms.Form):
    photo = forms.FileField(
        label="A clear, front-facing photo of your face, in good light",
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )
    photo_consent = photo_consent_field()
    keep_photo = forms.BooleanField(
        required=False,
        label="Keep my photo with my analysis for my practitioner (deleted after "
        f"{settings.PHOTO_RETENTION_DAYS} days, or whenever I ask)",
    )

    def clean_photo(self) -> bytes:
        return _read_upload(self.cleaned_data["photo"], limit=MAX_PHOTO_BYTES, what="photo")

    def clean_photo_consent(self) -> bool:
        if not self.cleaned_data.get("photo_consent"):
            raise ValidationError("We need your agreement to analyse a photo of your face.")
        return True


def procedure_choices() -> list:
    """Active treatments grouped by category, for a <select> with optgroups."""
    groups: dict[str, list] = {}
    for procedure in Procedure.objects.filter(is_active=True):
        label = f"{procedure.name} ({procedure.get_price_unit_display()})"
        groups.setdefault(procedure.get_category_display(), []).append((procedure.slug, label))
    order = [label for _, label in ProcedureCategory.choices]
    return [("", "Choose a treatment")] + sorted(groups.items(), key=lambda item: order.index(item[0]))


class CostLineForm(forms.Form):
    procedure = forms.ChoiceField(required=False, label="Treatment")
    quantity = forms.IntegerField(
        min_value=1, max_value=20, initial=1, required=False, label="Areas / ml",
        help_text="Areas for anti-wrinkle and laser, ml for fillers; 1 otherwise.",
    )
    sessions = forms.IntegerField(
        min_value=1, max_value=20, required=False, label="Sessions", help_text="Leave empty for the usual course."
    )

    def __init__(self, *args, procedures=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["procedure"].choices = procedures or procedure_choices()

    def clean(self):
        data = super().clean()
        if not data.get("procedure"):
            return data
        procedure = Procedure.objects.filter(slug=data["procedure"], is_active=True).first()
        if procedure is None:
            raise ValidationError("This treatment is no longer offered.")
        data["procedure"] = procedure
        data["quantity"] = data.get("quantity") or 1
        if data["quantity"] > procedure.max_quantity:
            self.add_error("quantity", f"{procedure.name}: at most {procedure.max_quantity}.")
        sessions = data.get("sessions")
        if sessions and not procedure.sessions_min <= sessions <= procedure.sessions_max:
            self.add_error("sessions", f"A course of {procedure.name} is {procedure.sessions} sessions.")
        return data


class BaseCostLineFormSet(forms.BaseFormSet):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, form_kwargs={"procedures": procedure_choices()}, **kwargs)

    def clean(self):
        if any(self.errors):
            return
        chosen = [form.cleaned_data["procedure"] for form in self.forms if form.cleaned_data.get("procedure")]
        if not chosen:
            raise ValidationError("Choose at least one treatment.")
        if len({p.pk for p in chosen}) != len(chosen):
            raise ValidationError("Each treatment only once, please: set its areas or sessions instead.")


CostLineFormSet = forms.formset_factory(
    CostLineForm, formset=BaseCostLineFormSet, extra=3, max_num=6, validate_max=True, absolute_max=6
)


class CostCalculatorForm(OneSubmissionMixin, HoneypotMixin, forms.Form):
    budget_range = forms.ChoiceField(
        choices=[(key, label) for key, (label, _, _) in BUDGET_RANGES.items()],
        initial="not_sure",
        label="What budget do you have in mind?",
    )


class BookingForm(OneSubmissionMixin, forms.Form):
    """Preferred treatment and time; contact fields are added by leads.forms for
    visitors the clinic does not know yet."""

    treatment = forms.ChoiceField(required=False, label="Treatment")
    preferred_date = forms.DateField(label="Preferred date", widget=DayInput())
    time_window = forms.ChoiceField(choices=TimeWindow.choices, label="Preferred time")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = procedure_choices()
        choices[0] = ("", "Consultation: not sure yet")
        self.fields["treatment"].choices = choices

    def clean_preferred_date(self):
        value = self.cleaned_data["preferred_date"]
        today = timezone.localdate()
        if value < today:
            raise ValidationError("Please choose a date from today on.")
        if (value - today).days > MAX_BOOKING_DAYS_AHEAD:
            raise ValidationError("We take bookings up to a year ahead.")
        return value

    def clean_treatment(self):
        slug = self.cleaned_data.get("treatment")
        if not slug:
            return None
        procedure = Procedure.objects.filter(slug=slug, is_active=True).first()
        if procedure is None:
            raise ValidationError("This treatment is no longer offered.")
        return procedure
