"""Calibrate the rules' points from outcomes (`manage.py calibrate_rules`, and the
lead-scoring page's button): measure each rule's lift, propose points, show what they
would do, and let staff accept them as a new rule version. Nothing changes by itself.

The data: the leads with a known outcome (leads.outcomes), oldest first, split in
two halves by when they were made, before anything is fitted. The first half fits
the proposal (each rule's lift, which rules have enough examples, the regression:
scoring.calibration); the second, untouched, is where the current points and the
proposed ones are compared (ROC AUC, conversion of the top 20 %, the levels). A
proposal may be accepted only if it ranks the held-out leads better than the current
points by CALIBRATION_MIN_AUC_GAIN, with enough of them.

Each lead is scored on its journey as it stood when its outcome became known (its
first move to booked, won or lost; the day a lead left open went stale): what
happened after cannot explain the outcome. Staff adjustments are left out: they are staff's
knowledge, not a rule's. The visits' facts are rebuilt from the interactions (as
leads.score_history does for a past date).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from interactions.journey import visits_in
from interactions.models import UserInteraction, UserSession
from leads.models import RuleCalibration
from leads.outcomes import LabelledLead, outcome_cutoffs, outcome_labels
from leads.tasks import calibrate_rules
from scoring import calibration as calibration_math
from scoring import engine, incremental
from scoring.models import LeadScoringRule
from scoring.services import scoring_config
from scoring.versions import rule_version_get, rule_version_record, ruleset_of

CHUNK = 2000
# The held-out half needs this many leads, and this many of each outcome, to judge by.
MIN_HELD_OUT = 100
MIN_HELD_OUT_EACH = 10


@dataclass(frozen=True)
class LeadJourney:
    lead_id: int
    converted: bool
    steps: list[engine.Step]
    facts: engine.SessionFacts
    cutoff: datetime  # scored as of then (score decay)


def lead_journeys_until_outcome(
    labelled: Sequence[LabelledLead], *, as_of: datetime, stale_after_days: int
) -> Iterator[LeadJourney]:
    """Each labelled lead's journey up to when its outcome became known
    (leads.outcomes.outcome_cutoffs), a chunk of leads at a time (a few queries a
    chunk, whatever the number of leads)."""
    for start in range(0, len(labelled), CHUNK):
        chunk = labelled[start:start + CHUNK]
        ids = [lead.lead_id for lead in chunk]
        cutoffs = outcome_cutoffs(chunk, as_of=as_of, stale_after_days=stale_after_days)
        rows = defaultdict(list)
        for row in (UserInteraction.objects.filter(lead_id__in=ids, created_at__lte=as_of)
                    .exclude(interaction_type=engine.ADJUSTMENT)
                    .order_by("lead_id", "created_at", "pk")
                    .values_list("lead_id", "created_at", "interaction_type", "data", "engagement_seconds",
                                 "session_id")):
            rows[row[0]].append(row)
        utm = {}
        for lead_id, *campaign in (UserSession.objects.filter(lead_id__in=ids).order_by("lead_id", "-last_seen_at")
                                   .values_list("lead_id", "utm_source", "utm_medium", "utm_campaign")):
            utm.setdefault(lead_id, campaign)
        for lead in chunk:
            cutoff = cutoffs[lead.lead_id]
            journey = [row for row in rows.get(lead.lead_id, []) if row[1] <= cutoff]
            visits = visits_in(((row[5], row[1]) for row in journey), gap_seconds=settings.VISIT_GAP_SECONDS)
            source, medium, campaign = utm.get(lead.lead_id, (None, None, None))
            yield LeadJourney(
                lead_id=lead.lead_id, converted=lead.converted,
                steps=[engine.Step(kind, data, at=created_at) for _, created_at, kind, data, _, _ in journey],
                cutoff=cutoff,
                facts=engine.SessionFacts(engagement_seconds=sum(row[4] for row in journey), visit_count=visits,
                                          utm_source=source, utm_medium=medium, utm_campaign=campaign),
            )


def rules_held(journey: LeadJourney, ruleset: incremental.RuleSet) -> tuple[dict[str, int], int]:
    """Which rules hold for the journey, each with its count (1 for a rule given once;
    the occurrences for one given on every occurrence), whatever the bases' order;
    and the journey's score under the rule set."""
    state = incremental.journey_state(journey.steps, ruleset)
    visits = journey.facts.as_facts()
    held: dict[str, int] = {}
    for compiled, patterns in zip(ruleset.compiled, state.patterns):
        holding = [counts for pattern, counts in patterns.items()
                   if not compiled.tests_visits or compiled.holds(pattern, visits)]
        if holding:
            held[compiled.rule.name] = sum(c[0] for c in holding) + any(c[1] for c in holding)
    return held, _score_of(state, journey, ruleset)


def _score(journey: LeadJourney, ruleset: incremental.RuleSet) -> int:
    return _score_of(incremental.journey_state(journey.steps, ruleset), journey, ruleset)


def _score_of(state: incremental.JourneyState, journey: LeadJourney, ruleset: incremental.RuleSet) -> int:
    return incremental.journey_score(state, ruleset, session_facts=journey.facts, now=journey.cutoff).points


def calibration_run(*, by=None, as_of: datetime | None = None, stale_after_days: int | None = None,
                    save: bool = True) -> RuleCalibration:
    """Measure, propose and compare now (see the module docstring); the result is
    saved (unless `save` is off) as a proposal, or as refused with the reason."""
    calibration = _calibration_new(by=by, as_of=as_of, stale_after_days=stale_after_days)
    _calibrate(calibration)
    if save:
        calibration.save()
    return calibration


def calibration_start(*, by) -> RuleCalibration:
    """Queue a calibration of the current rules on the outcomes known now, for the
    background worker (it scores every labelled lead's journey twice)."""
    calibration = _calibration_new(by=by)
    calibration.save()
    transaction.on_commit(lambda: calibrate_rules.enqueue(calibration.pk))
    return calibration


def calibration_execute(*, calibration_id: int) -> RuleCalibration:
    """The worker's side of calibration_start."""
    calibration = RuleCalibration.objects.get(pk=calibration_id)
    RuleCalibration.objects.filter(pk=calibration.pk).update(status=RuleCalibration.Status.RUNNING)
    try:
        _calibrate(calibration)
    except Exception as error:
        RuleCalibration.objects.filter(pk=calibration.pk).update(
            status=RuleCalibration.Status.FAILED, reason=f"The calibration failed: {error}"[:2000]
        )
        raise
    calibration.save()
    return calibration


def _calibration_new(*, by=None, as_of: datetime | None = None, stale_after_days: int | None = None):
    """A calibration of the current rule version on the outcomes known `as_of` (now)."""
    return RuleCalibration(
        created_by=by if by is not None and getattr(by, "is_authenticated", False) else None,
        as_of=as_of or timezone.now(),
        stale_after_days=settings.LEAD_STALE_AFTER_DAYS if stale_after_days is None else stale_after_days,
        from_version_id=scoring_config().version,
    )


def _calibrate(calibration: RuleCalibration) -> None:
    """Fill in the calibration: its counts, lifts, proposal, comparison and status."""
    as_of, stale_after_days = calibration.as_of, calibration.stale_after_days
    version = rule_version_get(calibration.from_version_id)
    rules = version.engine_rules()
    ruleset = ruleset_of(version)
    thresholds = version.scoring_settings().thresholds()

    labelled = outcome_labels(as_of=as_of, stale_after_days=stale_after_days)
    half = len(labelled) // 2
    fitting, held_out = labelled[:half], labelled[half:]
    held, converted = [], []
    for journey in lead_journeys_until_outcome(fitting, as_of=as_of, stale_after_days=stale_after_days):
        held.append(rules_held(journey, ruleset)[0])
        converted.append(journey.converted)

    lifts = [calibration_math.rule_lift(rule.name, [rule.name in h for h in held], converted) for rule in rules]
    calibrated = {lift.rule for lift in lifts if lift.enough}
    proposed = calibration_math.points_proposed(rules, held, converted, calibrated=calibrated) if calibrated else {}
    proposed_rules = [engine.Rule(name=r.name, kind=r.kind, condition=r.condition,
                                  points=proposed.get(r.name, r.points), per_occurrence=r.per_occurrence)
                      for r in rules]
    proposed_ruleset = incremental.RuleSet(proposed_rules, half_life_days=ruleset.half_life_days)

    current_scores, proposed_scores, outcomes = [], [], []
    for journey in lead_journeys_until_outcome(held_out, as_of=as_of, stale_after_days=stale_after_days):
        current_scores.append(_score(journey, ruleset))
        proposed_scores.append(_score(journey, proposed_ruleset))
        outcomes.append(journey.converted)
    current = calibration_math.ranking_quality(current_scores, outcomes, thresholds=thresholds)
    suggested = calibration_math.ranking_quality(proposed_scores, outcomes, thresholds=thresholds)

    reason = _refusal(calibrated=calibrated, proposed=proposed, rules=rules, current=current, suggested=suggested)
    calibration.labelled, calibration.fitted, calibration.held_out = len(labelled), len(fitting), len(held_out)
    calibration.status = RuleCalibration.Status.REFUSED if reason else RuleCalibration.Status.PROPOSED
    calibration.reason = reason
    calibration.result = {
        "rules": [
            {"rule": rule.name, "kind": rule.kind, "per_occurrence": rule.per_occurrence, "current": rule.points,
             "proposed": proposed.get(rule.name), "lift": lift.as_data()}
            for rule, lift in zip(rules, lifts)
        ],
        "current": current.as_data(),
        "proposed": suggested.as_data(),
        "min_auc_gain": settings.CALIBRATION_MIN_AUC_GAIN,
    }


def _refusal(*, calibrated, proposed, rules, current, suggested) -> str:
    if current.leads < MIN_HELD_OUT or min(current.converted, current.leads - current.converted) < MIN_HELD_OUT_EACH:
        return (f"Too few leads with a known outcome to judge a proposal: {current.leads} held out "
                f"({current.converted} converted); at least {MIN_HELD_OUT}, with {MIN_HELD_OUT_EACH} of each "
                "outcome, are needed.")
    if not calibrated:
        return "No rule has enough examples to propose points for."
    if all(proposed.get(rule.name, rule.points) == rule.points for rule in rules):
        return "The proposal is the current points."
    gain = (suggested.auc or 0) - (current.auc or 0)
    if gain < settings.CALIBRATION_MIN_AUC_GAIN:
        return (f"The proposed points do not rank the held-out leads better: ROC AUC {suggested.auc:.3f} against "
                f"{current.auc:.3f} now (at least {settings.CALIBRATION_MIN_AUC_GAIN:+.2f} is needed).")
    return ""


@transaction.atomic
def calibration_accept(*, calibration_id: int, by) -> RuleCalibration:
    """Give the rules the proposal's points, as one new rule version. Refused for a
    proposal that was refused or accepted already, or made from rules since changed."""
    proposal = RuleCalibration.objects.select_for_update().get(pk=calibration_id)
    if proposal.status != RuleCalibration.Status.PROPOSED:
        raise ValidationError(f"Calibration #{proposal.pk} cannot be accepted: it is {proposal.get_status_display().lower()}.")
    if rule_version_record().number != proposal.from_version_id:
        raise ValidationError(f"The rules changed since calibration #{proposal.pk} was made from version "
                              f"{proposal.from_version_id}: calibrate again.")
    for rule in LeadScoringRule.objects.filter(name__in=[row["rule"] for row in proposal.result["rules"]]):
        points = next(row["proposed"] for row in proposal.result["rules"] if row["rule"] == rule.name)
        if points is not None and points != rule.points:
            rule.points = points
            rule.full_clean()
            rule.save()
    version = rule_version_record(by=by, note=f"Points calibrated from outcomes (calibration #{proposal.pk})")
    proposal.status = RuleCalibration.Status.ACCEPTED
    proposal.accepted_version_id = version.number
    proposal.accepted_by = by if by is not None and getattr(by, "is_authenticated", False) else None
    proposal.accepted_at = timezone.now()
    proposal.save(update_fields=["status", "accepted_version", "accepted_by", "accepted_at"])
    return proposal


def _percent(value) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"


def _auc(value) -> str:
    return "–" if value is None else f"{value:.3f}"


@dataclass(frozen=True)
class RuleRow:
    rule: str
    current: int
    proposed: str  # the proposed points, or "–" for a rule with too few examples
    held: int
    held_rate: str  # conversion of the leads the rule held for
    other_rate: str  # ... and of the others
    lift: str  # the ratio with its interval, or why there is none


@dataclass(frozen=True)
class EffectRow:
    figure: str
    current: str
    proposed: str


def calibration_table(calibration: RuleCalibration) -> tuple[list[RuleRow], list[EffectRow]]:
    """A finished calibration as staff read it (the lead-scoring page and the
    command): each rule's row, and the held-out comparison of the two sets of points."""
    rules = []
    for row in calibration.result["rules"]:
        lift = row["lift"]
        interval = lift["ratio_interval"]
        if lift["enough"] and lift["ratio"] is not None:
            lift_text = f"{lift['ratio']:.2f}x" + (f" ({interval[0]:.2f}–{interval[1]:.2f})" if interval else "")
        else:
            lift_text = lift["why_not"] or "–"
        rules.append(RuleRow(
            rule=row["rule"], current=row["current"],
            proposed=f"{row['proposed']:+d}" if row["proposed"] is not None else "–", held=lift["held"],
            held_rate=_percent(lift["held_converted"] / lift["held"] if lift["held"] else None),
            other_rate=_percent(lift["not_held_converted"] / lift["not_held"] if lift["not_held"] else None),
            lift=lift_text,
        ))
    current, proposed = calibration.result["current"], calibration.result["proposed"]
    effect = [
        EffectRow("ROC AUC (0.5 is chance)", _auc(current["auc"]), _auc(proposed["auc"])),
        EffectRow("Top 20 % by score: converted", _percent(current["top_precision"]),
                  _percent(proposed["top_precision"])),
        *(EffectRow(f"Leads at {level} engagement", str(current["levels"][level]), str(proposed["levels"][level]))
          for level in ("high", "medium", "low")),
    ]
    return rules, effect
