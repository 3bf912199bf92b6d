"""One event added to a visitor's journey, the same for a live event
(interactions.tracker) and an imported row (leads.importer). No database: the caller
reads the session (and its lead's journey) and writes them back.

A *journey* is what is scored: the session's own interactions, or, once the visitor
is a lead, the lead's across all their sessions. `LiveJourney` holds its incremental
scoring state and the facts of its visits (for a lead, summed over their sessions);
`journey_step` adds one event to it and to the session's counters, and returns the
score the journey has with it."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from scoring import engine, incremental


@dataclass
class LiveJourney:
    # None: there is no usable state (none yet, or built with other rules): journey_add
    # folds the journey's stored steps first.
    state: incremental.JourneyState | None
    engagement_seconds: int
    visit_count: int


@dataclass(frozen=True)
class Event:
    interaction_type: str
    data: Mapping[str, Any]
    engagement_seconds: int
    occurred_at: datetime


def stamp(moment: datetime) -> str:
    """A step's time as the state keeps it: UTC, to the microsecond, so stamps
    compare as text in time order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def visit_gap_passed(last_seen_at: datetime, at: datetime, *, gap_seconds: int) -> bool:
    """Whether a request at `at` starts a new visit: a silence of at least the gap."""
    return at - last_seen_at >= timedelta(seconds=gap_seconds)


def visits_in(moments: Iterable[tuple[Any, datetime]], *, gap_seconds: int) -> int:
    """How many visits these interactions were made in, from (visitor, when) pairs
    oldest first: a silence of `gap_seconds` in a visitor's interactions starts a new
    visit, as the middleware counts. A visit in which the visitor did nothing is in no
    log, so it is not counted (for a past moment's facts, which nothing else keeps)."""
    visits, last_seen = 0, {}
    for visitor, moment in moments:
        if visitor not in last_seen or visit_gap_passed(last_seen[visitor], moment, gap_seconds=gap_seconds):
            visits += 1
        last_seen[visitor] = moment
    return visits


def in_order(state: incremental.JourneyState, at: datetime) -> bool:
    """Whether an event at `at` is the journey's newest (so it can be added as a step)."""
    return not state.last_at or stamp(at) >= state.last_at


def _journey_rebuild(
    journey: LiveJourney, steps: list[tuple[datetime, engine.Step]], *, at: datetime, ruleset: incremental.RuleSet
) -> list[tuple[datetime, engine.Step]]:
    """Fold the journey's stored steps (oldest first, with their times) into a new
    state as it was just before an event at `at`; returns the steps after it (only
    when the event is older than the journey's newest), to be added after the event
    with `_journey_catch_up`."""
    before = [(moment, step) for moment, step in steps if moment <= at]
    journey.state = journey_folded(before, ruleset=ruleset)
    return steps[len(before):]


def journey_folded(
    steps: list[tuple[datetime, engine.Step]], *, ruleset: incremental.RuleSet
) -> incremental.JourneyState:
    """A whole journey's stored steps (oldest first, with their times) as a new state."""
    state = incremental.journey_state((step for _, step in steps), ruleset)
    state.last_at = stamp(steps[-1][0]) if steps else ""
    return state


def _journey_catch_up(
    journey: LiveJourney, later: list[tuple[datetime, engine.Step]], *, ruleset: incremental.RuleSet
) -> None:
    for moment, step in later:
        incremental.journey_step(journey.state, step, ruleset)
        journey.state.last_at = max(journey.state.last_at, stamp(moment))


def journey_step(
    session,
    journey: LiveJourney,
    event: Event,
    *,
    ruleset: incremental.RuleSet,
    thresholds: engine.Thresholds,
    visit_gap_seconds: int | None,
) -> engine.ScoreResult:
    """Add the event to the journey (whose state must be current: see journey_add) and to the session's counters (a UserSession, changed in memory:
    visits, engagement, interaction count, last seen, score and level). Returns the
    journey's score with the event.

    `visit_gap_seconds`: the event is a request from the visitor's browser, so a
    silence this long before it starts a new visit (None: it is not, or its visit was
    counted already, as the middleware does for the pages that carry the tools). A
    staff adjustment is not the visitor being seen."""
    if visit_gap_seconds is not None and visit_gap_passed(
        session.last_seen_at, event.occurred_at, gap_seconds=visit_gap_seconds
    ):
        session.visit_count += 1
        journey.visit_count += 1
    session.engagement_seconds += event.engagement_seconds
    journey.engagement_seconds += event.engagement_seconds
    session.interaction_count += 1
    if event.interaction_type != engine.ADJUSTMENT:
        session.last_seen_at = max(session.last_seen_at, event.occurred_at)

    incremental.journey_step(journey.state, engine.Step(event.interaction_type, event.data, event.occurred_at), ruleset)
    journey.state.last_at = max(journey.state.last_at, stamp(event.occurred_at))
    # As of the event's own time: with decay, what the journey was worth when it happened.
    result = journey_score(session, journey, ruleset=ruleset, thresholds=thresholds, now=event.occurred_at)
    session.score, session.engagement_level = result.points, result.level
    return result


def journey_score(
    session, journey: LiveJourney, *, ruleset: incremental.RuleSet, thresholds: engine.Thresholds,
    now: datetime | None = None,
) -> engine.ScoreResult:
    """The journey's score as of `now` (with decay; None: as of its newest step); the
    first-touch campaign is the session's."""
    facts = engine.SessionFacts(
        engagement_seconds=journey.engagement_seconds,
        visit_count=journey.visit_count,
        utm_source=session.utm_source,
        utm_medium=session.utm_medium,
        utm_campaign=session.utm_campaign,
    )
    return incremental.journey_score(journey.state, ruleset, session_facts=facts, thresholds=thresholds, now=now)


def journey_add(
    session,
    journey: LiveJourney,
    event: Event,
    *,
    stored_steps: Callable[[], list[tuple[datetime, engine.Step]]],
    ruleset: incremental.RuleSet,
    thresholds: engine.Thresholds,
    visit_gap_seconds: int | None,
) -> tuple[engine.ScoreResult, engine.ScoreResult]:
    """journey_step for any event: when the journey has no usable state, or the event
    is older than its newest step (an import out of order), its stored steps
    (`stored_steps()`, oldest first with their times, called only then) are folded
    first. Returns the event's score (its journey up to it) and the journey's score
    now, which the session shows; they differ only for an event from the past."""
    later = []
    if journey.state is None or not in_order(journey.state, event.occurred_at):
        later = _journey_rebuild(journey, stored_steps(), at=event.occurred_at, ruleset=ruleset)
    result = journey_step(session, journey, event, ruleset=ruleset, thresholds=thresholds,
                          visit_gap_seconds=visit_gap_seconds)
    if not later:
        return result, result
    _journey_catch_up(journey, later, ruleset=ruleset)
    # As of the event's time too, which is before the later steps: read at the newest of them.
    now = journey_score(session, journey, ruleset=ruleset, thresholds=thresholds, now=event.occurred_at)
    session.score, session.engagement_level = now.points, now.level
    return result, now
