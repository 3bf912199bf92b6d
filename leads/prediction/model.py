"""The conversion model itself, pure: fit on the earlier leads, measure on the later
ones beside the rule score, decide whether it is used, explain one prediction.
No database here: it takes plain examples (leads.prediction.features made them)
and returns frozen dataclasses, so it is tested without one.

The model is a regularised logistic regression on one-hot categories and
standardised numbers (scikit-learn: DictVectorizer, StandardScaler,
LogisticRegression). Chosen over boosted trees because each prediction splits
exactly into the features' pushes: on the standardised scale every feature's mean
is 0, so a feature's contribution to the log-odds is its coefficient times its
value, coef × (x − mean) / sd, and the contributions and the intercept sum to the
prediction's log-odds.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

import numpy as np
from scipy.stats import rankdata
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

# The newest 30 % of the labelled leads (by creation) are held out, split off before
# any tuning: the model is judged on leads later than any it learned from, as it
# will be used.
HOLDOUT_SHARE = 0.3
TOP_SHARE = 0.1
# Regularisation strengths tried by cross-validation inside the training part only.
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)
CV_FOLDS = 5
BOOTSTRAP_ROUNDS = 400
SEED = 12
# Rule-score bands for its calibration table (scores bunch at the top: README).
SCORE_BANDS = ((0, 59), (60, 69), (70, 79), (80, 89), (90, 100))
PROBABILITY_BINS = 5


@dataclass(frozen=True)
class Example:
    """One labelled lead: what was known at its cutoff, and what became of it."""

    lead_id: int
    created_at: datetime
    features: dict
    converted: bool
    rule_score: int


@dataclass(frozen=True)
class Thresholds:
    """When a model may be used: enough hold-out examples of each outcome, and an AUC
    above the rule score's by `min_auc_margin` that is not chance (the paired
    bootstrap interval of the difference lies above 0)."""

    min_holdout_leads: int
    min_holdout_each_class: int
    min_auc_margin: float


@dataclass(frozen=True)
class CalibrationRow:
    label: str
    count: int
    predicted: float  # mean predicted probability (model) or mean score (rule)
    observed: float  # share that converted


@dataclass(frozen=True)
class Figures:
    """How one ranking did on the hold-out."""

    roc_auc: float | None
    precision_at_top: float | None
    calibration: tuple[CalibrationRow, ...]
    brier: float | None = None


@dataclass(frozen=True)
class Evaluation:
    train_leads: int
    train_positives: int
    holdout_leads: int
    holdout_positives: int
    model: Figures | None
    rules: Figures | None
    auc_margin: float | None = None
    margin_interval: tuple[float, float] | None = None
    regularisation: float | None = None

    def as_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Decision:
    used: bool
    reason: str


@dataclass(frozen=True)
class Training:
    pipeline: Pipeline | None
    evaluation: Evaluation
    decision: Decision
    feature_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Push:
    """One feature's push on a prediction: its value and its contribution to the log-odds."""

    feature: str
    value: object
    contribution: float


@dataclass(frozen=True)
class Explained:
    probability: float
    pushes: tuple[Push, ...] = field(default_factory=tuple)


def split_by_time(examples: Sequence[Example], holdout_share: float = HOLDOUT_SHARE) -> tuple[list, list]:
    """The earlier leads to learn from and the later ones to judge on, by creation time."""
    ordered = sorted(examples, key=lambda example: (example.created_at, example.lead_id))
    cut = len(ordered) - math.ceil(len(ordered) * holdout_share)
    return ordered[:cut], ordered[cut:]


def pipeline_fit(features: Sequence[dict], labels: Sequence[bool]) -> tuple[Pipeline, float]:
    """The pipeline fitted on these examples, its regularisation chosen by stratified
    cross-validation among them (AUC), and the strength chosen."""
    pipeline = Pipeline([
        ("encode", DictVectorizer(sparse=False, sort=True)),
        ("scale", StandardScaler()),
        ("classify", LogisticRegression(max_iter=1000)),
    ])
    folds = min(CV_FOLDS, sum(labels), len(labels) - sum(labels))
    if folds < 2:
        pipeline.set_params(classify__C=C_GRID[len(C_GRID) // 2]).fit(list(features), list(labels))
        return pipeline, C_GRID[len(C_GRID) // 2]
    search = GridSearchCV(pipeline, {"classify__C": list(C_GRID)}, scoring="roc_auc",
                          cv=StratifiedKFold(folds, shuffle=True, random_state=SEED))
    search.fit(list(features), list(labels))
    return search.best_estimator_, search.best_params_["classify__C"]


def probabilities(pipeline: Pipeline, features: Sequence[dict]) -> np.ndarray:
    return pipeline.predict_proba(list(features))[:, 1]


def precision_at_top(labels: Sequence[bool], scores: Sequence[float], share: float = TOP_SHARE) -> float | None:
    """The share converted among the top `share` by score. Leads tied at the cut
    (rule scores are multiples of 5) count by their mean, as a fair tie-break would."""
    if not len(labels):
        return None
    y, s = np.asarray(labels, dtype=float), np.asarray(scores, dtype=float)
    k = max(1, math.ceil(len(y) * share))
    cut = np.sort(s)[::-1][k - 1]
    above, tied = s > cut, s == cut
    return float((y[above].sum() + (k - above.sum()) * y[tied].mean()) / k)


def roc_auc(labels: Sequence[bool], scores: Sequence[float]) -> float | None:
    return float(roc_auc_score(labels, scores)) if 0 < sum(labels) < len(labels) else None


def calibration_by_probability(labels: Sequence[bool], probs: Sequence[float],
                               bins: int = PROBABILITY_BINS) -> tuple[CalibrationRow, ...]:
    """Predicted against observed in bins of equal size by predicted probability."""
    y, p = np.asarray(labels, dtype=float), np.asarray(probs, dtype=float)
    order = np.argsort(p, kind="stable")
    rows = []
    for part in np.array_split(order, min(bins, len(order))):
        if len(part):
            rows.append(CalibrationRow(label=f"{p[part].min():.0%}–{p[part].max():.0%}", count=len(part),
                                       predicted=float(p[part].mean()), observed=float(y[part].mean())))
    return tuple(rows)


def calibration_by_score_band(labels: Sequence[bool], scores: Sequence[float]) -> tuple[CalibrationRow, ...]:
    """The rule score has no probability: each score band's mean score and conversion."""
    y, s = np.asarray(labels, dtype=float), np.asarray(scores, dtype=float)
    rows = []
    for low, high in SCORE_BANDS:
        inside = (s >= low) & (s <= high)
        if inside.any():
            rows.append(CalibrationRow(label=f"{low}–{high}", count=int(inside.sum()),
                                       predicted=float(s[inside].mean()), observed=float(y[inside].mean())))
    return tuple(rows)


def auc_margin_interval(labels: Sequence[bool], model: Sequence[float], rules: Sequence[float],
                        rounds: int = BOOTSTRAP_ROUNDS, seed: int = SEED) -> tuple[float, float]:
    """The 95 % paired bootstrap interval of AUC(model) − AUC(rules) on the hold-out:
    the same resampled leads judge both, so their shared luck cancels."""
    y, a, b = np.asarray(labels, dtype=bool), np.asarray(model, dtype=float), np.asarray(rules, dtype=float)
    rnd = np.random.default_rng(seed)
    differences = []
    for _ in range(rounds):
        sample = rnd.integers(0, len(y), len(y))
        if 0 < y[sample].sum() < len(sample):
            differences.append(_auc(y[sample], a[sample]) - _auc(y[sample], b[sample]))
    if not differences:
        return (-1.0, 1.0)
    low, high = np.percentile(differences, [2.5, 97.5])
    return float(low), float(high)


def _auc(y: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC by the Mann-Whitney rank sum (ties at half), what roc_auc_score gives,
    without its checks: the bootstrap calls it hundreds of times."""
    ranks = rankdata(scores)
    positives = y.sum()
    return float((ranks[y].sum() - positives * (positives + 1) / 2) / (positives * (len(y) - positives)))


def rule_figures(labels: Sequence[bool], scores: Sequence[float]) -> Figures:
    return Figures(roc_auc=roc_auc(labels, scores), precision_at_top=precision_at_top(labels, scores),
                   calibration=calibration_by_score_band(labels, scores))


def model_figures(labels: Sequence[bool], probs: Sequence[float]) -> Figures:
    return Figures(roc_auc=roc_auc(labels, probs), precision_at_top=precision_at_top(labels, probs),
                   calibration=calibration_by_probability(labels, probs),
                   brier=float(brier_score_loss(labels, probs)) if len(labels) else None)


def decide(evaluation: Evaluation, thresholds: Thresholds) -> Decision:
    """Used only when the hold-out is large enough to judge and the model beats the
    rules there by the margin, beyond chance; otherwise refused, saying why."""
    holdout, positives = evaluation.holdout_leads, evaluation.holdout_positives
    fewest = min(positives, holdout - positives)
    if holdout < thresholds.min_holdout_leads or fewest < thresholds.min_holdout_each_class:
        return Decision(False, (
            f"too few examples to judge: {holdout} hold-out leads ({positives} converted, "
            f"{holdout - positives} not); at least {thresholds.min_holdout_leads} and "
            f"{thresholds.min_holdout_each_class} of each are needed"))
    margin, (low, _) = evaluation.auc_margin, evaluation.margin_interval
    if margin < thresholds.min_auc_margin:
        return Decision(False, (
            f"does not beat the rules: AUC {evaluation.model.roc_auc:.3f} against the rule score's "
            f"{evaluation.rules.roc_auc:.3f} ({margin:+.3f}; at least +{thresholds.min_auc_margin:.2f} needed)"))
    if low <= 0:
        return Decision(False, (
            f"its lead over the rules could be chance: AUC {margin:+.3f}, 95 % interval "
            f"{low:+.3f} to {evaluation.margin_interval[1]:+.3f}"))
    return Decision(True, f"beats the rules by {margin:.2f} AUC ({evaluation.model.roc_auc:.3f} against "
                          f"{evaluation.rules.roc_auc:.3f}, 95 % interval {low:+.3f} to "
                          f"{evaluation.margin_interval[1]:+.3f})")


def train(examples: Sequence[Example], *, thresholds: Thresholds) -> Training:
    """Split by time, fit on the earlier part (tuned inside it), judge on the later
    part beside the rule score, and decide."""
    learn, judge = split_by_time(examples)
    learn_labels, judge_labels = [e.converted for e in learn], [e.converted for e in judge]
    counts = dict(train_leads=len(learn), train_positives=sum(learn_labels),
                  holdout_leads=len(judge), holdout_positives=sum(judge_labels))
    if not 0 < sum(learn_labels) < len(learn_labels) or not judge:
        evaluation = Evaluation(**counts, model=None, rules=None)
        return Training(None, evaluation, Decision(False, (
            f"too few examples to learn from: {len(learn)} earlier leads ({sum(learn_labels)} converted) "
            f"and {len(judge)} later ones")))
    pipeline, strength = pipeline_fit([e.features for e in learn], learn_labels)
    probs = probabilities(pipeline, [e.features for e in judge])
    rule_scores = [e.rule_score for e in judge]
    model, rules = model_figures(judge_labels, probs), rule_figures(judge_labels, rule_scores)
    margin = interval = None
    if model.roc_auc is not None and rules.roc_auc is not None:
        margin = model.roc_auc - rules.roc_auc
        interval = auc_margin_interval(judge_labels, probs, rule_scores)
    evaluation = Evaluation(**counts, model=model, rules=rules, auc_margin=margin, margin_interval=interval,
                            regularisation=strength)
    decision = decide(evaluation, thresholds)
    return Training(pipeline, evaluation, decision, tuple(pipeline.named_steps["encode"].feature_names_))


def explain(pipeline: Pipeline, features: dict) -> Explained:
    """The probability for one lead and each feature's push on its log-odds, the
    one-hot columns of a category summed into the category, strongest first."""
    encode, scale, classify = (pipeline.named_steps[name] for name in ("encode", "scale", "classify"))
    standardised = scale.transform(encode.transform([features]))[0]
    pushes: dict[str, float] = defaultdict(float)
    for column, weight, x in zip(encode.feature_names_, classify.coef_[0], standardised, strict=True):
        pushes[column.split(encode.separator, 1)[0]] += float(weight * x)
    probability = float(classify.predict_proba([standardised])[0, 1])
    ranked = sorted(pushes.items(), key=lambda item: -abs(item[1]))
    return Explained(probability, tuple(Push(name, features.get(name), push) for name, push in ranked))
