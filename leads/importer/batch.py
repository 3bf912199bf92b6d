"""One batch of the import: its rows scored and stored as if each had been tracked
in turn (each row one step of its journey, interactions.journey.journey_step, as
the tracker), in a few queries whatever its size."""

from __future__ import annotations

import bisect
import itertools
import uuid
from datetime import datetime
from typing import Any, NamedTuple

from django.conf import settings
from django.db.models import Sum

from core.bulk import bulk_update_values
from interactions import journey
from interactions.models import UserInteraction, UserSession
from leads.importer.rows import Row
from leads.models import ConsentMethod, Lead
from leads.services import create_lead_from_form, lead_apply_score
from scoring import engine, incremental

SESSION_AGGREGATES = [
    "created_at", "last_seen_at", "visit_count", "interaction_count", "engagement_seconds", "score",
    "engagement_level", "scoring_state",
]


class _Step(NamedTuple):
    """One interaction of a journey, as the tracker orders them: by time, then by
    when it was stored (stored rows by pk, this batch's after them in file order)."""

    created_at: datetime
    order: tuple[int, int]
    interaction_type: str
    data: dict[str, Any]


def _step_key(step: _Step) -> tuple[datetime, tuple[int, int]]:
    return step.created_at, step.order



class Batch:
    """Score and store one batch of rows as if each had been tracked in turn: each row
    is one step of its journey (interactions.journey.journey_step, as the tracker)."""

    def __init__(self, rows: tuple[Row, ...], *, ruleset: incremental.RuleSet, thresholds: engine.Thresholds):
        self.rows = rows
        self.ruleset = ruleset
        self.thresholds = thresholds
        self.sessions: dict[uuid.UUID, UserSession] = {}
        # Per journey (the tracker's journey_interactions: a session's, or its lead's):
        # its steps, stored and of this batch, in the tracker's order, and its live state.
        self.journeys: dict[tuple[str, int], list[_Step]] = {}
        self.live: dict[tuple[str, int], journey.LiveJourney] = {}
        self.leads: dict[int, Lead] = {}
        self.pending: list[UserInteraction] = []
        self.changed_sessions: dict[int, UserSession] = {}
        self.changed_leads: dict[int, engine.ScoreResult] = {}
        self.sequence = itertools.count()
        self.fresh: list[Row] = []
        self.new_session_ids: set[int] = set()
        self.imported = self.skipped = self.sessions_created = self.lead_rows = 0

    def run(self) -> None:
        self.fresh = self._fresh_rows()
        if not self.fresh:
            return
        self._load_sessions()
        self._load_journeys()
        for row in self.fresh:
            session = self.sessions[row.public_id]
            interaction = self._track(row, session)
            if row.contact is not None:
                self._flush(for_lead_of=session)
                self._convert(row, session, interaction)
        self._flush()
        self.imported = len(self.fresh)

    def _fresh_rows(self) -> list[Row]:
        ids = {row.external_id for row in self.rows}
        stored = set(UserInteraction.objects.filter(external_id__in=ids).values_list("external_id", flat=True))
        fresh = []
        for row in self.rows:
            if row.external_id in stored:
                self.skipped += 1
            else:
                # A repeated id within the file is skipped like one imported before.
                stored.add(row.external_id)
                fresh.append(row)
        return fresh

    def _load_sessions(self) -> None:
        first_rows: dict[uuid.UUID, Row] = {}
        for row in self.fresh:
            first_rows.setdefault(row.public_id, row)
        self.sessions = UserSession.objects.in_bulk(list(first_rows), field_name="public_id")
        new = [
            UserSession(
                public_id=public_id,
                created_at=row.occurred_at,
                last_seen_at=row.occurred_at,
                **row.first_touch,
            )
            for public_id, row in first_rows.items()
            if public_id not in self.sessions
        ]
        UserSession.objects.bulk_create(new)
        self.sessions.update((session.public_id, session) for session in new)
        self.sessions_created = len(new)
        self.new_session_ids = {session.pk for session in new}

    def _load_journeys(self) -> None:
        session_ids = [
            session.pk
            for session in self.sessions.values()
            if session.lead_id is None and session.pk not in self.new_session_ids
        ]
        lead_ids = {session.lead_id for session in self.sessions.values() if session.lead_id}
        for session in self.sessions.values():
            if session.lead_id is None:
                key = ("session", session.pk)
                self.journeys[key] = []
                self.live[key] = journey.LiveJourney(
                    state=incremental.state_from_data(session.scoring_state, self.ruleset),
                    engagement_seconds=session.engagement_seconds,
                    visit_count=session.visit_count,
                )
        stored = (
            UserInteraction.objects.filter(session_id__in=session_ids)
            .order_by("created_at", "pk")
            .values_list("session_id", "pk", "created_at", "interaction_type", "data")
        )
        for session_id, pk, created_at, kind, data in stored:
            self.journeys[("session", session_id)].append(_Step(created_at, (0, pk), kind, data))
        if lead_ids:
            self._load_leads(lead_ids)

    def _load_leads(self, lead_ids: set[int]) -> None:
        """A lead's journey, state and session totals, across all their sessions."""
        self.leads.update(Lead.objects.in_bulk(lead_ids))
        for lead_id in lead_ids:
            self.journeys[("lead", lead_id)] = []
        stored = (
            UserInteraction.objects.filter(lead_id__in=lead_ids)
            .order_by("created_at", "pk")
            .values_list("lead_id", "pk", "created_at", "interaction_type", "data")
        )
        for lead_id, pk, created_at, kind, data in stored:
            self.journeys[("lead", lead_id)].append(_Step(created_at, (0, pk), kind, data))
        totals = {
            total["lead_id"]: total
            for total in UserSession.objects.filter(lead_id__in=lead_ids)
            .values("lead_id")
            .annotate(engagement_seconds=Sum("engagement_seconds"), visit_count=Sum("visit_count"))
        }
        for lead_id in lead_ids:
            self.live[("lead", lead_id)] = journey.LiveJourney(
                state=incremental.state_from_data(self.leads[lead_id].scoring_state, self.ruleset),
                engagement_seconds=totals[lead_id]["engagement_seconds"],
                visit_count=totals[lead_id]["visit_count"],
            )

    @staticmethod
    def _journey_key(session: UserSession) -> tuple[str, int]:
        # The tracker's journey_interactions: the lead's, once the visitor is one.
        return ("lead", session.lead_id) if session.lead_id else ("session", session.pk)

    def _track(self, row: Row, session: UserSession) -> UserInteraction:
        """What the middleware's visit count and track_user_interaction would do for this row."""
        at = row.occurred_at
        key = self._journey_key(session)
        steps, live = self.journeys[key], self.live[key]
        event = journey.Event(row.interaction_type, row.data, row.engagement_seconds, at)
        result, now = journey.journey_add(
            session, live, event,
            stored_steps=lambda: [(step.created_at, engine.Step(step.interaction_type, step.data)) for step in steps],
            ruleset=self.ruleset, thresholds=self.thresholds, visit_gap_seconds=settings.VISIT_GAP_SECONDS,
        )
        bisect.insort(steps, _Step(at, (1, next(self.sequence)), row.interaction_type, row.data), key=_step_key)
        interaction = UserInteraction(
            session=session,
            lead_id=session.lead_id,
            interaction_type=row.interaction_type,
            data=row.data,
            page_url=row.page_url,
            engagement_seconds=row.engagement_seconds,
            score=result.points,
            score_reasons=result.reasons_as_data(),
            created_at=at,
            external_id=row.external_id,
        )
        self.pending.append(interaction)
        session.created_at = min(session.created_at, at)
        self.changed_sessions[session.pk] = session
        if session.lead_id:
            self.changed_leads[session.lead_id] = now
        else:
            session.scoring_state = live.state.as_data()
        return interaction

    def _flush(self, *, for_lead_of: UserSession | None = None) -> None:
        """Write what was scored so far. Before a contact row (`for_lead_of`), only
        what the lead service reads is needed: every interaction (pk order is
        file order), and the sessions that are or are becoming a lead's."""
        if self.pending:
            UserInteraction.objects.bulk_create(self.pending)
            self.pending = []
        if for_lead_of is None:
            ready, self.changed_sessions = list(self.changed_sessions.values()), {}
        else:
            ready = [
                session
                for session in self.changed_sessions.values()
                if session.lead_id or session.pk == for_lead_of.pk
            ]
            for session in ready:
                del self.changed_sessions[session.pk]
        bulk_update_values(ready, SESSION_AGGREGATES)
        for lead_id, result in self.changed_leads.items():
            # As the tracker's lead_journey_scored receiver does after each of the
            # lead's interactions: the last one stands.
            lead_apply_score(
                lead=self.leads[lead_id], result=result, notify=False,
                journey_state=self.live[("lead", lead_id)].state.as_data(),
            )
        self.changed_leads = {}

    def _convert(self, row: Row, session: UserSession, interaction: UserInteraction) -> None:
        # The consent was given in the old system, not on our web form: the record
        # says so (GDPR Art. 7(1)). Staff are not e-mailed about historical leads.
        lead = create_lead_from_form(
            session=session, interaction=interaction, data=row.contact, occurred_at=row.occurred_at,
            notify=False, consent_method=ConsentMethod.IMPORT, trusted=True,
        )
        session.lead_id = lead.pk
        self.lead_rows += 1
        self._load_leads({lead.pk})
