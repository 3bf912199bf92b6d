"""Rule points calibrated from outcomes: pure functions on a table of leads (which
rules held for each, whether it converted), no data access (leads.calibration
gathers the table).

- `rule_lift`: each rule's conversion for the leads it held for against those it did
  not, with the ratio's and the difference's 95 % intervals (core.stats) and the counts
  behind them; a rule with too few leads on either side says so (`enough`).
- `points_proposed`: a regularised (L2) logistic regression of conversion on the
  rules' indicators, its strength chosen by cross-validation within the data given;
  each rule's coefficient scaled so the best journey the rules allow (the strongest
  base and every positive bonus) is worth 100. A rule with too few examples keeps its
  points. The proposal ranks journeys as the regression does, except that bases do
  not add up (the engine takes the highest).
- `ranking_quality`: how well scores put converters first: ROC AUC, the conversion of
  the top 20 % (precision), and the score distribution by level.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core import stats
from scoring import engine

if TYPE_CHECKING:
    import numpy as np

# numpy and scikit-learn are imported where they are used, not with this module: the
# admin imports it, and a process that has loaded numpy runs its thread pool, with
# which `rescore_leads` cannot fork its workers (leads.rescoring).

# A rule's lift is estimated only with at least this many leads on each side, and this
# many converted and unconverted leads among those it held for.
MIN_LEADS_EACH_SIDE = 30
MIN_OUTCOMES_EACH_KIND = 5
# The share of leads called first, for "precision at the top".
TOP_SHARE = 0.2
# Per-occurrence rules enter the regression as their count, capped here.
MAX_OCCURRENCES = 5


@dataclass(frozen=True)
class RuleLift:
    rule: str
    held: int  # leads the rule held for
    held_converted: int
    not_held: int
    not_held_converted: int
    ratio: float | None = None
    ratio_interval: tuple[float, float] | None = None
    difference: float | None = None
    difference_interval: tuple[float, float] | None = None

    @property
    def enough(self) -> bool:
        return (
            min(self.held, self.not_held) >= MIN_LEADS_EACH_SIDE
            and min(self.held_converted, self.held - self.held_converted) >= MIN_OUTCOMES_EACH_KIND
        )

    @property
    def why_not(self) -> str:
        """Why the rule gets no proposal ('' when it gets one)."""
        if self.enough:
            return ""
        return (f"too few examples: {self.held} leads it held for ({self.held_converted} converted), "
                f"{self.not_held} it did not; at least {MIN_LEADS_EACH_SIDE} each side and "
                f"{MIN_OUTCOMES_EACH_KIND} converted and not converted are needed")

    def as_data(self) -> dict:
        return {
            "rule": self.rule, "held": self.held, "held_converted": self.held_converted,
            "not_held": self.not_held, "not_held_converted": self.not_held_converted,
            "ratio": self.ratio, "ratio_interval": self.ratio_interval, "difference": self.difference,
            "difference_interval": self.difference_interval, "enough": self.enough, "why_not": self.why_not,
        }


def rule_lift(rule: str, held: Sequence[bool], converted: Sequence[bool]) -> RuleLift:
    """The rule's lift over the leads given (held[i]: it held for lead i)."""
    held_n = sum(1 for h in held if h)
    held_conv = sum(1 for h, c in zip(held, converted) if h and c)
    not_n = len(held) - held_n
    not_conv = sum(1 for h, c in zip(held, converted) if not h and c)
    lift = RuleLift(rule, held_n, held_conv, not_n, not_conv)
    if not (held_n and not_n):
        return lift
    comparison = stats.compare(held_conv, held_n, not_conv, not_n)
    return RuleLift(rule, held_n, held_conv, not_n, not_conv, ratio=comparison.ratio,
                    ratio_interval=comparison.ratio_interval, difference=comparison.difference,
                    difference_interval=comparison.difference_interval)


def indicator_matrix(rules: Sequence[engine.Rule], held: Sequence[Mapping[str, int]]) -> np.ndarray:
    """One row per lead, one column per rule: 1 if it held (the count, capped, for a
    rule given on every occurrence)."""
    import numpy as np

    matrix = np.zeros((len(held), len(rules)))
    for row, counts in enumerate(held):
        for column, rule in enumerate(rules):
            count = counts.get(rule.name, 0)
            matrix[row, column] = min(count, MAX_OCCURRENCES) if rule.per_occurrence else float(count > 0)
    return matrix


def points_proposed(
    rules: Sequence[engine.Rule], held: Sequence[Mapping[str, int]], converted: Sequence[bool],
    *, calibrated: set[str],
) -> dict[str, int]:
    """New points for the `calibrated` rules (the others keep theirs); see the module
    docstring. Needs both outcomes among the leads."""
    import numpy as np
    from sklearn.linear_model import LogisticRegressionCV

    chosen = [rule for rule in rules if rule.name in calibrated]
    if not chosen:
        return {}
    x = indicator_matrix(chosen, held)
    y = np.array([bool(c) for c in converted])
    folds = max(2, min(5, int(y.sum()), int((~y).sum())))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on tiny, separable data
        model = LogisticRegressionCV(Cs=10, cv=folds, scoring="neg_log_loss", max_iter=2000)
        model.fit(x, y)
    weights = dict(zip((rule.name for rule in chosen), model.coef_[0]))
    # The best journey: the strongest base plus every positive bonus (a per-occurrence
    # bonus at its cap), as the engine would add them up.
    best_base = max((weights[r.name] for r in chosen if r.kind == engine.BASE), default=0.0)
    best = max(best_base, 0.0) + sum(
        weights[r.name] * (MAX_OCCURRENCES if r.per_occurrence else 1)
        for r in chosen if r.kind == engine.BONUS and weights[r.name] > 0
    )
    scale = engine.MAX_SCORE / best if best > 0 else 0.0
    return {
        name: max(-engine.MAX_RULE_POINTS, min(engine.MAX_RULE_POINTS, round(weight * scale)))
        for name, weight in weights.items()
    }


@dataclass(frozen=True)
class RankingQuality:
    leads: int
    converted: int
    auc: float | None  # None without both outcomes
    top_share: float
    top_leads: int
    top_precision: float | None
    levels: dict[str, int]

    def as_data(self) -> dict:
        return {"leads": self.leads, "converted": self.converted, "auc": self.auc, "top_share": self.top_share,
                "top_leads": self.top_leads, "top_precision": self.top_precision, "levels": self.levels}


def ranking_quality(
    scores: Sequence[int], converted: Sequence[bool], *, thresholds: engine.Thresholds,
    top_share: float = TOP_SHARE,
) -> RankingQuality:
    """How well these scores put the leads that converted first. The top share is
    taken by score; leads tied at its edge count by their group's conversion (the
    order staff would call them in is a coin toss), so a score that gives everyone
    100 does exactly as well as calling at random."""
    from sklearn.metrics import roc_auc_score

    y = [bool(c) for c in converted]
    top = max(1, math.ceil(len(y) * top_share)) if y else 0
    levels = {engine.LOW: 0, engine.MEDIUM: 0, engine.HIGH: 0}
    by_score: dict[int, list[int]] = {}
    for score, outcome in zip(scores, y):
        levels[engine.level_for(score, thresholds)] += 1
        group = by_score.setdefault(score, [0, 0])
        group[0] += 1
        group[1] += outcome
    taken, hits = 0, 0.0
    for score in sorted(by_score, reverse=True):
        size, group_converted = by_score[score]
        share = min(size, top - taken)
        hits += group_converted * share / size
        taken += share
        if taken >= top:
            break
    both = 0 < sum(y) < len(y)
    return RankingQuality(
        leads=len(y), converted=sum(y),
        auc=float(roc_auc_score(y, scores)) if both else None,
        top_share=top_share, top_leads=top,
        top_precision=hits / top if top else None,
        levels=levels,
    )
