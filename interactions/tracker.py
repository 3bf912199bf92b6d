"""The universal interaction tracker: record what a visitor did, score it, and
decide when to offer the contact form."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone

from core import sql
from interactions import experiments, journey
from interactions.models import ExperimentKind, InteractionType, UserInteraction, UserSession
from interactions.services import cookie_matches, cookie_read
from interactions.signals import lead_journey_scored
from scoring import engine, incremental
from scoring.services import scoring_config

MAX_DATA_BYTES = 20_000


def journey_interactions(*, session: UserSession) -> QuerySet[UserInteraction]:
    """The interactions that make up this visitor's journey: the lead's, across all
    their sessions, once they are a lead; until then, the session's own."""
    if session.lead_id:
        return UserInteraction.objects.filter(lead_id=session.lead_id)
    return UserInteraction.objects.filter(session_id=session.pk)


def journey_session_facts(*, session: UserSession) -> engine.SessionFacts:
    """Session-level facts; for a lead, summed over all their sessions."""
    engagement_seconds, visit_count = session.engagement_seconds, session.visit_count
    if session.lead_id:
        # This session as it is in memory (the tracker may be adding to it), the
        # lead's other sessions as stored.
        others = (
            UserSession.objects.filter(lead_id=session.lead_id)
            .exclude(pk=session.pk)
            .aggregate(engagement_seconds=Sum("engagement_seconds"), visit_count=Sum("visit_count"))
        )
        engagement_seconds += others["engagement_seconds"] or 0
        visit_count += others["visit_count"] or 0
    return engine.SessionFacts(
        engagement_seconds=engagement_seconds,
        visit_count=visit_count,
        utm_source=session.utm_source,
        utm_medium=session.utm_medium,
        utm_campaign=session.utm_campaign,
    )


def _validated_data(interaction_type: str, data: Mapping[str, Any] | None) -> dict[str, Any]:
    if interaction_type not in InteractionType.values:
        raise ValidationError({"interaction_type": f"Unknown interaction type {interaction_type!r}."})
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ValidationError({"data": "Interaction data must be a JSON object."})
    try:
        encoded = DjangoJSONEncoder().encode(dict(data))
    except (TypeError, ValueError) as error:
        raise ValidationError({"data": f"Interaction data must be JSON: {error}"}) from error
    if len(encoded) > MAX_DATA_BYTES:
        raise ValidationError({"data": f"Interaction data is larger than {MAX_DATA_BYTES} bytes."})
    return dict(data)


class JourneyChanged(Exception):
    """Another browser of the same lead added to the lead's journey while this event
    was being scored (the lead's journey_version moved): score it again."""


# A lead's journey is written with a version check instead of a second lock; losing
# the race this often in a row means something is wrong.
JOURNEY_ATTEMPTS = 5


@dataclass(frozen=True)
class Tracked:
    interaction: UserInteraction
    session: UserSession
    show_contact_prompt: bool = False
    # Experiments this event brought the visitor to, to record once it is stored.
    exposures: tuple[experiments.Placement, ...] = ()


@cache
def _journey_read(key: str, using: str) -> tuple[str, sql.Columns, sql.Columns]:
    """_journey_locked's SELECT, built once (core.sql): the session by `key` (id or
    public_id), locked, joined to its lead, with the lead's totals over all its
    sessions."""
    connection = connections[using]
    quote = connection.ops.quote_name
    lead_model = UserSession._meta.get_field("lead").related_model
    session_columns, lead_columns = sql.Columns(UserSession, "s", using), sql.Columns(lead_model, "l", using)
    sessions = quote(UserSession._meta.db_table)
    totals = [
        f"(SELECT SUM(t.{quote(column)}) FROM {sessions} t WHERE t.lead_id = s.lead_id)"
        for column in ("engagement_seconds", "visit_count")
    ]
    statement = (
        f"SELECT {session_columns.sql}, {lead_columns.sql}, {', '.join(totals)} "
        f"FROM {sessions} s LEFT JOIN {quote(lead_model._meta.db_table)} l ON l.id = s.lead_id "
        f"WHERE s.{quote(key)} = %s"
        + (" FOR UPDATE OF s" if connection.features.has_select_for_update_of else "")
    )
    return statement, session_columns, lead_columns


def _journey_locked(*, key: str, value: Any, using: str = "default") -> UserSession | None:
    """The visitor's session, locked until the transaction ends, with its lead (if
    they are one) and the lead's totals over all their sessions: one query."""
    statement, session_columns, lead_columns = _journey_read(key, using)
    connection = connections[using]
    value = UserSession._meta.get_field(key).get_db_prep_value(value, connection)
    with connection.cursor() as cursor:
        sql.execute(cursor, statement, [value], using)
        row = cursor.fetchone()
    if row is None:
        return None
    session = session_columns.instance(row[: len(session_columns)])
    lead_values = row[len(session_columns): len(session_columns) + len(lead_columns)]
    session.lead = lead_columns.instance(lead_values) if session.lead_id else None
    session.lead_engagement_seconds, session.lead_visit_count = row[-2:]
    return session


def _journey_of(session: UserSession, ruleset: incremental.RuleSet) -> journey.LiveJourney:
    """The journey an event of this (locked) session extends: its lead's, or its own."""
    if session.lead_id:
        return journey.LiveJourney(
            state=incremental.state_from_data(session.lead.scoring_state, ruleset),
            engagement_seconds=session.lead_engagement_seconds or 0,
            visit_count=session.lead_visit_count or 0,
        )
    # A session with no interaction yet has nothing to fold.
    state = incremental.state_new(ruleset) if not session.interaction_count else None
    return journey.LiveJourney(
        state=incremental.state_from_data(session.scoring_state, ruleset) or state,
        engagement_seconds=session.engagement_seconds,
        visit_count=session.visit_count,
    )


def journey_stored_steps(session: UserSession) -> list[tuple[datetime, engine.Step]]:
    """The journey's stored steps, oldest first, with when each happened."""
    rows = journey_interactions(session=session).order_by("created_at", "pk").values_list(
        "created_at", "interaction_type", "data"
    )
    return [(created_at, engine.Step(kind, data, created_at)) for created_at, kind, data in rows]


def track_user_interaction(
    session: UserSession,
    interaction_type: str,
    data: Mapping[str, Any] | None = None,
    *,
    page_url: str = "",
    engagement_seconds: int = 0,
    occurred_at: datetime | None = None,
    submission_key: str | None = None,
) -> UserInteraction:
    """Record one interaction, score the journey it extends, update the session.

    With a `submission_key` (the one-time id of the form that was posted), posting the
    same form again returns the interaction recorded the first time."""
    tracked = track_event(
        lambda: _journey_locked(key="id", value=session.pk), interaction_type, data, page_url=page_url,
        engagement_seconds=engagement_seconds, occurred_at=occurred_at, submission_key=submission_key,
    )
    if tracked is None:  # erased or purged while the visitor was using a tool
        raise UserSession.DoesNotExist(f"Visitor session {session.pk} no longer exists.")
    return tracked.interaction


def track_visitor_event(
    *,
    cookie: str,
    start: Callable[[], UserSession],
    interaction_type: str,
    data: Mapping[str, Any] | None = None,
    page_url: str = "",
    engagement_seconds: int = 0,
    prompt_page: str | None = None,
) -> Tracked:
    """An event the visitor's browser reports itself (the tracking endpoint): the
    visitor whose cookie this is, read and locked in one query, or a new visitor from
    `start()` when the cookie names none. The request is the visitor being seen, so a
    long silence before it starts a new visit."""
    started: list[UserSession] = []

    def locate() -> UserSession:
        parts = cookie_read(cookie)
        if parts is not None and not started:
            session = _journey_locked(key="public_id", value=parts[0])
            if cookie_matches(session, parts[1]):
                return session
        if not started:
            started.append(start())  # new, so nobody else can hold it: no lock to take
        return started[0]

    tracked = track_event(
        locate, interaction_type, data, page_url=page_url, engagement_seconds=engagement_seconds,
        prompt_page=prompt_page, starts_visits=True,
    )
    experiment_exposures_record(tracked.session, tracked.exposures)
    return tracked


def experiment_exposures_record(session: UserSession, placements: Iterable[experiments.Placement]) -> None:
    """Record the visitor's exposure to each experiment (an interaction of their
    journey, which also pins their variant on the session), unless one was recorded
    meanwhile (another tab). After the event that brought them there is stored: a
    failure here loses the record, never the event, and the next decision point
    records it (the variant, from the hash, is the same)."""
    for placement in placements:
        def unexposed(placement=placement) -> UserSession | None:
            current = _journey_locked(key="id", value=session.pk)
            if current is None or str(placement.experiment.id) in (current.experiments or {}):
                return None
            return current

        track_event(unexposed, InteractionType.EXPERIMENT_EXPOSURE, experiments.exposure_data(placement))


def experiment_conversions_record(session: UserSession) -> None:
    """The visitor has just become a lead: a conversion in each running experiment
    they were exposed to (an interaction of the lead's journey; in the caller's
    transaction, with the lead)."""
    for experiment_id, key in experiments.exposed_experiments(session):
        experiment = experiments.running_by_id(experiment_id)
        if experiment is not None:
            track_user_interaction(session, InteractionType.EXPERIMENT_CONVERSION,
                                   {"experiment": experiment_id, "name": experiment.name, "variant": key})


def track_event(
    locate: Callable[[], UserSession | None],
    interaction_type: str,
    data: Mapping[str, Any] | None = None,
    *,
    page_url: str = "",
    engagement_seconds: int = 0,
    occurred_at: datetime | None = None,
    submission_key: str | None = None,
    prompt_page: str | None = None,
    starts_visits: bool = False,
) -> Tracked | None:
    """track_user_interaction for a session found by `locate` (which reads it with
    _journey_locked: None when there is no such visitor, and then nothing is done).
    With `prompt_page`, also decide whether to offer the contact form on that page,
    recorded in the same write. `starts_visits`: the event is the browser's request
    itself (the tracking endpoint, which the middleware leaves alone), so it counts a
    new visit after a long silence. Never re-reads the journey when the event is its
    newest and the rules have not changed since its last event (scoring.incremental)."""
    data = _validated_data(interaction_type, data)
    if engagement_seconds < 0:
        raise ValidationError({"engagement_seconds": "Engagement time cannot be negative."})
    occurred_at = occurred_at or timezone.now()
    track = partial(
        _track, locate, interaction_type, data, page_url=page_url, engagement_seconds=engagement_seconds,
        occurred_at=occurred_at, submission_key=submission_key, prompt_page=prompt_page, starts_visits=starts_visits,
    )
    for attempt in range(1, JOURNEY_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                return track()
        except JourneyChanged:
            if attempt == JOURNEY_ATTEMPTS:
                raise


def _track(locate, interaction_type, data, *, page_url, engagement_seconds, occurred_at, submission_key,
           prompt_page, starts_visits) -> Tracked | None:
    # Locked, so two tabs tracking at once cannot both miss each other.
    session = locate()
    if session is None:
        return None
    if submission_key:
        # After taking the lock: a simultaneous duplicate waits for the first to commit.
        recorded = UserInteraction.objects.filter(external_id=submission_key).first()
        if recorded is not None:
            if recorded.session_id == session.pk:
                return Tracked(recorded, session)
            submission_key = None  # another visitor's id (a copied page): record, not under it

    config = scoring_config()
    ruleset = config.ruleset
    visitor_journey = _journey_of(session, ruleset)
    event = journey.Event(interaction_type, data, engagement_seconds, occurred_at)
    result, now_result = journey.journey_add(
        session, visitor_journey, event, stored_steps=lambda: journey_stored_steps(session),
        ruleset=ruleset, thresholds=config.thresholds,
        visit_gap_seconds=settings.VISIT_GAP_SECONDS if starts_visits else None,
    )
    interaction = UserInteraction(
        session=session,
        lead_id=session.lead_id,
        interaction_type=interaction_type,
        data=data,
        page_url=page_url[:500],
        engagement_seconds=engagement_seconds,
        score=result.points,
        score_reasons=result.reasons_as_data(),
        created_at=occurred_at,
        external_id=submission_key,
    )
    fields = ["interaction_count", "engagement_seconds", "visit_count", "score", "engagement_level", "last_seen_at"]
    offer = ContactOffer(show=False)
    if prompt_page is not None:
        offer = contact_offer(session, page=prompt_page, now=occurred_at)
        if offer.show:
            fields += _prompt_offered(session, page=prompt_page, now=occurred_at)
    if interaction_type == InteractionType.EXPERIMENT_EXPOSURE:
        # The visitor keeps the variant they were shown, whatever the weights become.
        session.experiments = {**(session.experiments or {}), str(data["experiment"]): data["variant"]}
        fields.append("experiments")
    if not session.lead_id:
        session.scoring_state = visitor_journey.state.as_data()
        fields.append("scoring_state")
    sql.insert_and_update(interaction, session, fields)
    if session.lead_id:
        lead_journey_scored.send(
            sender=UserInteraction, interaction=interaction, result=now_result, lead=session.lead,
            journey_state=visitor_journey.state.as_data(), rule_version=config.version,
        )
    return Tracked(interaction, session, offer.show, offer.exposures)


def _prompt_pages_this_visit(session: UserSession) -> list[str]:
    """The pages the contact form was offered on in the visitor's current visit."""
    if session.contact_prompt_visit != session.visit_count:
        return []
    return list(session.contact_prompt_pages or [])


@dataclass(frozen=True)
class ContactOffer:
    """Whether to offer the contact form now, and the experiments whose exposure this
    decision is (interactions.experiments): the visitor's score has reached the point
    where the variants first differ for them."""

    show: bool
    exposures: tuple[experiments.Placement, ...] = ()


def should_show_contact_form(session: UserSession, *, page: str = "", now: datetime | None = None) -> bool:
    """contact_offer(...).show."""
    return contact_offer(session, page=page, now=now).show


def contact_offer(session: UserSession, *, page: str = "", now: datetime | None = None) -> ContactOffer:
    """Offer the contact form on `page` now? Only to visitors who are not yet leads,
    whose intent has reached the clinic's threshold and who have not said no within
    the cooldown. Each visit it is offered on at most `contact_prompt_max_shows`
    pages; a page it was already offered on keeps offering it (a reload or a
    tracking beacon from that page is not a new offer).

    A running offer experiment sets the threshold (a threshold experiment's variant)
    or holds the visitor out: never offered."""
    # converted_at without a lead: they gave details that went to another lead as an
    # unverified enquiry; asking again would show them it did not make them a lead.
    if session.lead_id or session.converted_at:
        return ContactOffer(show=False)
    config = scoring_config().settings
    now = now or timezone.now()
    if session.contact_prompt_dismissed_at is not None:
        cooldown = timedelta(minutes=config.contact_prompt_cooldown_minutes)
        if now - session.contact_prompt_dismissed_at < cooldown:
            return ContactOffer(show=False)
    threshold, held_out, exposures = _offer_experiments(session, config.contact_prompt_threshold)
    if held_out or session.score < threshold:
        return ContactOffer(show=False, exposures=exposures)
    pages = _prompt_pages_this_visit(session)
    show = (bool(page) and page in pages) or len(pages) < config.contact_prompt_max_shows
    return ContactOffer(show=show, exposures=exposures)


def _offer_experiments(session: UserSession, threshold: int) -> tuple[int, bool, tuple]:
    """The threshold this visitor's offer needs, whether an experiment holds them out,
    and the experiments they reach now for the first time."""
    held_out, exposures = False, []
    tested = experiments.placement(session, ExperimentKind.PROMPT_THRESHOLD)
    if tested is not None:
        thresholds = [arm.threshold if arm.threshold is not None else threshold for arm in tested.experiment.arms]
        if tested.arm is None:
            held_out = True
        elif tested.arm.threshold is not None:
            threshold = tested.arm.threshold
        if not tested.exposed and session.score >= min(thresholds):
            exposures.append(tested)
    worded = experiments.placement(session, ExperimentKind.PROMPT_TEXT)
    if worded is not None:
        held_out = held_out or worded.arm is None
        if not worded.exposed and session.score >= threshold:
            exposures.append(worded)
    return threshold, held_out, tuple(exposures)


def contact_prompt_shown(session: UserSession, *, page: str, now: datetime | None = None) -> None:
    """Record that the contact form was offered on `page`; once per page and visit."""
    fields = _prompt_offered(session, page=page, now=now or timezone.now())
    if fields:
        session.save(update_fields=fields)


def _prompt_offered(session: UserSession, *, page: str, now: datetime) -> list[str]:
    """Mark the offer on the session in memory; returns the fields to save."""
    pages = _prompt_pages_this_visit(session)
    page = page[:500]
    if page in pages:
        return []
    session.contact_prompt_pages = [*pages, page]
    session.contact_prompt_visit = session.visit_count
    session.contact_prompt_shown_count = len(session.contact_prompt_pages)
    session.contact_prompt_last_shown_at = now
    return ["contact_prompt_pages", "contact_prompt_visit", "contact_prompt_shown_count", "contact_prompt_last_shown_at"]


def contact_prompt_dismissed(session: UserSession, *, now: datetime | None = None) -> None:
    """"No thanks": the one thing that silences the offer, for the cooldown."""
    session.contact_prompt_dismissed_at = now or timezone.now()
    session.save(update_fields=["contact_prompt_dismissed_at"])
