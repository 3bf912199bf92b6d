"""Rescore leads with the current rules: after the clinic changes its rules, or on
a schedule. Called by `manage.py rescore_leads`; the admin and a background task
can call the same service."""

import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.bulk import bulk_update_values
from interactions.journey import stamp
from interactions.models import EngagementLevel
from interactions.selectors import lead_journeys
from leads.models import Lead, LeadStatus, RescoreRun
from leads.tasks import notify_staff_of_high_intent_leads, rescore_all_leads
from scoring import engine, incremental
from scoring.models import LeadScoringRule
from scoring.services import scoring_config, scoring_settings_get

DEFAULT_CHUNK_SIZE = 2000
RESCORED_FIELDS = ("lead_score", "engagement_level", "score_reasons", "high_intent_notified_at", "updated_at",
                   "scoring_state", "journey_version")


@dataclass(frozen=True)
class RescoreSummary:
    rescored: int
    changed: int
    level_changes: Mapping[str, int] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def score_only_changes(self) -> int:
        return self.changed - sum(self.level_changes.values())


def leads_for_rescoring(
    *,
    lead_ids: Iterable[int] | None = None,
    status: str | None = None,
    level: str | None = None,
    since: date | datetime | None = None,
) -> QuerySet[Lead]:
    """The leads to rescore: all, or those matching every filter given. `since` is
    a creation day (in the clinic's time zone) or moment."""
    errors = {}
    if status is not None and status not in LeadStatus.values:
        errors["status"] = f"Unknown status {status!r}: use one of {', '.join(LeadStatus.values)}."
    if level is not None and level not in EngagementLevel.values:
        errors["level"] = f"Unknown level {level!r}: use one of {', '.join(EngagementLevel.values)}."
    if lead_ids is not None:
        lead_ids = set(lead_ids)
        missing = lead_ids - set(Lead.objects.filter(pk__in=lead_ids).values_list("pk", flat=True))
        if missing:
            errors["lead_ids"] = f"No lead with id {', '.join(map(str, sorted(missing)))}."
    if errors:
        raise ValidationError(errors)
    leads = Lead.objects.all()
    if lead_ids is not None:
        leads = leads.filter(pk__in=lead_ids)
    if status is not None:
        leads = leads.filter(status=status)
    if level is not None:
        leads = leads.filter(engagement_level=level)
    if since is not None:
        if not isinstance(since, datetime):
            since = timezone.make_aware(datetime.combine(since, time.min))
        leads = leads.filter(created_at__gte=since)
    return leads


def leads_rescore_bulk(
    *,
    leads: QuerySet[Lead],
    dry_run: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_progress: Callable[[int, int], None] | None = None,
) -> RescoreSummary:
    """Rescore many leads (the bulk counterpart of `leads.services.lead_rescore`,
    which rescores one): each lead's whole journey; with `dry_run`, work out what
    would change and save nothing.

    Leads are taken in chunks, each in one transaction with its leads locked (so a
    lead the tracker is scoring at the same moment is not overwritten with an older
    journey: the tracker's write waits, sees the journey_version moved, and scores
    again). A chunk costs five queries whatever its size: the lock, the journeys
    (interactions.selectors.lead_journeys), and one UPDATE of every lead in it
    (core.bulk) with its score, reasons and new incremental state (so the lead's next
    event need not read its journey)."""
    rescored = changed = 0
    level_changes: Counter[str] = Counter()
    config = scoring_config()
    # Ordered by pk: on SQLite the cursor reads the table as it is rewritten, and
    # pk order is the one order that rescoring cannot shuffle.
    ids = leads.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=chunk_size)
    for chunk in itertools.batched(ids, chunk_size):
        with transaction.atomic():
            locked = list(Lead.objects.select_for_update().filter(pk__in=chunk).order_by("pk").only(
                "lead_score", "engagement_level", "score_reasons", "high_intent_notified_at", "status",
                "updated_at", "journey_version",
            ))
            journeys = lead_journeys(lead_ids=[lead.pk for lead in locked])
            now = timezone.now()
            notify: list[int] = []
            for lead in locked:
                journey = journeys[lead.pk]
                state = incremental.journey_state(journey.steps, config.ruleset)
                state.last_at = stamp(journey.last_at) if journey.last_at else ""
                result = incremental.journey_score(
                    state, config.ruleset, session_facts=journey.session_facts, thresholds=config.thresholds
                )
                before = (lead.lead_score, lead.engagement_level)
                reasons = result.reasons_as_data()
                crossing = result.level == EngagementLevel.HIGH and lead.high_intent_notified_at is None
                if (lead.lead_score, lead.engagement_level, lead.score_reasons) != (result.points, result.level, reasons):
                    lead.lead_score, lead.engagement_level, lead.score_reasons = result.points, result.level, reasons
                    lead.updated_at = now
                if crossing:
                    lead.high_intent_notified_at = lead.updated_at = now
                    # As lead_apply_score: after a rule change, only a lead still being worked is worth an e-mail.
                    if lead.status in LeadStatus.open_values():
                        notify.append(lead.pk)
                lead.scoring_state, lead.journey_version = state.as_data(), lead.journey_version + 1
                rescored += 1
                if (result.points, result.level) != before:
                    changed += 1
                    if result.level != before[1]:
                        level_changes[f"{before[1]}->{result.level}"] += 1
            if not dry_run:  # a dry run writes nothing and tells nobody
                bulk_update_values(locked, RESCORED_FIELDS)
                if notify:
                    transaction.on_commit(
                        lambda ids=notify: notify_staff_of_high_intent_leads.enqueue(ids, rules_changed=True)
                    )
        if on_progress is not None:
            on_progress(rescored, changed)
    return RescoreSummary(
        rescored=rescored, changed=changed, level_changes=dict(level_changes), dry_run=dry_run
    )


def rescore_run_start(*, by) -> RescoreRun:
    """Queue a background rescore of every lead; its progress is kept on the run."""
    run = RescoreRun.objects.create(requested_by=by, total=Lead.objects.count())
    transaction.on_commit(lambda: rescore_all_leads.enqueue(run.pk))
    return run


def rescore_run_execute(*, run_id: int) -> RescoreRun:
    """The worker's side: rescore every lead, saving progress after each chunk."""
    run = RescoreRun.objects.get(pk=run_id)
    run.status, run.started_at, run.total = RescoreRun.Status.RUNNING, timezone.now(), Lead.objects.count()
    run.save(update_fields=["status", "started_at", "total"])

    def progress(done: int, changed: int) -> None:
        RescoreRun.objects.filter(pk=run.pk).update(done=done, changed=changed)

    try:
        summary = leads_rescore_bulk(leads=Lead.objects.all(), on_progress=progress)
    except Exception as error:
        run.status, run.error, run.finished_at = RescoreRun.Status.FAILED, str(error)[:2000], timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        raise
    run.status, run.finished_at = RescoreRun.Status.DONE, timezone.now()
    run.done, run.changed, run.level_changes = summary.rescored, summary.changed, dict(summary.level_changes)
    run.save(update_fields=["status", "finished_at", "done", "changed", "level_changes"])
    return run


def rule_change_preview(*, rule: LeadScoringRule, chunk_size: int = DEFAULT_CHUNK_SIZE) -> RescoreSummary:
    """What saving `rule` (edited or new, not saved) would do to stored scores.

    The engine is pure, so every lead's journey is scored in memory with the rules as
    they would be: nothing is locked, nothing written, nobody e-mailed, and the
    tracker keeps scoring visitors meanwhile."""
    rules = [stored for stored in LeadScoringRule.objects.filter(is_active=True) if stored.pk != rule.pk]
    if rule.is_active:
        rules.append(rule)
    rules.sort(key=lambda candidate: (candidate.order, candidate.name))
    engine_rules = [candidate.as_engine_rule() for candidate in rules]
    thresholds = scoring_settings_get().thresholds()
    rescored = changed = 0
    level_changes: Counter[str] = Counter()
    leads = Lead.objects.order_by("pk").values_list("pk", "lead_score", "engagement_level")
    for chunk in itertools.batched(leads.iterator(chunk_size=chunk_size), chunk_size):
        journeys = lead_journeys(lead_ids=[lead_id for lead_id, _, _ in chunk])
        for lead_id, points, level in chunk:
            journey = journeys[lead_id]
            result = engine.score_journey(
                journey.steps, session_facts=journey.session_facts, rules=engine_rules, thresholds=thresholds
            )
            rescored += 1
            if (result.points, result.level) != (points, level):
                changed += 1
                if result.level != level:
                    level_changes[f"{level}->{result.level}"] += 1
    return RescoreSummary(rescored=rescored, changed=changed, level_changes=dict(level_changes), dry_run=True)
