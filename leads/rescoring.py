"""Rescore leads with the current rules: after the clinic changes its rules, or on
a schedule. Called by `manage.py rescore_leads`; the admin and a background task
can call the same service."""

import gc
import itertools
import json
import multiprocessing
import multiprocessing.util
import threading
from collections import Counter
from contextlib import contextmanager
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, as_completed, wait
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import partial
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections, router, transaction
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from core.bulk import bulk_insert, bulk_update_rows
from interactions.journey import stamp
from interactions.models import EngagementLevel
from interactions.selectors import lead_journeys, lead_visit_facts
from leads.models import Lead, LeadScoreChange, LeadStatus, RescoreRun, ScoreChangeCause
from leads.tasks import notify_staff_of_high_intent_leads, rescore_all_leads
from scoring import incremental
from scoring.models import LeadScoringRule
from scoring.services import ScoringConfig, scoring_config, scoring_settings_get

DEFAULT_CHUNK_SIZE = 2000
RESCORED_FIELDS = ("lead_score", "engagement_level", "score_reasons", "high_intent_notified_at", "updated_at",
                   "scoring_state", "journey_version")
HISTORY_FIELDS = ("lead", "at", "score", "level", "reasons", "rule_version", "cause", "interaction")
# Processes rescoring chunks at once on PostgreSQL (leads_rescore_bulk): a chunk
# spends about as long in Python, folding journeys, as in PostgreSQL (mostly the
# index entries of each lead written), so two keep two cores busy; measured on two.
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
    from_states: bool = False,
) -> RescoreSummary:
    """Rescore many leads (the bulk counterpart of `leads.services.lead_rescore`,
    which rescores one): each lead's whole journey; with `dry_run`, work out what
    would change and save nothing. Scores are as of now: with score decay on, older
    interactions weigh less.

    `from_states` (a decay pass, leads.decay): a lead whose stored scoring state is
    current (built with these rules and half-life) is scored from it, as of now,
    without reading its interactions; only the others' journeys are read.

    Leads are taken in chunks (`_chunk_rescore`). On PostgreSQL, outside any
    transaction of the caller's and from a process with no other thread, `workers`
    processes rescore chunks at once, each on its own connection: scoring is Python,
    which one process runs on one core. Elsewhere one chunk after another, here.
    Staff are told of leads newly at high intent once each chunk is stored (once the
    caller's transaction commits, if there is one)."""
    config = scoring_config()
    chunks = _id_chunks(leads, chunk_size)
    connection = connections[router.db_for_write(Lead)]
    if (workers > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block
            and _threads_running() == 1):
        done = _in_processes(chunks, config=config, dry_run=dry_run, workers=workers, from_states=from_states)
    else:
        done = (_chunk_rescore(chunk, config=config, dry_run=dry_run, from_states=from_states) for chunk in chunks)
    total = _ChunkSummary()
    for chunk in done:
        total.add(chunk)
        if chunk.notify:
            transaction.on_commit(partial(notify_staff_of_high_intent_leads.enqueue, chunk.notify, rules_changed=True))
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
    notify: list[int] = field(default_factory=list)  # the chunk's leads to e-mail staff about

    def add(self, other: "_ChunkSummary") -> None:
        self.rescored += other.rescored
        self.changed += other.changed
        self.level_changes.update(other.level_changes)


def _threads_running() -> int:
    """This process's threads, as the operating system counts them where it says
    (a library's own threads too): a forked copy gets none of them, and any lock one
    of them held stays held in the copy, so only a process with one thread forks."""
    try:
        return int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[17])
    except (OSError, IndexError, ValueError):
        return threading.active_count()


def _id_chunks(leads: QuerySet[Lead], chunk_size: int) -> Iterator[list[int]]:
    """The leads' ids in pk order, a chunk at a time, each chunk read where the last
    ended: no cursor stays open between chunks (worker processes are forked between
    two), and on SQLite, rewriting the leads cannot shuffle what is still to read."""
    leads = leads.order_by("pk")
    last = None
    while True:
        page = leads if last is None else leads.filter(pk__gt=last)
        ids = list(page.values_list("pk", flat=True)[:chunk_size])
        if ids:
            yield ids
        if len(ids) < chunk_size:
            return
        last = ids[-1]


def _chunk_rescore(lead_ids: Sequence[int], *, config: ScoringConfig, dry_run: bool,
                   from_states: bool = False) -> _ChunkSummary:
    """Rescore these leads: four queries whatever the chunk's size, none holding a
    lock for longer than its own statement. The leads as they are, then their
    journeys (interactions.selectors.lead_journeys), then one UPDATE (core.bulk) of
    the leads whose score, level or reasons changed or who now need a high-intent
    e-mail, each only if its journey_version is still the one read first. The
    tracker moves the version with every event it adds to a lead's journey, in the
    transaction that stores the event: a lead that had an event meanwhile (its
    journey read here may lack it) is left with the tracker's score, not counted as
    changed and not e-mailed about; a tracker still scoring one when it is written
    here sees the version moved, and scores its event again over this state.

    A lead left as it was keeps its incremental scoring state: if the rules changed,
    the state names the old ones, and the lead's next event folds the journey once
    (interactions.journey.journey_add). A lead written gets its fresh state, so its
    next event need not read its journey.

    `from_states`: a lead whose stored state is current is scored from it (one query
    for the visits' facts instead of the journeys), and written with it as it was; a
    lead whose state had to be folded is written with its new one even if its score
    stays, so the next pass need not fold it again."""
    with _collector_paused():
        return _chunk_rescore_now(lead_ids, config=config, dry_run=dry_run, from_states=from_states)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for a while: a chunk makes millions of
    short-lived objects (journeys, facts, states, JSON), none in a cycle, and the
    collector looked through them every couple of thousand, for a fifth of the
    chunk's Python time. Reference counting still frees them all."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _chunk_rescore_now(lead_ids: Sequence[int], *, config: ScoringConfig, dry_run: bool,
                       from_states: bool = False) -> _ChunkSummary:
    summary = _ChunkSummary()
    # The leads before their journeys: an event stored after this read moved the version.
    # Their reasons as JSON text, read only for a lead whose score and level stay.
    columns = ["pk", "lead_score", "engagement_level", Cast("score_reasons", TextField()), "high_intent_notified_at",
               "status", "journey_version"]
    leads = list(Lead.objects.filter(pk__in=lead_ids).order_by("pk").values_list(
        *columns, *(["updated_at", "scoring_state"] if from_states else [])))
    ruleset = config.ruleset
    states: dict[int, incremental.JourneyState] = {}
    updated: dict[int, datetime] = {}  # from_states: when each lead last changed
    if from_states:
        for row in leads:
            updated[row[0]] = row[-2]
            state = incremental.state_from_data(row[-1], ruleset)
            if state is not None:
                states[row[0]] = state
        leads = [row[:-2] for row in leads]
    decays = ruleset.half_life_seconds is not None
    journeys = lead_journeys(lead_ids=[row[0] for row in leads if row[0] not in states], times=decays)
    visits = lead_visit_facts(lead_ids=list(states)) if states else {}
    now = timezone.now()
    rows: list[tuple] = []
    changes: list[tuple[int, str]] = []  # (lead, its level change or "") for each lead whose score changes
    notify: list[int] = []
    moved: set[int] = set()  # leads whose score, level or reasons change (not only their state)
    for pk, points, level, reasons, notified_at, status, version in leads:
        state = states.get(pk)
        if state is None:
            journey = journeys[pk]
            state = incremental.journey_state(journey.steps, ruleset)
            state.last_at = stamp(journey.last_at) if journey.last_at else ""
            session_facts = journey.session_facts
        else:
            session_facts = visits[pk]
        result = incremental.journey_score(
            state, ruleset, session_facts=session_facts, thresholds=config.thresholds, now=now if decays else None
        )
        summary.rescored += 1
        if (result.points, result.level) != (points, level):
            changes.append((pk, f"{level}->{result.level}" if result.level != level else ""))
        new_reasons = result.reasons_as_data()
        crossing = result.level == EngagementLevel.HIGH and notified_at is None
        changed_at = now
        if not crossing and (points, level) == (result.points, result.level) and json.loads(reasons) == new_reasons:
            if not from_states or pk in states:
                continue
            # A decay pass stores a state it had to fold even so (the next pass reads it instead),
            # leaving updated_at alone: the lead did not change.
            changed_at = updated[pk]
        else:
            moved.add(pk)
        if crossing:
            notified_at = now
            # As lead_apply_score: after a rule change, only a lead still being worked is worth an e-mail.
            if status in LeadStatus.open_values():
                notify.append(pk)
        rows.append(
            (pk, result.points, result.level, new_reasons, notified_at, changed_at, state.as_data(), version + 1,
             version)
        )
    if dry_run:  # a dry run writes nothing and tells nobody
        written = {row[0] for row in rows}
    else:
        written = bulk_update_rows(Lead, RESCORED_FIELDS, rows, unless_changed=("journey_version",))
        summary.notify = [pk for pk in notify if pk in written]
        # A lead whose score moved has it in its history: moved by a rule change, or by time.
        cause = ScoreChangeCause.DECAY if from_states else ScoreChangeCause.RULES
        history = [(pk, now, points, level, reasons, config.version, cause, None)
                   for pk, points, level, reasons, *_ in rows if pk in written and pk in moved]
        if history:
            bulk_insert(LeadScoreChange, HISTORY_FIELDS, history)
    for pk, level_change in changes:
        if pk in written:
            summary.changed += 1
            if level_change:
                summary.level_changes[level_change] += 1
    return summary


# What each worker process rescores with: set once, as it starts (_worker_start).
_worker: dict[str, Any] = {}


def _in_processes(chunks: Iterator[Sequence[int]], *, config: ScoringConfig, dry_run: bool,
                  workers: int, from_states: bool = False) -> Iterator[_ChunkSummary]:
    """_chunk_rescore of every chunk in `workers` processes forked from this one (so
    they score with this one's rules, and start in no time); yields the results as
    they come, a few chunks ahead at most. The chunks are read here. The first
    error stops the workers and is raised here."""
    first = next(chunks, None)
    if first is None:
        return
    # A forked process must not share this one's database connections: none is open
    # when they are forked (at the first submit), and each opens its own.
    connections.close_all()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_worker_start, initargs=(config, dry_run, from_states))
    try:
        pending = {pool.submit(_worker_rescore, first)}
        for chunk in chunks:
            pending.add(pool.submit(_worker_rescore, chunk))
            if len(pending) > workers:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (future.result() for future in done)
        for future in as_completed(pending):
            yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _worker_start(config: ScoringConfig, dry_run: bool, from_states: bool = False) -> None:
    _worker.update(config=config, dry_run=dry_run, from_states=from_states)
    # The objects inherited from the parent are never garbage: the collector need not look at them again.
    gc.freeze()
    # Close this process's connections when it ends (its pool ends it with os._exit, which runs no atexit).
    multiprocessing.util.Finalize(None, connections.close_all, exitpriority=10)


def _worker_rescore(lead_ids: Sequence[int]) -> _ChunkSummary:
    return _chunk_rescore(lead_ids, config=_worker["config"], dry_run=_worker["dry_run"],
                          from_states=_worker["from_states"])


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
    settings_row = scoring_settings_get()
    ruleset = incremental.RuleSet([candidate.as_engine_rule() for candidate in rules],
                                  half_life_days=settings_row.score_half_life_days)
    thresholds = settings_row.thresholds()
    decays = ruleset.half_life_seconds is not None
    now = timezone.now()
    rescored = changed = 0
    level_changes: Counter[str] = Counter()
    leads = Lead.objects.order_by("pk").values_list("pk", "lead_score", "engagement_level")
    for chunk in itertools.batched(leads.iterator(chunk_size=chunk_size), chunk_size):
        journeys = lead_journeys(lead_ids=[lead_id for lead_id, _, _ in chunk], times=decays)
        for lead_id, points, level in chunk:
            journey = journeys[lead_id]
            result = incremental.journey_score(
                incremental.journey_state(journey.steps, ruleset), ruleset,
                session_facts=journey.session_facts, thresholds=thresholds, now=now if decays else None,
            )
            rescored += 1
            if (result.points, result.level) != (points, level):
                changed += 1
                if result.level != level:
                    level_changes[f"{level}->{result.level}"] += 1
    return RescoreSummary(rescored=rescored, changed=changed, level_changes=dict(level_changes), dry_run=True)
