"""One batch of the import: its rows scored and stored as if each had been tracked
in turn (each row one step of its journey, interactions.journey.journey_step, as
the tracker), in a few queries whatever its size.

Its interactions are written as plain rows in one COPY (core.bulk.bulk_insert), not
as model instances: making the instances and bulk_create's SQL cost more than the
scoring. A contact row that makes a new person's lead from a visitor first seen in
this batch (the usual case in an export) is converted in memory, with the lead
service's own parts (leads.services: lead_new, lead_score_changes,
lead_conversion_consents): one INSERT for the lead, the rest written with the
batch. Any other contact row (a returning patient, a visitor seen in an earlier
batch) writes what came before it and goes through create_lead_from_form."""

from __future__ import annotations

import bisect
import copy
import itertools
import json
import uuid
from datetime import datetime
from typing import Any, NamedTuple

from django.conf import settings
from django.db.models import Model, Q, Sum
from django.utils import timezone

from core import sql
from core.bulk import JSONText, bulk_insert, bulk_update_values, reserve_ids
from interactions import journey
from interactions.models import UserInteraction, UserSession
from leads.importer.rows import Row
from leads.models import Consent, ConsentMethod, Lead, LeadScoreChange, ScoreChangeCause
from leads.services import (
    create_lead_from_form,
    lead_apply_score,
    lead_conversion_consents,
    lead_new,
    lead_score_change_values,
    lead_score_changes,
)
from scoring import engine, incremental

SESSION_FIELDS = [
    "created_at", "last_seen_at", "visit_count", "interaction_count", "engagement_seconds", "score",
    "engagement_level", "scoring_state", "lead", "lead_stage", "converted_at",
]
# An interaction waiting to be written: a list of these values, in this order.
INTERACTION_FIELDS = (
    "session", "lead", "interaction_type", "data", "page_url", "engagement_seconds", "score", "score_reasons",
    "converted", "created_at", "external_id",
)
_LEAD, _CONVERTED, _CREATED_AT = 1, 8, 9


class _Step(NamedTuple):
    """One interaction of a journey, as the tracker orders them: by time, then by
    when it was stored (stored rows by pk, this batch's after them in file order)."""

    created_at: datetime
    order: tuple[int, int]
    interaction_type: str
    data: dict[str, Any]


def _step_key(step: _Step) -> tuple[datetime, tuple[int, int]]:
    return step.created_at, step.order


def _insert_instances(objects: list[Model]) -> None:
    """Insert new instances of one model whose keys are set (reserve_ids), every column as it is on them."""
    if objects:
        fields = type(objects[0])._meta.concrete_fields
        bulk_insert(type(objects[0]), [field.name for field in fields],
                    ([getattr(obj, field.attname) for field in fields] for obj in objects))


class Batch:
    """Score and store one batch of rows as if each had been tracked in turn: each row
    is one step of its journey (interactions.journey.journey_step, as the tracker)."""

    def __init__(
        self, rows: tuple[Row, ...], *, ruleset: incremental.RuleSet, thresholds: engine.Thresholds,
        rule_version: int | None = None,
    ):
        self.rows = rows
        self.ruleset = ruleset
        self.thresholds = thresholds
        self.rule_version = rule_version
        self.sessions: dict[uuid.UUID, UserSession] = {}
        # Per journey (the tracker's journey_interactions: a session's, or its lead's):
        # its steps, stored and of this batch, in the tracker's order, and its live state.
        self.journeys: dict[tuple[str, int], list[_Step]] = {}
        self.live: dict[tuple[str, int], journey.LiveJourney] = {}
        self.leads: dict[int, Lead] = {}
        # Scored, not written yet: interactions (also by session), leads made here
        # waiting for their source interaction's id, consents, sessions, lead scores.
        self.pending: list[list[Any]] = []
        self.pending_of_session: dict[int, list[list[Any]]] = {}
        self.pending_data_of_session: dict[int, list[dict[str, Any]]] = {}
        self.reasons_json: dict[tuple[engine.Reason, ...], JSONText] = {}
        self.new_leads: list[tuple[Lead, str]] = []
        self.unwritten_leads: list[Lead] = []
        self.unwritten_sessions: set[int] = set()
        self.lead_ids: list[int] | None = None
        self.pending_consents: list[Consent] = []
        self.changed_sessions: dict[int, UserSession] = {}
        self.changed_leads: dict[int, engine.ScoreResult] = {}
        # The leads' score history, as each row moves a score (written at the flush),
        # and each lead's last score in it.
        self.score_changes: list[LeadScoreChange] = []
        self.last_scores: dict[int, tuple[int, str, tuple[engine.Reason, ...]] | None] = {}
        self.written_sessions: set[int] = set()
        # E-mails and phones of leads on file or made in this batch: a contact row
        # naming one is a returning patient.
        self.known_emails: set[str] = set()
        self.known_phones: set[str] = set()
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
        self._load_known_contacts()
        for row in self.fresh:
            session = self.sessions[row.public_id]
            now = self._track(row, session)
            if row.contact is not None:
                if self._makes_new_lead(row, session):
                    self._convert_new(row, session, now)
                else:
                    self._flush()
                    self._convert(row, session)
                self.lead_rows += 1
                self.known_emails.add(row.contact_details.email)
                self.known_phones.add(row.contact_details.phone)
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
        ids = reserve_ids(UserSession, len(new))
        if ids is None:
            # No sequence to draw keys from (SQLite): inserted now, their totals at the flush.
            UserSession.objects.bulk_create(new)
        else:
            # Inserted once, at the flush, with their totals: an UPDATE of every new
            # session's indexed columns cost as much again as its INSERT.
            for session, pk in zip(new, ids, strict=True):
                session.pk = pk
            self.unwritten_sessions = {session.pk for session in new}
        self.sessions.update((session.public_id, session) for session in new)
        self.sessions_created = len(new)
        self.new_session_ids = {session.pk for session in new}
        # Keys for the leads the contact rows may make (an unused one is only a gap).
        self.lead_ids = reserve_ids(Lead, sum(row.contact is not None for row in self.fresh))

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
        self._load_stored_steps("session", session_ids)
        if lead_ids:
            self._load_leads(lead_ids)

    def _load_leads(self, lead_ids: set[int]) -> None:
        """A lead's journey, state and session totals, across all their sessions."""
        self.leads.update(Lead.objects.in_bulk(lead_ids))
        for lead_id in lead_ids:
            self.journeys[("lead", lead_id)] = []
        self._load_stored_steps("lead", lead_ids)
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

    def _load_stored_steps(self, owner: str, ids) -> None:
        """The stored steps of these sessions' or leads' journeys (`owner`), oldest first."""
        stored = (
            UserInteraction.objects.filter(**{f"{owner}_id__in": ids})
            .order_by("created_at", "pk")
            .values_list(f"{owner}_id", "pk", "created_at", "interaction_type", "data")
        )
        for owner_id, pk, created_at, kind, data in stored:
            self.journeys[(owner, owner_id)].append(_Step(created_at, (0, pk), kind, data))

    def _load_known_contacts(self) -> None:
        emails = {row.contact_details.email for row in self.fresh if row.contact_details} - {""}
        phones = {row.contact_details.phone for row in self.fresh if row.contact_details} - {""}
        if emails or phones:
            on_file = Lead.objects.filter(Q(email__in=emails) | Q(phone__in=phones)).values_list("email", "phone")
            for email, phone in on_file:
                self.known_emails.add(email)
                self.known_phones.add(phone)

    @staticmethod
    def _journey_key(session: UserSession) -> tuple[str, int]:
        # The tracker's journey_interactions: the lead's, once the visitor is one.
        return ("lead", session.lead_id) if session.lead_id else ("session", session.pk)

    def _track(self, row: Row, session: UserSession) -> engine.ScoreResult:
        """What the middleware's visit count and track_user_interaction would do for
        this row; returns its journey's score now (with any later-dated steps)."""
        at = row.occurred_at
        key = self._journey_key(session)
        steps, live = self.journeys[key], self.live[key]
        event = journey.Event(row.interaction_type, row.data, row.engagement_seconds, at)
        result, now = journey.journey_add(
            session, live, event,
            stored_steps=lambda: [(step.created_at, engine.Step(step.interaction_type, step.data, step.created_at))
                                  for step in steps],
            ruleset=self.ruleset, thresholds=self.thresholds, visit_gap_seconds=settings.VISIT_GAP_SECONDS,
        )
        bisect.insort(steps, _Step(at, (1, next(self.sequence)), row.interaction_type, row.data), key=_step_key)
        reasons = self.reasons_json.get(result.reasons)
        if reasons is None:
            # Few distinct reason lists recur across a file: each is encoded once.
            reasons = self.reasons_json[result.reasons] = JSONText(json.dumps(result.reasons_as_data()))
        interaction = [
            session.pk, session.lead_id, row.interaction_type, row.data_json, row.page_url, row.engagement_seconds,
            result.points, reasons, False, at, row.external_id,
        ]
        self.pending.append(interaction)
        self.pending_of_session.setdefault(session.pk, []).append(interaction)
        self.pending_data_of_session.setdefault(session.pk, []).append(row.data)
        session.created_at = min(session.created_at, at)
        self.changed_sessions[session.pk] = session
        if session.lead_id:
            self.changed_leads[session.lead_id] = now
            self._note_score(session.lead_id, now, at)
        return now

    def _note_score(self, lead_id: int, result: engine.ScoreResult, at: datetime) -> None:
        """The lead's score history gets the row's score if it moved the lead's."""
        if lead_id not in self.last_scores:
            lead = self.leads[lead_id]
            self.last_scores[lead_id] = (lead.lead_score, lead.engagement_level, tuple(lead.score_reasons))
        score = (result.points, result.level, tuple(result.reasons_as_data()))
        if self.last_scores[lead_id] != score:
            self.last_scores[lead_id] = score
            self.score_changes.append(LeadScoreChange(**lead_score_change_values(
                lead=self.leads[lead_id], result=result, cause=ScoreChangeCause.IMPORT, at=at,
                rule_version=self.rule_version,
            )))

    def _flush(self) -> None:
        """Write what was scored so far: before a contact row that goes through the
        lead service (which reads it), and at the end."""
        if self.pending:
            bulk_insert(UserInteraction, INTERACTION_FIELDS, self.pending)
            self.written_sessions.update(self.pending_of_session)
            self.pending, self.pending_of_session, self.pending_data_of_session = [], {}, {}
        if self.new_leads:
            sources = dict(
                UserInteraction.objects.filter(external_id__in=[external_id for _, external_id in self.new_leads])
                .values_list("external_id", "pk")
            )
            for lead, external_id in self.new_leads:
                lead.interaction_id = sources[external_id]
            if self.unwritten_leads:
                _insert_instances(self.unwritten_leads)
            else:
                bulk_update_values([lead for lead, _ in self.new_leads], ["interaction"])
            self.new_leads, self.unwritten_leads = [], []
        if self.pending_consents:
            Consent.objects.bulk_create(self.pending_consents)
            self.pending_consents = []
        changed = list(self.changed_sessions.values())
        for session in changed:
            if not session.lead_id:
                session.scoring_state = self.live[("session", session.pk)].state.as_data()
        _insert_instances([session for session in changed if session.pk in self.unwritten_sessions])
        bulk_update_values([session for session in changed if session.pk not in self.unwritten_sessions],
                           SESSION_FIELDS)
        self.unwritten_sessions.difference_update(self.changed_sessions)
        self.changed_sessions = {}
        for lead_id, result in self.changed_leads.items():
            # As the tracker's lead_journey_scored receiver does after each of the
            # lead's interactions: the last one stands.
            lead_apply_score(
                lead=self.leads[lead_id], result=result, notify=False,
                journey_state=self.live[("lead", lead_id)].state.as_data(), history=False,
            )
        self.changed_leads = {}
        if self.score_changes:
            LeadScoreChange.objects.bulk_create(self.score_changes)
            self.score_changes = []

    def _makes_new_lead(self, row: Row, session: UserSession) -> bool:
        """Whether create_lead_from_form would make a new lead of this visitor and
        nothing else: they are not a lead, their journey is all in this batch and not
        written yet, and no lead has their e-mail or phone."""
        contact = row.contact_details
        return (
            session.lead_id is None
            and session.pk in self.new_session_ids
            and session.pk not in self.written_sessions
            and not (contact.email and contact.email in self.known_emails)
            and not (contact.phone and contact.phone in self.known_phones)
        )

    def _convert_new(self, row: Row, session: UserSession, now: engine.ScoreResult) -> None:
        """create_lead_from_form for a new person (see _makes_new_lead), in memory but
        for the lead's INSERT: the lead scored on the visitor's journey (`now`), the
        visitor's interactions linked and converted, the consents recorded."""
        at, key = row.occurred_at, ("session", session.pk)
        lead = lead_new(contact=row.contact_details, session=session, source_type=row.interaction_type, now=at)
        for name, value in lead_score_changes(lead=lead, result=now).items():
            setattr(lead, name, value)
        live = self.live.pop(key)
        # The session keeps the state it has now; the lead's journey goes on from a copy.
        lead.scoring_state = session.scoring_state = live.state.as_data()
        # As lead_apply_score's first write of a state.
        lead.journey_version = 1
        lead.updated_at = timezone.now()
        if self.lead_ids is None:
            sql.insert(lead)  # SQLite: its key now, its source interaction's at the flush
        else:
            lead.pk = self.lead_ids.pop()
            self.unwritten_leads.append(lead)
        self.new_leads.append((lead, row.external_id))
        interactions = self.pending_of_session[session.pk]
        datas = self.pending_data_of_session[session.pk]
        for interaction in interactions:
            interaction[_LEAD], interaction[_CONVERTED] = lead.pk, True
        session.lead_id, session.lead_stage, session.converted_at = lead.pk, lead.stage_reached, at
        # The consent was given in the old system, not on our web form: the record
        # says so (GDPR Art. 7(1)).
        self.pending_consents.extend(lead_conversion_consents(
            lead=lead, session=session, data=row.contact, now=at, method=ConsentMethod.IMPORT,
            photo_agreements=[(interaction[_CREATED_AT], data) for interaction, data in zip(interactions, datas)
                              if "photo_consent" in data],
        ))
        # The visitor's journey is now the lead's; the session keeps the state it had.
        self.leads[lead.pk] = lead
        self.last_scores[lead.pk] = None
        self._note_score(lead.pk, now, at)
        self.journeys[("lead", lead.pk)] = self.journeys.pop(key)
        self.live[("lead", lead.pk)] = journey.LiveJourney(
            state=copy.deepcopy(live.state), engagement_seconds=live.engagement_seconds,
            visit_count=live.visit_count,
        )

    def _convert(self, row: Row, session: UserSession) -> None:
        # The consent was given in the old system, not on our web form: the record
        # says so (GDPR Art. 7(1)). Staff are not e-mailed about historical leads.
        lead = create_lead_from_form(
            session=session, interaction=UserInteraction.objects.get(external_id=row.external_id), data=row.contact,
            occurred_at=row.occurred_at, notify=False, consent_method=ConsentMethod.IMPORT, trusted=True,
        )
        session.lead_id, session.lead_stage, session.converted_at = (
            UserSession.objects.filter(pk=session.pk).values_list("lead_id", "lead_stage", "converted_at").get()
        )
        self._load_leads({lead.pk})
        self.last_scores.pop(lead.pk, None)  # create_lead_from_form recorded its score
