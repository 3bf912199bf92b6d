"""{% load clinic %}: money written the clinic's way ({{ amount|money }}, {{ low|money_range:high }})."""

import json

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from core import money as money_format
from core.clinic import clinic_profile

register = template.Library()
# As django.utils.html.json_script escapes: JSON that cannot end the script element.
JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.filter
def money(amount) -> str:
    if amount in (None, ""):
        return ""
    profile = clinic_profile()
    return money_format.money(amount, currency=profile.currency, locale=profile.locale)


@register.filter
def money_range(low, high) -> str:
    profile = clinic_profile()
    return money_format.money_range(low, high, currency=profile.currency, locale=profile.locale)


DAY_CODES = {"mon": "Mo", "tue": "Tu", "wed": "We", "thu": "Th", "fri": "Fr", "sat": "Sa", "sun": "Su"}


def _schema_org_hours(lines: list[str]) -> list[str]:
    """'Mon-Fri 09:00-19:00' as schema.org writes it ('Mo-Fr 09:00-19:00'); closed days are left out."""
    hours = []
    for line in lines:
        if "closed" in line.lower():
            continue
        days, _, times = line.partition(" ")
        codes = [DAY_CODES.get(day.strip().lower()[:3], "") for day in days.split("-")]
        if all(codes) and times.strip():
            hours.append(f"{'-'.join(codes)} {times.strip()}")
    return hours


@register.simple_tag
def clinic_structured_data() -> str:
    """The clinic as a schema.org MedicalClinic, for search engines (JSON-LD)."""
    profile = clinic_profile()
    data = {
        "@context": "https://schema.org",
        "@type": "MedicalClinic",
        "name": profile.name,
        "telephone": profile.phone,
        "email": profile.email,
        "address": {
            "@type": "PostalAddress",
            "streetAddress": profile.street_address,
            "addressLocality": profile.locality,
            "postalCode": profile.postal_code,
            "addressCountry": profile.country,
        },
        "openingHours": _schema_org_hours(profile.opening_hours_lines),
        "currenciesAccepted": profile.currency,
    }
    escaped = json.dumps(data, ensure_ascii=False).translate(JSON_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(escaped))
