"""The clinic's identity: one row, edited in the admin, shown on every public page."""

import phonenumbers
from babel import Locale, UnknownLocaleError
from babel.numbers import list_currencies
from django.core.exceptions import ValidationError
from django.db import models


class ClinicProfile(models.Model):
    """Who the clinic is and how it writes money and phone numbers. Read through
    `core.clinic.clinic_profile()`, which caches it."""

    name = models.CharField(max_length=120, default="Lumière Aesthetics")
    street_address = models.CharField(max_length=200, default="12 Harley Street")
    locality = models.CharField("town or city", max_length=100, default="London")
    postal_code = models.CharField(max_length=20, default="W1G 9PF")
    country = models.CharField(
        max_length=2, default="GB",
        help_text="Two-letter country code (GB, FR, US...): phone numbers typed without a country code are read as this country's.",
    )
    phone = models.CharField(max_length=30, default="+44 20 7946 0321")
    email = models.EmailField(default="hello@lumiere-aesthetics.example")
    opening_hours = models.TextField(
        default="Mon-Fri 09:00-19:00\nSat 10:00-16:00\nSun closed",
        help_text="One line per day or range of days, e.g. “Mon-Fri 09:00-19:00” or “Sun closed”.",
    )
    currency = models.CharField(max_length=3, default="GBP", help_text="ISO 4217 code: GBP, EUR, USD...")
    locale = models.CharField(
        max_length=10, default="en_GB", help_text="How money and dates are written, e.g. en_GB, en_US, fr_FR, de_DE."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "clinic profile"
        verbose_name_plural = "clinic profile"
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="clinic_profile_single_row")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        self.country = (self.country or "").upper()
        if self.country not in phonenumbers.SUPPORTED_REGIONS:
            errors["country"] = f"Unknown country code {self.country!r}; use two letters such as GB, FR or US."
        self.currency = (self.currency or "").upper()
        if self.currency not in list_currencies():
            errors["currency"] = f"Unknown currency {self.currency!r}; use a code such as GBP, EUR or USD."
        try:
            Locale.parse(self.locale)
        except (ValueError, UnknownLocaleError):
            errors["locale"] = f"Unknown locale {self.locale!r}; use one such as en_GB, en_US or fr_FR."
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @property
    def opening_hours_lines(self) -> list[str]:
        return [line.strip() for line in self.opening_hours.splitlines() if line.strip()]

    @property
    def country_name(self) -> str:
        return Locale.parse("en").territories.get(self.country, self.country)
