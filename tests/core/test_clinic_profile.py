"""The clinic's identity: edited in the admin, shown on every public page and to search engines."""

import json
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from core.clinic import clinic_profile
from core.models import ClinicProfile
from core.money import money, money_range

pytestmark = pytest.mark.django_db


def structured_data(page: str) -> dict:
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


def test_every_public_page_shows_the_clinics_address_phone_and_opening_hours(client):
    page = client.get("/").content.decode()
    profile = clinic_profile()
    for value in (profile.name, profile.street_address, profile.postal_code, profile.phone, "Mon-Fri 09:00-19:00"):
        assert value in page
    clinic = structured_data(page)
    assert clinic["@type"] == "MedicalClinic"
    assert clinic["address"]["postalCode"] == profile.postal_code
    assert clinic["openingHours"] == ["Mo-Fr 09:00-19:00", "Sa 10:00-16:00"]


def test_staff_change_the_profile_in_the_admin_and_the_site_follows(client):
    admin = get_user_model().objects.create_superuser("boss", "boss@clinic.test", "pw-12345-x")
    client.force_login(admin)
    url = f"/admin/core/clinicprofile/{ClinicProfile.objects.get().pk}/change/"  # there from the start
    assert f'href="{url}"' in client.get("/admin/core/clinicprofile/").content.decode()
    response = client.post(url, {
        "name": "Clinique Lumière", "phone": "+33 1 42 68 53 00", "email": "bonjour@lumiere.example",
        "street_address": "8 rue de la Paix", "locality": "Paris", "postal_code": "75002", "country": "FR",
        "opening_hours": "Tue-Sat 10:00-19:00\nSun closed\nMon closed", "currency": "EUR", "locale": "fr_FR",
    })
    assert response.status_code == 302
    page = client.get("/treatments/").content.decode()
    assert "Clinique Lumière" in page and "75002" in page and "Tue-Sat 10:00-19:00" in page
    assert "from 3\u202f000\u00a0€ per procedure" in page  # money in the French way (blepharoplasty)
    assert structured_data(page)["openingHours"] == ["Tu-Sa 10:00-19:00"]


def test_a_profile_with_an_unknown_country_currency_or_locale_is_refused_in_plain_words():
    profile = clinic_profile()
    profile.country, profile.currency, profile.locale = "XX", "PND", "english"
    with pytest.raises(ValidationError) as error:
        profile.full_clean()
    assert set(error.value.message_dict) == {"country", "currency", "locale"}
    assert "use a code such as GBP" in error.value.message_dict["currency"][0]


def test_there_is_only_ever_one_profile():
    clinic_profile()
    ClinicProfile(name="Another").save()
    assert ClinicProfile.objects.count() == 1 and ClinicProfile.objects.get().name == "Another"


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "written"),
    [
        (Decimal("1500"), "GBP", "en_GB", "£1,500"),
        (Decimal("522.50"), "GBP", "en_GB", "£522.50"),
        (Decimal("1500"), "EUR", "fr_FR", "1\u202f500\u00a0€"),
        (Decimal("1500.5"), "USD", "en_US", "$1,500.50"),
        (Decimal("1500"), "EUR", "de_DE", "1.500\u00a0€"),
    ],
)
def test_money_is_written_the_way_the_clinics_locale_writes_it(amount, currency, locale, written):
    assert money(amount, currency=currency, locale=locale) == written


def test_a_price_range_is_one_style():
    assert money_range(Decimal("670"), Decimal("1030"), currency="GBP", locale="en_GB") == "£670–£1,030"
    assert money_range(Decimal("300"), Decimal("300"), currency="GBP", locale="en_GB") == "£300"
