"""A budget means the same level whichever tool it is given in: a figure typed in the
treatment finder, or a range chosen in the cost calculator."""

import pytest

from calculators.recommender import analyse_query
from calculators.services import BUDGET_RANGES, budget_range_level


def range_of(amount: int) -> str:
    return next(key for key, (_, lower, upper) in BUDGET_RANGES.items()
                if lower is not None and lower <= amount and (upper is None or amount < upper))


@pytest.mark.parametrize("amount", [0, 250, 400, 499, 500, 900, 1499, 1500, 3000, 4999, 5000, 12000])
def test_a_typed_budget_has_the_level_of_the_calculator_range_it_falls_in(amount):
    typed = analyse_query(f"my budget is £{amount}", []).budget_level
    assert typed == budget_range_level(range_of(amount))


def test_around_400_pounds_is_a_low_budget_like_under_500():
    assert analyse_query("around £400", []).budget_level == "low" == budget_range_level("under_500")


def test_not_sure_gives_no_budget_level():
    assert budget_range_level("not_sure") is None
