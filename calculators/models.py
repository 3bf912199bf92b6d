"""The treatment catalog that the recommender, the face analysis and the cost
calculator share."""

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from calculators.vocabulary import AREAS, CONCERNS, KINDS


class ProcedureCategory(models.TextChoices):
    INJECTABLES = "injectables", "Injectables"
    SKIN = "skin", "Skin treatments"
    LASER = "laser", "Laser and light"
    BODY = "body", "Body contouring"
    SURGICAL = "surgical", "Surgical"


class PriceUnit(models.TextChoices):
    """What one price covers, and so what the patient chooses a number of."""

    SESSION = "session", "per session"
    AREA = "area", "per area"
    ML = "ml", "per ml syringe"
    PROCEDURE = "procedure", "per procedure"


class Procedure(models.Model):
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=100)
    category = models.CharField(max_length=20, choices=ProcedureCategory.choices)
    description = models.TextField(help_text="Plain words for patients: what it is and what it does.")
    concerns = models.JSONField(default=list, help_text="Concern slugs it treats (calculators/vocabulary.py).")
    areas = models.JSONField(default=list, help_text="Body areas it treats.")
    keywords = models.JSONField(default=list, blank=True, help_text="Other names patients use: brands, slang.")
    kinds = models.JSONField(
        default=list, blank=True,
        help_text="What it involves, for patients who refuse some: needles, injection, laser, surgery "
                  "(an injection also counts as needles).",
    )
    price_min = models.DecimalField(max_digits=9, decimal_places=2)
    price_max = models.DecimalField(max_digits=9, decimal_places=2)
    price_unit = models.CharField(max_length=20, choices=PriceUnit.choices, default=PriceUnit.SESSION)
    max_quantity = models.PositiveSmallIntegerField(
        default=1, help_text="Most areas/ml a patient can choose in the calculator."
    )
    sessions_min = models.PositiveSmallIntegerField(default=1)
    sessions_max = models.PositiveSmallIntegerField(default=1)
    downtime_days_min = models.PositiveSmallIntegerField(default=0)
    downtime_days_max = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["category", "order", "name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price_min__lte=models.F("price_max")), name="procedure_price_range"),
            models.CheckConstraint(
                condition=models.Q(sessions_min__lte=models.F("sessions_max")), name="procedure_sessions_range"
            ),
            models.CheckConstraint(
                condition=models.Q(downtime_days_min__lte=models.F("downtime_days_max")),
                name="procedure_downtime_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("calculators:treatment", args=[self.slug])

    def clean(self) -> None:
        errors = {}
        unknown = [c for c in self.concerns or [] if c not in CONCERNS]
        if unknown:
            errors["concerns"] = f"Unknown concern(s): {', '.join(unknown)}. Known: {', '.join(CONCERNS)}."
        unknown = [a for a in self.areas or [] if a not in AREAS]
        if unknown:
            errors["areas"] = f"Unknown area(s): {', '.join(unknown)}. Known: {', '.join(AREAS)}."
        unknown = [k for k in self.kinds or [] if k not in KINDS]
        if unknown:
            errors["kinds"] = f"Unknown kind(s): {', '.join(unknown)}. Known: {', '.join(KINDS)}."
        for low, high in (("price_min", "price_max"), ("sessions_min", "sessions_max"),
                          ("downtime_days_min", "downtime_days_max")):
            if getattr(self, low) is not None and getattr(self, high) is not None and getattr(self, low) > getattr(self, high):
                errors[high] = "Must not be below the minimum."
        if errors:
            raise ValidationError(errors)

    @property
    def downtime(self) -> str:
        if self.downtime_days_max == 0:
            return "None"
        if self.downtime_days_min == self.downtime_days_max:
            return f"{self.downtime_days_max} days"
        return f"{self.downtime_days_min}-{self.downtime_days_max} days"

    @property
    def sessions(self) -> str:
        if self.sessions_min == self.sessions_max:
            return str(self.sessions_min)
        return f"{self.sessions_min}-{self.sessions_max}"
