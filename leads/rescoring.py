"""Rescore leads with the current rules: after the clinic changes its rules, or on
a schedule. Called by `manage.py rescore_leads`; the admin and a background task
can call the same service."""

import itertools
import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import partial

from django.core.exceptions import ValidationError
from django.db import connections, router, transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.bulk import bulk_update_rows
from interactions.journey import stamp
from interactions.models import EngagementLevel
from interactions.selectors import lead_journeys
from leads.models import Lead, LeadStatus, RescoreRun
from leads.tasks import notify_staff_of_high_intent_leads, rescore_all_leads
from scoring import incremental
from scoring.models import LeadScoringRule
from scoring.services import ScoringConfig, scoring_config, scoring_settings_get

DEFAULT_CHUNK_SIZE = 2000
RESCORED_FIELDS = ("lead_score", "engagement_level", "score_reasons", "high_intent_notified_at", "updated_at",
                   "scoring_state", "journey_version")
# Chunks rescored at once on PostgreSQL (leads_rescore_bulk). A chunk spends about as
# much time waiting for the database (mostly the index entries of each lead written)
# as folding journeys in Python, so two overlap well; measured on two cores.
DEFAULT_WORKERS = 2


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
    workers: int = DEFAULT_WORKERS,
) -> RescoreSummary:
    """Rescore many leads (the bulk counterpart of `leads.services.lead_rescore`,
    which rescores one): each lead's whole journey; with `dry_run`, work out what
    would change and save nothing.

    Leads are taken in chunks (`_chunk_rescore`), each in one transaction with its
    leads locked. On PostgreSQL, outside any transaction of the caller's, `workers`
    chunks are rescored at once, each on its own connection: the database's share of
    the work (the index entries of every lead written) then runs on more than one
    core. Elsewhere, or inside a transaction, one chunk after another."""
    config = scoring_config()
    # Ordered by pk: on SQLite the cursor reads the table as it is rewritten, and
    # pk order is the one order that rescoring cannot shuffle.
    ids = leads.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=chunk_size)
    chunks = itertools.batched(ids, chunk_size)
    rescore = partial(_chunk_rescore, config=config, dry_run=dry_run)
    connection = connections[router.db_for_write(Lead)]
    if workers > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block:
        done = _in_parallel(rescore, chunks, workers=workers)
    else:
        done = map(rescore, chunks)
    total = _ChunkSummary()
    for chunk in done:
        total.add(chunk)
        if on_progress is not None:
            on_progress(total.rescored, total.changed)
    return RescoreSummary(
        rescored=total.rescored, changed=total.changed, level_changes=dict(total.level_changes), dry_run=dry_run
    )


@dataclass
class _ChunkSummary:
    rescored: int = 0
    changed: int = 0
    level_changes: Counter[str] = field(default_factory=Counter)

    def add(self, other: "_ChunkSummary") -> None:
        self.rescored += other.rescored
        self.changed += other.changed
        self.level_changes.update(other.level_changes)


def _chunk_rescore(lead_ids: Sequence[int], *, config: ScoringConfig, dry_run: bool) -> _ChunkSummary:
    """Rescore these leads in one transaction, with the leads locked: a lead the
    tracker is scoring at the same moment is then not overwritten with an older
    journey (the tracker's write waits, sees the journey_version moved, and scores
    again). Five queries whatever the chunk's size: the lock, the journeys
    (interactions.selectors.lead_journeys), one UPDATE (core.bulk) of the leads whose
    score, level or reasons changed or who now need a high-intent e-mail.

    A lead left as it was keeps its incremental scoring state: if the rules changed,
    the state names the old ones, and the lead's next event folds the journey once
    (interactions.journey.journey_add). A lead written gets its fresh state, so its
    next event need not read its journey."""
    summary = _ChunkSummary()
    with transaction.atomic():
        locked = Lead.objects.select_for_update().filter(pk__in=lead_ids).order_by("pk").values_list(
            "pk", "lead_score", "engagement_level", "score_reasons", "high_intent_notified_at", "status",
            "journey_version",
        )
        locked = list(locked)
        journeys = lead_journeys(lead_ids=[row[0] for row in locked])
        now = timezone.now()
        written: list[tuple] = []
        notify: list[int] = []
        for pk, points, level, reasons, notified_at, status, version in locked:
            journey = journeys[pk]
            state = incremental.journey_state(journey.steps, config.ruleset)
            state.last_at = stamp(journey.last_at) if journey.last_at else ""
            result = incremental.journey_score(
                state, config.ruleset, session_facts=journey.session_facts, thresholds=config.thresholds
            )
            summary.rescored += 1
            if (result.points, result.level) != (points, level):
                summary.changed += 1
                if result.level != level:
                    summary.level_changes[f"{level}->{result.level}"] += 1
            new_reasons = result.reasons_as_data()
            crossing = result.level == EngagementLevel.HIGH and notified_at is None
            if not crossing and (points, level, reasons) == (result.points, result.level, new_reasons):
                continue
            if crossing:
                notified_at = now
                # As lead_apply_score: after a rule change, only a lead still being worked is worth an e-mail.
                if status in LeadStatus.open_values():
                    notify.append(pk)
            written.append(
                (pk, result.points, result.level, new_reasons, notified_at, now, state.as_data(), version + 1)
            )
        if not dry_run:  # a dry run writes nothing and tells nobody
            bulk_update_rows(Lead, RESCORED_FIELDS, written)
            if notify:
                transaction.on_commit(
                    lambda: notify_staff_of_high_intent_leads.enqueue(notify, rules_changed=True)
                )
    return summary


def _in_parallel(work: Callable[[Sequence[int]], _ChunkSummary], chunks: Iterable[Sequence[int]], *,
                 workers: int) -> Iterator[_ChunkSummary]:
    """work(chunk) for every chunk, `workers` at a time, each thread on its own
    database connection (closed when it is done); yields the results as they come.
    The chunks are read here, in the calling thread (its cursor is its own); the
    first error stops the workers and is raised here."""
    todo: queue.Queue = queue.Queue(maxsize=workers)
    done: queue.Queue = queue.Queue()
    stop = threading.Event()

    def worker() -> None:
        try:
            while (chunk := todo.get()) is not None and not stop.is_set():
                done.put(work(chunk))
        except BaseException as error:  # noqa: BLE001 - raised in the calling thread
            stop.set()
            done.put(error)
        finally:
            connections.close_all()
            done.put(None)

    def results(*, wait: bool) -> Iterator[_ChunkSummary]:
        nonlocal running
        while running:
            try:
                item = done.get(timeout=0.1) if wait else done.get_nowait()
            except queue.Empty:
                if not wait:
                    return
                continue
            if item is None:
                running -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item

    threads = [threading.Thread(target=worker, name=f"rescore-{number}", daemon=True) for number in range(workers)]
    for thread in threads:
        thread.start()
    running = len(threads)

    def send(item: Sequence[int] | None) -> Iterator[_ChunkSummary]:
        while True:
            yield from results(wait=False)  # and raises a worker's error
            try:
                return todo.put(item, timeout=0.1)
            except queue.Full:
                continue

    try:
        for chunk in chunks:
            yield from send(chunk)
        for _ in threads:
            yield from send(None)
        yield from results(wait=True)
    finally:
        stop.set()
        for _ in threads:  # wake any worker still waiting for a chunk
            try:
                todo.put_nowait(None)
            except queue.Full:
                break
        for thread in threads:
            thread.join()


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
    # Folded as a rescore folds (scoring.incremental: the whole-journey score, with conditions compiled once).
    ruleset = incremental.RuleSet([candidate.as_engine_rule() for candidate in rules])
    thresholds = scoring_settings_get().thresholds()
    rescored = changed = 0
    level_changes: Counter[str] = Counter()
    leads = Lead.objects.order_by("pk").values_list("pk", "lead_score", "engagement_level")
    for chunk in itertools.batched(leads.iterator(chunk_size=chunk_size), chunk_size):
        journeys = lead_journeys(lead_ids=[lead_id for lead_id, _, _ in chunk])
        for lead_id, points, level in chunk:
            journey = journeys[lead_id]
            result = incremental.journey_score(
                incremental.journey_state(journey.steps, ruleset), ruleset,
                session_facts=journey.session_facts, thresholds=thresholds,
            )
            rescored += 1
            if (result.points, result.level) != (points, level):
                changed += 1
                if result.level != level:
                    level_changes[f"{level}->{result.level}"] += 1
    return RescoreSummary(rescored=rescored, changed=changed, level_changes=dict(level_changes), dry_run=True)
