"""Normalise what a patient typed into a contact form, so one person is one lead."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from core.clinic import clinic_profile

NAME_MAX = 100
MESSAGE_MAX = 2000


@dataclass(frozen=True)
class ContactDetails:
    first_name: str
    last_name: str
    email: str
    phone: str
    message: str


def normalise_email(raw: str) -> str:
    """Trim and lower-case: clinics' patients type 'Sarah.Chen@Example.com ' too."""
    email = (raw or "").strip().lower()
    if email:
        validate_email(email)
    return email


def normalise_phone(raw: str, *, region: str | None = None) -> str:
    """E.164 form (+447700900123) of any way of writing the same number. A number
    without a country code is read as one of the clinic's country."""
    text = (raw or "").strip()
    if not text:
        return ""
    profile = clinic_profile()
    region = region or profile.country
    example = phonenumbers.format_number(
        phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        or phonenumbers.example_number(region),
        phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    )
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        raise ValidationError(f"Enter a valid phone number, e.g. {example}.") from error
    if phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not text.startswith(("+", "00")) and _valid_elsewhere(text):
        country = profile.country_name if region == profile.country else region
        raise ValidationError(
            f"This is not a {country} number. If it is from another country, add its country code "
            f"(e.g. +33 6 12 34 56 78 for France)."
        )
    raise ValidationError("This phone number does not exist; please check the digits.")


def _valid_elsewhere(text: str) -> bool:
    """Is this a real local number of some other country (a French '06 12 34 56 78'
    typed on a London clinic's form)? Then the country code is what is missing.
    Short numbers are left out: some country always has a valid 5-digit number."""
    if len(re.sub(r"\D", "", text)) < 8:
        return False
    for region in phonenumbers.SUPPORTED_REGIONS:
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(text, region)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


def normalise_name(raw: str) -> str:
    name = re.sub(r"\s+", " ", (raw or "").strip())
    if len(name) > NAME_MAX:
        raise ValidationError(f"Please keep names under {NAME_MAX} characters.")
    return name


def normalise_contact(data: Mapping[str, Any]) -> ContactDetails:
    """Validate and normalise contact fields; errors are keyed by field."""
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    steps = {
        "first_name": normalise_name,
        "last_name": normalise_name,
        "email": normalise_email,
        "phone": normalise_phone,
    }
    for field, normalise in steps.items():
        raw = data.get(field) or ""
        if not isinstance(raw, str):
            errors[field] = ["Enter text."]
            continue
        try:
            values[field] = normalise(raw)
        except ValidationError as error:
            errors[field] = error.messages

    message = data.get("message") or ""
    if not isinstance(message, str):
        errors["message"] = ["Enter text."]
    elif len(message) > MESSAGE_MAX:
        errors["message"] = [f"Please keep the message under {MESSAGE_MAX} characters."]
    values["message"] = message.strip() if isinstance(message, str) else ""

    if not errors and not values["email"] and not values["phone"]:
        errors["email"] = ["Give an e-mail address or a phone number so the clinic can reach you."]
    if errors:
        raise ValidationError(errors)
    return ContactDetails(**values)
