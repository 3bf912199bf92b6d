"""Cost estimates: price lines for one or several treatments, a package discount
when several are combined, and a monthly financing estimate. Pure arithmetic on
Decimals, no database."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


@dataclass(frozen=True)
class PriceItem:
    slug: str
    name: str
    unit_label: str         # "per area", "per ml syringe"...
    price_min: Decimal      # for one unit
    price_max: Decimal
    quantity: int           # areas, ml or 1
    sessions: int
    amount_label: str = ""  # the quantity in words: "2 areas", "1 ml"


@dataclass(frozen=True)
class QuoteLine:
    slug: str
    name: str
    unit_label: str
    amount_label: str
    quantity: int
    sessions: int
    price_min: Decimal
    price_max: Decimal
    total_min: Decimal
    total_max: Decimal


@dataclass(frozen=True)
class Financing:
    months: int
    apr_percent: Decimal
    monthly_min: Decimal
    monthly_max: Decimal


@dataclass(frozen=True)
class Quote:
    lines: tuple[QuoteLine, ...]
    subtotal_min: Decimal
    subtotal_max: Decimal
    discount_percent: Decimal
    discount_min: Decimal
    discount_max: Decimal
    total_min: Decimal
    total_max: Decimal
    financing: Financing | None

    def as_data(self) -> dict:
        """The whole quote as interaction data (JSON: amounts as strings), enough to
        show it again exactly as computed."""
        return {
            "procedures": [line.slug for line in self.lines],
            "lines": [
                {
                    "procedure": line.slug, "name": line.name, "unit": line.unit_label, "amount": line.amount_label,
                    "quantity": line.quantity, "sessions": line.sessions,
                    "price_min": str(line.price_min), "price_max": str(line.price_max),
                    "total_min": str(line.total_min), "total_max": str(line.total_max),
                }
                for line in self.lines
            ],
            "subtotal_min": str(self.subtotal_min),
            "subtotal_max": str(self.subtotal_max),
            "discount_percent": str(self.discount_percent),
            "discount_min": str(self.discount_min),
            "discount_max": str(self.discount_max),
            "total_min": str(self.total_min),
            "total_max": str(self.total_max),
            "financing": None if self.financing is None else {
                "months": self.financing.months,
                "apr_percent": str(self.financing.apr_percent),
                "monthly_min": str(self.financing.monthly_min),
                "monthly_max": str(self.financing.monthly_max),
            },
        }


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def package_discount(treatment_count: int, tiers: Sequence[tuple[int, Decimal]]) -> Decimal:
    """The best discount percentage whose minimum number of treatments is met."""
    eligible = [percent for minimum, percent in tiers if treatment_count >= minimum]
    return max(eligible, default=Decimal("0"))


def monthly_payment(principal: Decimal, *, months: int, apr_percent: Decimal) -> Decimal:
    """Level monthly instalment of an amortised loan (0 % APR: equal parts)."""
    if months <= 0:
        raise ValueError("Financing needs at least one month.")
    if principal <= 0:
        return Decimal("0.00")
    rate = apr_percent / Decimal(1200)
    if rate == 0:
        return _money(principal / months)
    factor = (1 + rate) ** months
    return _money(principal * rate * factor / (factor - 1))


def build_quote(
    items: Sequence[PriceItem],
    *,
    discount_tiers: Sequence[tuple[int, Decimal]],
    financing_months: int,
    financing_apr_percent: Decimal,
    financing_minimum: Decimal = Decimal("0"),
) -> Quote:
    """Price the chosen treatments. Financing is offered when the top of the range
    reaches `financing_minimum` (lenders do not finance small sums)."""
    if not items:
        raise ValueError("Choose at least one treatment.")
    slugs = [item.slug for item in items]
    if len(set(slugs)) != len(slugs):
        raise ValueError("Each treatment can be chosen once; set its quantity instead.")
    lines = []
    for item in items:
        if item.quantity < 1 or item.sessions < 1:
            raise ValueError(f"{item.name}: quantity and sessions must be at least 1.")
        units = item.quantity * item.sessions
        lines.append(
            QuoteLine(
                slug=item.slug, name=item.name, unit_label=item.unit_label,
                amount_label=item.amount_label or str(item.quantity), quantity=item.quantity, sessions=item.sessions,
                price_min=item.price_min, price_max=item.price_max,
                total_min=_money(item.price_min * units), total_max=_money(item.price_max * units),
            )
        )
    subtotal_min = sum((line.total_min for line in lines), Decimal("0"))
    subtotal_max = sum((line.total_max for line in lines), Decimal("0"))
    percent = package_discount(len(lines), discount_tiers)
    discount_min = _money(subtotal_min * percent / 100)
    discount_max = _money(subtotal_max * percent / 100)
    total_min, total_max = subtotal_min - discount_min, subtotal_max - discount_max
    financing = None
    if total_max >= financing_minimum:
        financing = Financing(
            months=financing_months,
            apr_percent=financing_apr_percent,
            monthly_min=monthly_payment(total_min, months=financing_months, apr_percent=financing_apr_percent),
            monthly_max=monthly_payment(total_max, months=financing_months, apr_percent=financing_apr_percent),
        )
    return Quote(
        lines=tuple(lines),
        subtotal_min=subtotal_min, subtotal_max=subtotal_max,
        discount_percent=percent, discount_min=discount_min, discount_max=discount_max,
        total_min=total_min, total_max=total_max,
        financing=financing,
    )
