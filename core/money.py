"""Money as the clinic's locale writes it: "£1,500", "1 500 €", "$1,500.50"."""

from decimal import Decimal

from babel import Locale
from babel.numbers import format_currency


def money(amount, *, currency: str, locale: str) -> str:
    """An amount in the clinic's currency; whole amounts without the pennies."""
    value = Decimal(str(amount))
    whole = value == value.to_integral_value()
    pattern = None
    if whole:
        # The locale's own pattern, with the fraction digits taken off.
        pattern = Locale.parse(locale).currency_formats["standard"].pattern
        pattern = pattern.replace(".00", "").replace(",00", "")
    return format_currency(value, currency, format=pattern, locale=locale, currency_digits=not whole)


def money_range(low, high, *, currency: str, locale: str) -> str:
    if Decimal(str(low)) == Decimal(str(high)):
        return money(low, currency=currency, locale=locale)
    return f"{money(low, currency=currency, locale=locale)}\u2013{money(high, currency=currency, locale=locale)}"
