"""Normalise what a patient typed into a contact form, so one person is one lead."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

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
    """E.164 form (+447700900123) of any way of writing the same number."""
    text = (raw or "").strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, region or settings.CLINIC_PHONE_REGION)
    except phonenumbers.NumberParseException as error:
        raise ValidationError("Enter a valid phone number, e.g. +44 7700 900123.") from error
    if not phonenumbers.is_valid_number(number):
        raise ValidationError("This phone number does not exist; please check the digits.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


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
