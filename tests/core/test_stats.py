"""core.stats against the published examples of each method."""

import random

import pytest

from core import stats


@pytest.mark.parametrize("successes, trials, expected", [
    # Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I, method 3.
    (81, 263, (0.2553, 0.3662)),
    (15, 148, (0.0624, 0.1605)),
    (0, 20, (0.0, 0.1611)),
    (1, 29, (0.0061, 0.1718)),
])
def test_wilson_intervals_match_newcombes_table(successes, trials, expected):
    assert stats.wilson_interval(successes, trials) == pytest.approx(expected, abs=5e-5)


def test_a_rate_of_none_or_all_reaches_the_bound_exactly():
    assert stats.wilson_interval(0, 20)[0] == 0.0
    assert stats.wilson_interval(20, 20)[1] == 1.0
    assert stats.wilson_interval(0, 0) == (0.0, 1.0)


def test_the_difference_interval_matches_newcombes_example():
    # Newcombe (1998), "Interval estimation for the difference between independent
    # proportions", example (a): 56/70 against 48/80, method 10: 0.0524 to 0.3339.
    assert stats.newcombe_interval(56, 70, 48, 80) == pytest.approx((0.0524, 0.3339), abs=5e-5)


def test_the_aspirin_study_as_agresti_reports_it():
    # Physicians' Health Study (Agresti, Categorical Data Analysis): heart attacks on
    # placebo 189 of 11,034, on aspirin 104 of 11,037. Pearson's X2 = 25.01; relative
    # risk 1.82, 95 % interval 1.43 to 2.31.
    comparison = stats.compare(189, 11034, 104, 11037)
    assert comparison.z**2 == pytest.approx(25.01, abs=0.005)
    assert comparison.ratio == pytest.approx(1.818, abs=5e-4)
    assert comparison.ratio_interval == pytest.approx((1.433, 2.306), abs=5e-4)
    assert comparison.significant()
    assert comparison.p_value < 1e-6


def test_a_small_difference_on_few_trials_is_not_significant():
    comparison = stats.compare(6, 50, 4, 50)
    assert comparison.difference == pytest.approx(0.04)
    assert comparison.difference_interval[0] < 0 < comparison.difference_interval[1]
    assert not comparison.significant()


def test_no_conversion_in_a_group_has_no_ratio():
    comparison = stats.compare(5, 40, 0, 40)
    assert comparison.ratio is None and comparison.ratio_interval is None
    assert stats.compare(0, 10, 0, 10).p_value == 1.0


@pytest.mark.parametrize("args", [(5, 4, 1, 10), (1, 10, -1, 10), (1, 10, 0, 0)])
def test_counts_that_are_not_counts_are_refused(args):
    with pytest.raises(ValueError):
        stats.compare(*args)


def test_the_sample_size_gives_the_power_it_promises():
    # The formula worked by hand: 65 % against 85 %, 5 % level, 80 % power:
    # (1.960 * sqrt(2 * 0.75 * 0.25) + 0.8416 * sqrt(0.2275 + 0.1275))^2 / 0.2^2 = 72.4.
    assert stats.sample_size_per_group(0.65, 0.85) == 73
    # And at that size a simulated experiment finds the difference about 80 % of the time.
    n, found, rounds = stats.sample_size_per_group(0.10, 0.15), 0, 2000
    rng = random.Random(12)
    for _ in range(rounds):
        a = sum(rng.random() < 0.10 for _ in range(n))
        b = sum(rng.random() < 0.15 for _ in range(n))
        found += stats.compare(a, n, b, n).significant()
    assert found / rounds == pytest.approx(0.80, abs=0.03)
