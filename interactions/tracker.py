"""The universal interaction tracker: record what a visitor did, score it, and
decide when to offer the contact form."""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone

from interactions.models import InteractionType, UserInteraction, UserSession
from interactions.signals import lead_journey_scored
from scoring import engine
from scoring.services import score_journey, scoring_settings_get

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


def journey_of_session(*, session: UserSession, until: datetime | None = None) -> list[engine.Step]:
    """The visitor's journey (see journey_interactions) as the engine's steps, oldest
    first; with `until`, only what happened by then."""
    interactions = journey_interactions(session=session)
    if until is not None:
        interactions = interactions.filter(created_at__lte=until)
    rows = interactions.order_by("created_at", "pk").values_list("interaction_type", "data")
    return [engine.Step(interaction_type, data) for interaction_type, data in rows]


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


@transaction.atomic
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
    """Record one interaction, score the journey it completes, update the session.

    With a `submission_key` (the one-time id of the form that was posted), posting the
    same form again returns the interaction recorded the first time."""
    data = _validated_data(interaction_type, data)
    if engagement_seconds < 0:
        raise ValidationError({"engagement_seconds": "Engagement time cannot be negative."})
    occurred_at = occurred_at or timezone.now()
    # Lock the visitor so two tabs tracking at once cannot both miss each other.
    session = UserSession.objects.select_for_update().get(pk=session.pk)
    if submission_key:
        # After taking the lock: a simultaneous duplicate waits for the first to commit.
        recorded = UserInteraction.objects.filter(external_id=submission_key).first()
        if recorded is not None:
            if recorded.session_id == session.pk:
                return recorded
            submission_key = None  # another visitor's id (a copied page): record, not under it
    session.engagement_seconds += engagement_seconds

    result = score_journey(
        steps=[*journey_of_session(session=session, until=occurred_at), engine.Step(interaction_type, data)],
        session_facts=journey_session_facts(session=session),
    )
    interaction = UserInteraction.objects.create(
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

    session.interaction_count += 1
    session.score = result.points
    session.engagement_level = result.level
    session.last_seen_at = max(session.last_seen_at, occurred_at)
    session.save(
        update_fields=["interaction_count", "engagement_seconds", "score", "engagement_level", "last_seen_at"]
    )
    if session.lead_id:
        lead_journey_scored.send(sender=UserInteraction, interaction=interaction, result=result)
    return interaction


def _prompt_pages_this_visit(session: UserSession) -> list[str]:
    """The pages the contact form was offered on in the visitor's current visit."""
    if session.contact_prompt_visit != session.visit_count:
        return []
    return list(session.contact_prompt_pages or [])


def should_show_contact_form(session: UserSession, *, page: str = "", now: datetime | None = None) -> bool:
    """Offer the contact form on `page` now? Only to visitors who are not yet leads,
    whose intent has reached the clinic's threshold and who have not said no within
    the cooldown. Each visit it is offered on at most `contact_prompt_max_shows`
    pages; a page it was already offered on keeps offering it (a reload or a
    tracking beacon from that page is not a new offer)."""
    # converted_at without a lead: they gave details that went to another lead as an
    # unverified enquiry; asking again would show them it did not make them a lead.
    if session.lead_id or session.converted_at:
        return False
    config = scoring_settings_get()
    now = now or timezone.now()
    if session.contact_prompt_dismissed_at is not None:
        cooldown = timedelta(minutes=config.contact_prompt_cooldown_minutes)
        if now - session.contact_prompt_dismissed_at < cooldown:
            return False
    if session.score < config.contact_prompt_threshold:
        return False
    pages = _prompt_pages_this_visit(session)
    return (bool(page) and page in pages) or len(pages) < config.contact_prompt_max_shows


def contact_prompt_shown(session: UserSession, *, page: str, now: datetime | None = None) -> None:
    """Record that the contact form was offered on `page`; once per page and visit."""
    pages = _prompt_pages_this_visit(session)
    page = page[:500]
    if page in pages:
        return
    session.contact_prompt_pages = [*pages, page]
    session.contact_prompt_visit = session.visit_count
    session.contact_prompt_shown_count = len(session.contact_prompt_pages)
    session.contact_prompt_last_shown_at = now or timezone.now()
    session.save(update_fields=[
        "contact_prompt_pages", "contact_prompt_visit", "contact_prompt_shown_count", "contact_prompt_last_shown_at",
    ])


def contact_prompt_dismissed(session: UserSession, *, now: datetime | None = None) -> None:
    """"No thanks": the one thing that silences the offer, for the cooldown."""
    session.contact_prompt_dismissed_at = now or timezone.now()
    session.save(update_fields=["contact_prompt_dismissed_at"])
