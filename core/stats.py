"""Confidence intervals and tests for conversion rates: how sure staff can be that a
rule's leads convert better, or that one variant of a form beats another.

Pure functions on counts (the standard library's normal distribution, no data
access), each the textbook method named in its docstring; tests/core/test_stats.py
checks them against the published examples."""

import math
from dataclasses import dataclass
from statistics import NormalDist

STANDARD_NORMAL = NormalDist()


def _z(confidence: float) -> float:
    """The two-sided critical value: 1.96 for 95 %."""
    if not 0 < confidence < 1:
        raise ValueError("The confidence level is a fraction between 0 and 1, such as 0.95.")
    return STANDARD_NORMAL.inv_cdf(0.5 + confidence / 2)


def _check_counts(successes: int, trials: int) -> None:
    if trials < 0 or not 0 <= successes <= max(trials, 0):
        raise ValueError(f"{successes} successes out of {trials} trials is not a count.")


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval for a proportion: unlike the usual p ± z·se it stays
    within 0 and 1 and is honest for small counts and rates near 0 or 1. With no
    trials, nothing is known: (0, 1)."""
    _check_counts(successes, trials)
    if trials == 0:
        return 0.0, 1.0
    z = _z(confidence)
    p, n = successes / trials, trials
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # None converted (or all did): the interval reaches 0 (or 1) exactly, not a rounding off it.
    low = 0.0 if successes == 0 else centre - half
    high = 1.0 if successes == trials else centre + half
    return low, high


@dataclass(frozen=True)
class Comparison:
    """Group A's conversion against group B's."""

    rate_a: float
    rate_b: float
    difference: float  # rate_a - rate_b
    difference_interval: tuple[float, float]
    ratio: float | None  # rate_a / rate_b ("lift"); None when B never converted
    ratio_interval: tuple[float, float] | None
    z: float
    p_value: float

    def significant(self, alpha: float = 0.05) -> bool:
        return self.p_value < alpha


def newcombe_interval(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int, confidence: float = 0.95
) -> tuple[float, float]:
    """Newcombe's hybrid score interval (his method 10) for the difference of two
    proportions, built from each group's Wilson interval."""
    low_a, high_a = wilson_interval(successes_a, trials_a, confidence)
    low_b, high_b = wilson_interval(successes_b, trials_b, confidence)
    p_a, p_b = successes_a / trials_a, successes_b / trials_b
    difference = p_a - p_b
    below = math.sqrt((p_a - low_a) ** 2 + (high_b - p_b) ** 2)
    above = math.sqrt((high_a - p_a) ** 2 + (p_b - low_b) ** 2)
    return difference - below, difference + above


def ratio_interval(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int, confidence: float = 0.95
) -> tuple[float, float] | None:
    """The Katz log interval for the ratio of two proportions (the relative risk); None
    when either group has no success (the log is then undefined)."""
    if not successes_a or not successes_b:
        return None
    ratio = (successes_a / trials_a) / (successes_b / trials_b)
    spread = _z(confidence) * math.sqrt(
        1 / successes_a - 1 / trials_a + 1 / successes_b - 1 / trials_b
    )
    return ratio * math.exp(-spread), ratio * math.exp(spread)


def two_proportion_z_test(successes_a: int, trials_a: int, successes_b: int, trials_b: int) -> tuple[float, float]:
    """The pooled two-proportion z test (the square of z is Pearson's chi-squared on
    the 2x2 table): z, and the two-sided p-value. With no variation at all (every
    trial a success, or none) there is nothing to test: z 0, p 1."""
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    variance = pooled * (1 - pooled) * (1 / trials_a + 1 / trials_b)
    if variance == 0:
        return 0.0, 1.0
    z = (successes_a / trials_a - successes_b / trials_b) / math.sqrt(variance)
    return z, 2 * (1 - STANDARD_NORMAL.cdf(abs(z)))


def compare(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int, confidence: float = 0.95
) -> Comparison:
    """Everything staff read off two groups' conversion: both rates, their difference
    and ratio with intervals, and the test of whether they differ."""
    for successes, trials in ((successes_a, trials_a), (successes_b, trials_b)):
        _check_counts(successes, trials)
        if trials == 0:
            raise ValueError("Both groups need at least one trial to be compared.")
    rate_a, rate_b = successes_a / trials_a, successes_b / trials_b
    z, p_value = two_proportion_z_test(successes_a, trials_a, successes_b, trials_b)
    return Comparison(
        rate_a=rate_a,
        rate_b=rate_b,
        difference=rate_a - rate_b,
        difference_interval=newcombe_interval(successes_a, trials_a, successes_b, trials_b, confidence),
        ratio=rate_a / rate_b if rate_b else None,
        ratio_interval=ratio_interval(successes_a, trials_a, successes_b, trials_b, confidence),
        z=z,
        p_value=p_value,
    )


def sample_size_per_group(baseline: float, expected: float, *, alpha: float = 0.05, power: float = 0.8) -> int:
    """How many trials each group needs for the two-proportion test (two-sided, level
    `alpha`) to detect a change from `baseline` to `expected` with probability `power`
    (Fleiss's formula, without continuity correction)."""
    if not (0 < baseline < 1 and 0 < expected < 1) or baseline == expected:
        raise ValueError("The two rates must be different fractions between 0 and 1.")
    z_alpha, z_power = _z(1 - alpha), STANDARD_NORMAL.inv_cdf(power)
    mean = (baseline + expected) / 2
    spread = (
        z_alpha * math.sqrt(2 * mean * (1 - mean))
        + z_power * math.sqrt(baseline * (1 - baseline) + expected * (1 - expected))
    )
    return math.ceil(spread**2 / (baseline - expected) ** 2)
