"""Score decay's recompute: every lead's score as of now, so the points of old
interactions fade (the half-life in Scoring settings; scoring.engine says how) and the
"call first" list stays honest between a patient's events.

One pass is a bulk rescore (leads.rescoring) from the leads' stored scoring states: a
lead whose state is current (built with the current rules and half-life) is scored
from it without reading its interactions, and a lead the tracker scored meanwhile keeps
the tracker's score (the same optimistic write on journey_version). The first pass
after the half-life or the rules change folds every journey once, as a rescore does.

The pass runs as a task (`decay_scores`) that queues its own next run every
SCORE_DECAY_INTERVAL_MINUTES while a half-life is set; saving the settings with a
half-life starts the chain when no run is queued. `manage.py decay_scores` runs one
pass now, for cron."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.tasks import TaskResultStatus
from django.utils import timezone

from leads.models import Lead
from leads.rescoring import DEFAULT_WORKERS, RescoreSummary, leads_rescore_bulk
from leads.tasks import decay_scores
from scoring.services import scoring_config, scoring_settings_get

logger = logging.getLogger(__name__)


def leads_decay(*, workers: int = DEFAULT_WORKERS) -> RescoreSummary | None:
    """One decay pass: every lead's score as of now. None, doing nothing, when decay
    is off (no half-life set)."""
    if scoring_config().half_life_days is None:
        return None
    return leads_rescore_bulk(leads=Lead.objects.all(), from_states=True, workers=workers)


def decay_scheduled_run() -> RescoreSummary | None:
    """The task's side: one pass, then the next run queued, SCORE_DECAY_INTERVAL_MINUTES
    on, while decay is on (read from the database, not this process's copy: a chain
    must stop as soon as the clinic switches decay off). The next run is queued even
    if this pass fails, so one bad pass does not end the schedule."""
    try:
        return leads_decay()
    finally:
        if scoring_settings_get().score_half_life_days is not None:
            decay_schedule(after=timezone.now() + decay_interval(), include_running=False)


def decay_interval() -> timedelta:
    return timedelta(minutes=settings.SCORE_DECAY_INTERVAL_MINUTES)


def decay_schedule_start() -> bool:
    """Start the decay schedule now, unless a run is queued or running (which queues
    the next itself). Called once the settings are saved with a half-life."""
    if scoring_settings_get().score_half_life_days is None:
        return False
    return decay_schedule(after=timezone.now(), include_running=True)


def decay_schedule(*, after: datetime, include_running: bool) -> bool:
    """Queue a decay run for `after`, unless one is queued already (or running, with
    `include_running`). Returns whether one was queued. A task backend that cannot
    run a task later (the immediate one) gets none: it would run every pass at once,
    in the request that saved the settings; cron's `manage.py decay_scores` is the
    way there."""
    backend = decay_scores.get_backend()
    if not backend.supports_defer:
        logger.warning("The task backend cannot schedule score decay; run `manage.py decay_scores` from cron.")
        return False
    if decay_run_queued(include_running=include_running):
        return False
    decay_scores.using(run_after=after).enqueue()
    return True


def decay_run_queued(*, include_running: bool) -> bool:
    """Whether a decay run is waiting (or running) in the task queue. Known for the
    database backend (django_tasks_db, the default) and the in-memory test one; other
    backends cannot be asked, and are taken to have none."""
    statuses = [TaskResultStatus.READY, *([TaskResultStatus.RUNNING] if include_running else [])]
    backend = decay_scores.get_backend()
    if type(backend).__module__.startswith("django_tasks_db"):
        from django_tasks_db.models import DBTaskResult

        return DBTaskResult.objects.filter(
            task_path=decay_scores.module_path, backend_name=backend.alias, status__in=statuses
        ).exists()
    results = getattr(backend, "results", None)  # django.tasks' DummyBackend
    if results is not None:
        return any(result.task.module_path == decay_scores.module_path and result.status in statuses
                   for result in results)
    return False


def decay_schedule_on_commit() -> None:
    """decay_schedule_start once the caller's transaction commits."""
    transaction.on_commit(decay_schedule_start)
