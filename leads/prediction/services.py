"""Training the conversion model on the leads with a known outcome, saving it with its
figures and the decision, and a lead's conversion probability from the active one.

The model's module (numpy, scikit-learn) is imported where it is used, not with this
one: the admin imports this module, and a process that has loaded numpy runs its
thread pool, with which `rescore_leads` cannot fork its workers (leads.rescoring)."""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import version as package_version
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from leads.models import ConversionModel, ConversionModelStatus, Lead
from leads.outcomes import outcome_cutoffs, outcome_labels
from leads.prediction.features import feature_in_words, lead_features, rule_scores_at

if TYPE_CHECKING:
    from leads.prediction import model as learning

TOP_PUSHES = 3
# Pushes smaller than this (on the log-odds) say nothing worth reading.
NOTABLE_PUSH = 0.05


@dataclass(frozen=True)
class TrainingReport:
    """What a training made: the figures and decision, and the saved record (None on a dry run)."""

    training: learning.Training
    as_of: datetime
    stale_after_days: int
    saved: ConversionModel | None


@dataclass(frozen=True)
class Prediction:
    """A lead's conversion probability, the model that gave it, and the features
    that pushed it up and down most (in words, with their push on the log-odds)."""

    probability: float
    model_version: int
    trained_at: datetime
    up: tuple[tuple[str, float], ...]
    down: tuple[tuple[str, float], ...]


def conversion_thresholds() -> learning.Thresholds:
    from leads.prediction import model as learning

    return learning.Thresholds(
        min_holdout_leads=settings.CONVERSION_MODEL_MIN_HOLDOUT_LEADS,
        min_holdout_each_class=settings.CONVERSION_MODEL_MIN_HOLDOUT_EACH_CLASS,
        min_auc_margin=settings.CONVERSION_MODEL_MIN_AUC_MARGIN,
    )


def training_examples(*, as_of: datetime, stale_after_days: int,
                      prices: Mapping[str, float]) -> list[learning.Example]:
    """The labelled leads (leads.outcomes), each described as it was at its outcome
    moment: its first move to booked, won or lost, or for a stale open lead the
    day it went stale (never later than the as-of), with the rule score of that moment."""
    from leads.prediction import model as learning

    labels = outcome_labels(as_of=as_of, stale_after_days=stale_after_days)
    cutoffs = outcome_cutoffs(labels, as_of=as_of, stale_after_days=stale_after_days)
    features = lead_features(cutoffs=cutoffs, prices=prices)
    scores = rule_scores_at(cutoffs)
    return [
        learning.Example(lead_id=label.lead_id, created_at=label.created_at, features=features[label.lead_id],
                         converted=label.converted, rule_score=scores[label.lead_id])
        for label in labels
    ]


def conversion_model_train(
    *,
    prices: Mapping[str, float],
    as_of: datetime | None = None,
    stale_after_days: int | None = None,
    by=None,
    dry_run: bool = False,
) -> TrainingReport:
    """Train on the leads made before `as_of` (now) with a known outcome, judge the
    model on the newest of them beside the rule score, and save it: active (retiring
    the one before) when it beats the rules by the margin with enough examples,
    refused with the reason otherwise. `prices`: each procedure's lowest price by
    slug (the catalog, which leads may not read). A dry run saves nothing."""
    from leads.prediction import model as learning

    as_of = as_of or timezone.now()
    stale_after_days = settings.LEAD_STALE_AFTER_DAYS if stale_after_days is None else stale_after_days
    prices = {slug: float(price) for slug, price in prices.items()}
    examples = training_examples(as_of=as_of, stale_after_days=stale_after_days, prices=prices)
    training = learning.train(examples, thresholds=conversion_thresholds())
    saved = None if dry_run else _save(training, as_of=as_of, stale_after_days=stale_after_days, prices=prices, by=by)
    return TrainingReport(training=training, as_of=as_of, stale_after_days=stale_after_days, saved=saved)


@transaction.atomic
def _save(training: learning.Training, *, as_of: datetime, stale_after_days: int, prices: Mapping[str, float],
          by) -> ConversionModel:
    latest = ConversionModel.objects.select_for_update().order_by("-version").first()
    evaluation = training.evaluation
    if training.decision.used:
        # One active at a time: the newcomer retires the one before (its only change).
        ConversionModel.objects.filter(status=ConversionModelStatus.ACTIVE).update(
            status=ConversionModelStatus.RETIRED)
    return ConversionModel.objects.create(
        version=(latest.version if latest else 0) + 1,
        trained_by=by,
        as_of=as_of,
        stale_after_days=stale_after_days,
        train_leads=evaluation.train_leads,
        train_positives=evaluation.train_positives,
        holdout_leads=evaluation.holdout_leads,
        holdout_positives=evaluation.holdout_positives,
        metrics={**evaluation.as_json(), "thresholds": vars(conversion_thresholds())},
        feature_names=list(training.feature_names),
        procedure_prices=dict(prices),
        # Pickled for our own database only (see ConversionModel.pipeline).
        pipeline=pickle.dumps(training.pipeline) if training.pipeline is not None else None,
        sklearn_version=package_version("scikit-learn"),
        status=ConversionModelStatus.ACTIVE if training.decision.used else ConversionModelStatus.REFUSED,
        reason=training.decision.reason[:300],
    )


def conversion_model_active() -> ConversionModel | None:
    return ConversionModel.objects.filter(status=ConversionModelStatus.ACTIVE).defer("pipeline").first()


_loaded: dict[tuple, object] = {}


def _pipeline_of(record: ConversionModel):
    """The record's fitted pipeline, unpickled once per process (a record never changes;
    the key names the training too, as a deleted test database's ids come back)."""
    key = (record.pk, record.version, record.trained_at)
    if key not in _loaded:
        blob = ConversionModel.objects.filter(pk=record.pk).values_list("pipeline", flat=True).get()
        _loaded.clear()
        _loaded[key] = pickle.loads(bytes(blob))
    return _loaded[key]


def lead_conversion_probability(lead: Lead, *, at: datetime | None = None) -> Prediction | None:
    """The lead's probability of converting from its journey so far (up to `at`, now),
    and the features that pushed it up and down most; None when no model is active,
    or when the active one was pickled by another scikit-learn (retrain it)."""
    record = conversion_model_active()
    if record is None or record.sklearn_version != package_version("scikit-learn"):
        return None
    from leads.prediction import model as learning
    features = lead_features(cutoffs={lead.pk: at or timezone.now()}, prices=record.procedure_prices)[lead.pk]
    explained = learning.explain(_pipeline_of(record), features)
    notable = [push for push in explained.pushes if abs(push.contribution) >= NOTABLE_PUSH]
    return Prediction(
        probability=explained.probability,
        model_version=record.version,
        trained_at=record.trained_at,
        up=tuple((feature_in_words(p.feature, p.value), p.contribution)
                 for p in notable if p.contribution > 0)[:TOP_PUSHES],
        down=tuple((feature_in_words(p.feature, p.value), p.contribution)
                   for p in notable if p.contribution < 0)[:TOP_PUSHES],
    )
