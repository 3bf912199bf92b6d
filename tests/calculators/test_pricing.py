"""Cost estimates: lines, package discount, financing."""

from decimal import Decimal

import pytest

from calculators.pricing import PriceItem, build_quote, monthly_payment, package_discount

TIERS = [(2, Decimal("5")), (3, Decimal("10"))]


def item(slug, low, high, quantity=1, sessions=1):
    return PriceItem(slug, slug.title(), "per area", Decimal(low), Decimal(high), quantity, sessions)


def quote(*items, apr="9.9", minimum="0"):
    return build_quote(items, discount_tiers=TIERS, financing_months=12,
                       financing_apr_percent=Decimal(apr), financing_minimum=Decimal(minimum))


def test_one_treatment_is_priced_by_units_and_sessions_without_discount():
    result = quote(item("botox", "150", "250", quantity=3))
    assert (result.total_min, result.total_max) == (Decimal("450.00"), Decimal("750.00"))
    assert result.discount_percent == 0


def test_two_treatments_get_the_package_discount():
    result = quote(item("botox", "150", "250", quantity=2), item("lip-filler", "250", "350"))
    assert (result.subtotal_min, result.subtotal_max) == (Decimal("550.00"), Decimal("850.00"))
    assert result.discount_percent == 5
    assert (result.total_min, result.total_max) == (Decimal("522.50"), Decimal("807.50"))


def test_three_or_more_get_the_bigger_discount():
    assert package_discount(3, TIERS) == 10
    assert package_discount(5, TIERS) == 10
    assert package_discount(1, TIERS) == 0


def test_courses_multiply_by_sessions():
    result = quote(item("laser-hair-removal", "60", "250", quantity=2, sessions=6))
    assert (result.total_min, result.total_max) == (Decimal("720.00"), Decimal("3000.00"))


def test_monthly_financing_is_an_amortised_instalment():
    # 1,200 over 12 months at 9.9 % APR: 105.44 a month (standard annuity formula).
    assert monthly_payment(Decimal("1200"), months=12, apr_percent=Decimal("9.9")) == Decimal("105.44")
    assert monthly_payment(Decimal("1200"), months=12, apr_percent=Decimal("0")) == Decimal("100.00")


def test_small_sums_are_not_financed():
    assert quote(item("peel", "90", "150"), minimum="250").financing is None
    assert quote(item("botox", "150", "250", quantity=2), minimum="250").financing.months == 12


@pytest.mark.parametrize(
    "items",
    [[], [item("botox", "1", "2"), item("botox", "1", "2")], [item("botox", "1", "2", quantity=0)]],
)
def test_impossible_baskets_are_refused(items):
    with pytest.raises(ValueError):
        quote(*items)
