"""Writes on leads: create from a contact form, rescore, change status."""

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.permissions import CONTACT_PERMISSION
from interactions.models import EngagementLevel, InteractionType, UserInteraction, UserSession
from interactions.journey import journey_folded
from interactions.tracker import (
    experiment_conversions_record,
    journey_session_facts,
    journey_stored_steps,
    track_user_interaction,
)
from leads.consent_texts import consent_text
from leads.contact import ContactDetails, normalise_contact, normalise_email, normalise_phone
from leads.models import (
    Appointment,
    Consent,
    ConsentMethod,
    ConsentPurpose,
    Lead,
    LeadNote,
    LeadScoreChange,
    LeadSource,
    LeadStatus,
    LeadStatusChange,
    ScoreChangeCause,
    TimeWindow,
)
from leads.rollups import rollups_forget
from leads.tasks import notify_staff_of_high_intent_lead
from scoring import engine, incremental
from scoring.services import scoring_config

ATTRIBUTION_FIELDS = (
    "landing_page",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
)


def _find_lead(contact: ContactDetails) -> Lead | None:
    """The person's existing lead: by e-mail first (the stronger identity), then phone."""
    matches = Q(pk__in=[])
    if contact.email:
        matches |= Q(email=contact.email)
    if contact.phone:
        matches |= Q(phone=contact.phone)
    candidates = list(Lead.objects.select_for_update().filter(matches).order_by("created_at"))
    for lead in candidates:
        if contact.email and lead.email == contact.email:
            return lead
    return candidates[0] if candidates else None


def lead_new(*, contact: ContactDetails, session: UserSession, source_type: str | None, now: datetime) -> Lead:
    """A new person's lead as a contact form makes it, not saved yet and without its
    source interaction (the caller sets it): `source_type` is that interaction's type.
    The history import builds its new leads with it too, to store them in bulk."""
    return Lead(
        created_at=now,
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        phone=contact.phone,
        message=contact.message,
        source=lead_source_of(source_type),
        **{name: getattr(session, name) for name in ATTRIBUTION_FIELDS},
    )


def _new_lead(*, contact: ContactDetails, session: UserSession, source_interaction, now: datetime) -> Lead:
    lead = lead_new(
        contact=contact, session=session, now=now,
        source_type=source_interaction.interaction_type if source_interaction is not None else None,
    )
    lead.interaction = source_interaction
    lead.save(force_insert=True)
    return lead


def _find_or_create_lead(
    *, contact: ContactDetails, session: UserSession, source_interaction, now: datetime
) -> tuple[Lead, bool]:
    """The person's lead, and whether it was made just now."""
    lead = _find_lead(contact)
    if lead is not None:
        return lead, False
    try:
        # A savepoint: if a simultaneous submission created this person's
        # lead first, the unique constraint fires and we use theirs.
        with transaction.atomic():
            return _new_lead(contact=contact, session=session, source_interaction=source_interaction, now=now), True
    except IntegrityError:
        lead = _find_lead(contact)
        if lead is None:
            raise
        return lead, False


def _update_returning_lead(*, lead: Lead, contact: ContactDetails, session: UserSession, now: datetime) -> None:
    """A returning patient: newer details win, first-touch attribution is kept."""
    changed = []
    for name in ("first_name", "last_name"):
        value = getattr(contact, name)
        if value and value != getattr(lead, name):
            setattr(lead, name, value)
            changed.append(name)
    # E-mail and phone are only filled in, never moved off another person's lead;
    # the patient is not told (that would say whose they are), staff are.
    refused = []
    for name in ("email", "phone"):
        value = getattr(contact, name)
        if value and not getattr(lead, name):
            if Lead.objects.filter(**{name: value}).exists():
                refused.append(name)
            else:
                setattr(lead, name, value)
                changed.append(name)
    if refused:
        _note_details_on_file_elsewhere(lead=lead, contact=contact, names=refused, now=now)
    if contact.message:
        lead.message = f"{lead.message}\n\n{contact.message}".strip()
        changed.append("message")
    if not any(getattr(lead, name) for name in ATTRIBUTION_FIELDS):
        for name in ATTRIBUTION_FIELDS:
            setattr(lead, name, getattr(session, name))
        changed.extend(ATTRIBUTION_FIELDS)
    if lead.interaction_id is None:
        lead.interaction = _source_interaction(session=session, interaction=None)
        lead.source = _source_of(lead.interaction)
        changed.extend(["interaction", "source"])
    if changed:
        lead.save(update_fields=[*changed, "updated_at"])


FIELD_LABELS = {"email": "e-mail", "phone": "phone"}


def _note_details_on_file_elsewhere(*, lead: Lead, contact: ContactDetails, names: list[str], now: datetime) -> None:
    lines = [f"To review: the patient gave a {FIELD_LABELS[name]} that is on file for another lead, so it was "
             f"not added: {getattr(contact, name)}." for name in names]
    LeadNote.objects.create(lead=lead, text="\n".join(lines), created_at=now)


def _note_unverified_enquiry(
    *, lead: Lead, session: UserSession, contact: ContactDetails, data: Mapping[str, Any], now: datetime,
    about: str = "",
) -> None:
    """What an unverified visitor said about this lead, for staff to check with the patient."""
    lines = [
        "To review: an enquiry gave this patient's e-mail or phone from a browser that is not linked to "
        "them (the patient on a new device, or someone else). Nothing on the lead was changed.",
    ]
    if about:
        lines.append(about)
    given = (
        ("Name", f"{contact.first_name} {contact.last_name}".strip(), lead.full_name),
        ("E-mail", contact.email, lead.email),
        ("Phone", contact.phone, lead.phone),
    )
    for label, value, on_file in given:
        if value:
            lines.append(f"{label} given: {value}" + ("" if value == on_file else " (differs from the lead)"))
    if contact.message:
        lines.append(f"Message: {contact.message}")
    agreed = [label for key, label in (("consent_contact", "to be contacted"), ("consent_marketing", "to marketing"))
              if data.get(key) is True]
    if agreed:
        lines.append("Agreed " + " and ".join(agreed) + " (not recorded as the patient's consent).")
    lines.append(f"Visitor: {session.public_id}")
    LeadNote.objects.create(lead=lead, text="\n".join(lines), created_at=now)


def _source_interaction(*, session: UserSession, interaction: UserInteraction | None):
    if interaction is not None:
        if interaction.session_id != session.pk:
            raise ValidationError({"interaction": "This interaction belongs to another visitor."})
        return interaction
    return session.interactions.order_by("-created_at", "-pk").first()


def _source_of(interaction: UserInteraction | None) -> str:
    return lead_source_of(interaction.interaction_type if interaction is not None else None)


def lead_source_of(interaction_type: str | None) -> str:
    """The lead's source: the tool of the interaction it came from, else the contact form."""
    if interaction_type in LeadSource.values:
        return interaction_type
    return LeadSource.CONTACT_FORM


def _with_known_contact(*, session: UserSession, data: Mapping[str, Any]) -> Mapping[str, Any]:
    """A visitor who is already a lead is not asked again who they are: a form with
    no e-mail and no phone is theirs. A form that names an e-mail or phone is
    taken as given (a shared device may have a new person at it)."""
    if not session.lead_id or data.get("email") or data.get("phone"):
        return data
    lead = Lead.objects.get(pk=session.lead_id)
    known = {"first_name": lead.first_name, "last_name": lead.last_name, "email": lead.email, "phone": lead.phone}
    return {**known, **{key: value for key, value in data.items() if value not in ("", None)}}


def _has_contact_consent(lead_id: int | None) -> bool:
    return bool(lead_id) and Consent.objects.filter(
        lead_id=lead_id, purpose=ConsentPurpose.CONTACT, granted=True
    ).exists()


def lead_conversion_consents(
    *,
    lead: Lead,
    session: UserSession,
    data: Mapping[str, Any],
    now: datetime,
    method: str,
    photo_agreements: Iterable[tuple[datetime, Mapping[str, Any]]],
    photo_recorded: set[datetime] = frozenset(),
) -> list[Consent]:
    """The consent records a visitor's conversion makes, not saved yet: the photo
    analyses they agreed to before they were a lead (`photo_agreements`: when, and
    the interaction's data, of their interactions that carry a photo_consent; kept
    with the interaction until there is a lead, now a Consent with its words; one
    already recorded at that time is not recorded again), then what the form agreed to."""
    consents = []
    version, text = consent_text(ConsentPurpose.PHOTO_ANALYSIS)
    for agreed_at, agreed in photo_agreements:
        if agreed_at not in photo_recorded and agreed.get("photo_consent") == version:
            consents.append(Consent(lead=lead, session=session, purpose=ConsentPurpose.PHOTO_ANALYSIS, text=text,
                                    text_version=version, method=method, created_at=agreed_at))
    purposes = [ConsentPurpose.CONTACT] if data.get("consent_contact") is True else []
    if data.get("consent_marketing") is True:
        purposes.append(ConsentPurpose.MARKETING)
    for purpose in purposes:
        version, text = consent_text(purpose)
        consents.append(Consent(lead=lead, session=session, purpose=purpose, text=text, text_version=version,
                                method=method, created_at=now))
    return consents


def _record_consents(
    *, lead: Lead, session: UserSession, data: Mapping[str, Any], now: datetime, method: str
) -> None:
    recorded = set(Consent.objects.filter(lead=lead, purpose=ConsentPurpose.PHOTO_ANALYSIS)
                   .values_list("created_at", flat=True))
    agreements = session.interactions.filter(data__has_key="photo_consent").values_list("created_at", "data")
    Consent.objects.bulk_create(lead_conversion_consents(
        lead=lead, session=session, data=data, now=now, method=method, photo_agreements=agreements,
        photo_recorded=recorded,
    ))


def create_lead_from_form(
    *,
    session: UserSession,
    interaction: UserInteraction | None = None,
    data: Mapping[str, Any],
    occurred_at: datetime | None = None,
    notify: bool = True,
    consent_method: str = ConsentMethod.WEB_FORM,
    trusted: bool = False,
) -> Lead:
    """Turn a visitor into a lead (or update the lead they already are).

    Validates and normalises the contact details, finds the person's existing lead
    by e-mail or phone, links this session and all its interactions to the lead,
    records consent and scores the lead's whole journey, in one transaction.
    Raises ValidationError with field messages; on any error nothing is written.
    `occurred_at` dates a submission from the past (history import, demo data);
    such callers pass `notify=False`: staff are not e-mailed about old news.

    Anyone can type an e-mail address. So an existing lead is changed only by a
    visitor whose browser is already that lead's (the visitor cookie proves it) or
    by a `trusted` caller (the history import and the demo, whose data the clinic
    vouches for). Any other submission that names an e-mail or phone on file is an
    unverified enquiry: it becomes a note on that lead for staff to review; the
    lead keeps its name, details, browsers, consent and score, and is returned.
    """
    return _lead_from_form(
        session=session, interaction=interaction, data=data, occurred_at=occurred_at, notify=notify,
        consent_method=consent_method, trusted=trusted,
    )[0]


def _lead_from_form(
    *,
    session: UserSession,
    interaction: UserInteraction | None,
    data: Mapping[str, Any],
    occurred_at: datetime | None,
    notify: bool,
    consent_method: str,
    trusted: bool,
    about: str = "",
) -> tuple[Lead, bool]:
    """create_lead_from_form, also saying whether the visitor is now the lead's own
    (False: an unverified enquiry, noted on the lead with `about`)."""
    # Only a form completed from the visitor's own lead (no e-mail, no phone given)
    # may rely on the consent that lead gave before.
    known_visitor = bool(session.lead_id) and not (data.get("email") or data.get("phone"))
    data = _with_known_contact(session=session, data=data)
    contact = normalise_contact(data)
    if data.get("consent_contact") is not True and not (known_visitor and _has_contact_consent(session.lead_id)):
        raise ValidationError({"consent_contact": "Please agree to be contacted, or we cannot reply to you."})

    now = occurred_at or timezone.now()
    with transaction.atomic():
        session = UserSession.objects.select_for_update().get(pk=session.pk)
        source_interaction = _source_interaction(session=session, interaction=interaction)
        lead, created = _find_or_create_lead(
            contact=contact, session=session, source_interaction=source_interaction, now=now
        )
        if not created and not trusted and session.lead_id != lead.pk:
            _note_unverified_enquiry(lead=lead, session=session, contact=contact, data=data, now=now, about=about)
            # The visitor gave their details, as far as they can tell: they are not
            # prompted for them again, as a new lead would not be.
            if session.converted_at is None:
                session.converted_at = now
                session.save(update_fields=["converted_at"])
            return lead, False
        if not created:
            _update_returning_lead(lead=lead, contact=contact, session=session, now=now)

        converting = session.interactions.filter(lead__isnull=True)
        days = {timezone.localdate(at) for at in converting.values_list("created_at", flat=True)}
        converting.update(lead=lead, converted=True)
        rollups_forget(days=days)  # the dashboard's daily counts of converted interactions
        if session.lead_id != lead.pk:
            session.lead = lead
            session.lead_stage = lead.stage_reached  # the lead is locked (_find_lead) or new
            session.converted_at = now
            session.save(update_fields=["lead", "lead_stage", "converted_at"])
            experiment_conversions_record(session)
        _record_consents(lead=lead, session=session, data=data, now=now, method=consent_method)
        lead_rescore(lead=lead, notify=notify, at=now)
    return lead, True


@transaction.atomic
def contact_form_submit(
    *,
    session: UserSession,
    interaction: UserInteraction | None = None,
    data: Mapping[str, Any],
    submission_key: str | None = None,
) -> Lead:
    """The public contact form: make or update the lead (create_lead_from_form) and
    record the submission as a contact_form interaction under its one-time id, so the
    same form posted again (a double click, a browser retry) returns the lead and
    stores nothing more: no second message, no second consent record."""
    if submission_key:
        # Under the visitor's row lock: a simultaneous duplicate waits for the first.
        locked = UserSession.objects.select_for_update().get(pk=session.pk)
        recorded = UserInteraction.objects.filter(external_id=submission_key, session=locked).first()
        if recorded is not None:
            return Lead.objects.get(pk=recorded.data.get("lead") or recorded.lead_id)
    lead = create_lead_from_form(session=session, interaction=interaction, data=data)
    # After the lead exists, so the lead's source stays the tool the patient used; the
    # engine gives a contact_form nothing (scoring.engine.REPEATABLE_EVENTS). The lead
    # is named in the data too: an unverified enquiry's browser is not linked to it.
    track_user_interaction(session, InteractionType.CONTACT_FORM, {"lead": lead.pk}, page_url="/contact/",
                           submission_key=submission_key)
    return lead


def lead_rescore(
    *, lead: Lead, notify: bool = True, rules_changed: bool = False, at: datetime | None = None
) -> engine.ScoreResult:
    """Score the lead's whole journey with the current rules and store it, with the
    journey's incremental state (so the lead's next event need not read it again).
    `rules_changed`: rescored because the rules changed, not because the patient did
    something (see lead_apply_score). `at`: when the score changed, for its history
    (default now)."""
    session = lead.sessions.order_by("-last_seen_at", "-pk").first()
    if session is None:
        session = UserSession(lead=lead)
    config = scoring_config()
    state = journey_folded(journey_stored_steps(session), ruleset=config.ruleset)
    result = incremental.journey_score(
        state, config.ruleset, session_facts=journey_session_facts(session=session), thresholds=config.thresholds,
        now=timezone.now(),
    )
    lead_apply_score(
        lead=lead, result=result, notify=notify, rules_changed=rules_changed, journey_state=state.as_data(),
        rule_version=config.version, cause=ScoreChangeCause.RULES if rules_changed else ScoreChangeCause.EVENT, at=at,
    )
    return result


def lead_apply_score(
    *,
    lead: Lead,
    result: engine.ScoreResult,
    notify: bool = True,
    rules_changed: bool = False,
    journey_state: dict[str, Any] | None = None,
    journey_version: int | None = None,
    rule_version: int | None = None,
    cause: str = ScoreChangeCause.EVENT,
    at: datetime | None = None,
    interaction: UserInteraction | None = None,
    history: bool = True,
) -> bool:
    """Store a new score; the first time a lead reaches high intent, tell staff
    (unless `notify` is off: the crossing is still recorded, so no e-mail follows later).
    When the rules changed (a rescore), only a lead still being worked is worth an
    e-mail, and it says the lead was re-scored: a won or lost patient did nothing new.
    An unchanged score leaves updated_at alone, so it keeps meaning something.

    With `journey_state`, the lead's incremental scoring state is stored too, and its
    journey_version moves on; with `journey_version` as well, only if the lead's is
    still that one (the tracker's check that no other browser of the lead scored an
    event meanwhile): returns False, writing nothing, if it is not.

    A changed score is recorded in the lead's score history (LeadScoreChange) with
    what moved it (`cause`, and the `interaction` if one did), when (`at`, default
    now) and the rule version that produced it (default: the current one), unless
    `history` is off (the history import records each row's score itself)."""
    changes = lead_score_changes(lead=lead, result=result)
    crossing = "high_intent_notified_at" in changes
    leads = Lead.objects.filter(pk=lead.pk)
    if journey_state is not None:
        changes.update(scoring_state=journey_state, journey_version=F("journey_version") + 1)
        if journey_version is not None:
            leads = leads.filter(journey_version=journey_version)
    if not changes:
        return True
    if not leads.update(**changes):
        return False
    for name, value in changes.items():
        if name != "journey_version":
            setattr(lead, name, value)
    if history and "lead_score" in changes:
        LeadScoreChange.objects.create(**lead_score_change_values(
            lead=lead, result=result, cause=cause, at=at, interaction=interaction,
            rule_version=scoring_config().version if rule_version is None else rule_version,
        ))
    if journey_state is not None:
        lead.journey_version = (journey_version if journey_version is not None else lead.journey_version) + 1
    if crossing and notify and not (rules_changed and lead.status not in LeadStatus.open_values()):
        lead_id = lead.pk
        transaction.on_commit(
            lambda: notify_staff_of_high_intent_lead.enqueue(lead_id, rules_changed=rules_changed)
        )
    return True


def lead_score_changes(*, lead: Lead, result: engine.ScoreResult) -> dict[str, Any]:
    """The fields a new score changes on the lead (none when it is the same): the
    score, its level and reasons, and, the first time the lead reaches high intent,
    when that was (lead_apply_score writes them; the history import sets them on the
    leads it makes)."""
    reasons = result.reasons_as_data()
    crossing = result.level == EngagementLevel.HIGH and lead.high_intent_notified_at is None
    changes: dict[str, Any] = {}
    if (lead.lead_score, lead.engagement_level, lead.score_reasons) != (result.points, result.level, reasons) or crossing:
        changes.update(lead_score=result.points, engagement_level=result.level, score_reasons=reasons,
                       updated_at=timezone.now())
    if crossing:
        changes["high_intent_notified_at"] = timezone.now()
    return changes


def lead_score_change_values(
    *, lead: Lead, result: engine.ScoreResult, cause: str, rule_version: int | None,
    at: datetime | None = None, interaction: UserInteraction | None = None,
) -> dict[str, Any]:
    """A LeadScoreChange's fields for the lead's new score (the history import and
    the bulk rescore write many at once)."""
    return {
        "lead_id": lead.pk, "at": at or timezone.now(), "score": result.points, "level": result.level,
        "reasons": result.reasons_as_data(), "rule_version_id": rule_version, "cause": cause,
        "interaction_id": interaction.pk if interaction is not None else None,
    }


# What staff change on a lead by hand; contact fields only by staff who may see them.
WORK_FIELDS = ("status", "owner", "value")
CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "message")


def _may_work_leads(user) -> bool:
    return user.is_active and user.is_staff and user.has_perm("leads.change_lead")


def lead_update_check(*, lead: Lead, by, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The changes as lead_update would store them, or ValidationError keyed by field
    (forms call it to show the errors before saving)."""
    unknown = set(changes) - {*WORK_FIELDS, *CONTACT_FIELDS}
    if unknown:
        raise ValidationError(f"These fields are not changed by hand: {', '.join(sorted(unknown))}.")
    if by is not None and set(changes) & set(CONTACT_FIELDS) and not by.has_perm(CONTACT_PERMISSION):
        raise ValidationError("You may not change a patient's contact details.")
    errors: dict[str, str | list[str]] = {}
    cleaned = dict(changes)
    if "status" in changes and changes["status"] not in LeadStatus.values:
        errors["status"] = f"Unknown status {changes['status']!r}."
    owner = changes.get("owner")
    if owner is not None and not _may_work_leads(owner):
        # Marketing may not see who patients are: a lead given to them would show it.
        errors["owner"] = f"{owner.get_username()} does not work leads; choose a colleague who does."
    if changes.get("value") is not None:
        try:
            cleaned["value"] = Decimal(str(changes["value"]))
        except ArithmeticError:
            cleaned["value"] = Decimal("NaN")
        if not cleaned["value"].is_finite():
            errors["value"] = "Enter the treatment value as a number, e.g. 450.00."
        elif cleaned["value"] < 0:
            errors["value"] = "A treatment value cannot be negative."
    for name, normalise in (("email", normalise_email), ("phone", normalise_phone)):
        if name in changes:
            try:
                cleaned[name] = normalise(changes[name] or "")
            except ValidationError as error:
                errors[name] = error.messages
            else:
                if cleaned[name] and Lead.objects.filter(**{name: cleaned[name]}).exclude(pk=lead.pk).exists():
                    errors[name] = "This is already on file for another patient."
    for name in ("first_name", "last_name", "message"):
        if name in changes:
            cleaned[name] = (changes[name] or "").strip()
    if errors:
        raise ValidationError(errors)
    return cleaned


def lead_locked_after_its_visitors(pk: int) -> Lead:
    """The lead, locked, after the sessions of its visitors (whose copy of its stage a
    status change rewrites, and which an erasure clears): the order the tracker locks
    them in, a visitor's session and then its lead, so neither waits for the other. A visitor linked to the lead
    while this waited for the lead's lock is not locked yet: then every lock is let go
    and taken again, rather than waiting for that session while holding the lead."""
    while True:
        with transaction.atomic():
            visitors = list(UserSession.objects.select_for_update().filter(lead_id=pk).order_by("pk")
                            .values_list("pk", flat=True))
            lead = Lead.objects.select_for_update().get(pk=pk)
            if not UserSession.objects.filter(lead_id=pk).exclude(pk__in=visitors).exists():
                return lead
            transaction.set_rollback(True)


def lead_update(*, lead: Lead, by, at: datetime | None = None, **changes: Any) -> Lead:
    """Change a lead by hand: status (kept in the history), owner (someone who works
    leads), value (not negative) and, for staff who may see them, contact details.
    One transaction on the locked row, one narrow save: all of it or none of it; a
    status change that moves the lead's furthest stage writes it on its visitors too.
    `by` is the member of staff (None for the system: demo data, imports)."""
    changes = lead_update_check(lead=lead, by=by, changes=changes)
    with transaction.atomic():
        stored = lead_locked_after_its_visitors(lead.pk) if "status" in changes else (
            Lead.objects.select_for_update().get(pk=lead.pk))
        reached = stored.stage_reached
        changed = [name for name, value in changes.items() if getattr(stored, name) != value]
        kept = []
        if "status" in changed:
            LeadStatusChange.objects.create(
                lead=stored, from_status=stored.status, to_status=changes["status"], changed_by=by,
                changed_at=at or timezone.now(),
            )
            # The history's summary, written with it: the dashboard counts stages from it.
            stored.furthest_stage = LeadStatus.furthest(stored.furthest_stage, changes["status"])
            kept.append("furthest_stage")
        for name in changed:
            setattr(stored, name, changes[name])
        # The model's own rules too (field limits; at least an e-mail or a phone).
        checked = {*changed, *(("email", "phone", "erased_at") if {"email", "phone"} & set(changed) else ())}
        stored.full_clean(exclude=[f.name for f in Lead._meta.fields if f.name not in checked], validate_unique=False)
        if changed:
            stored.save(update_fields=[*changed, *kept, "updated_at"])
        if stored.stage_reached != reached:
            UserSession.objects.filter(lead=stored).update(lead_stage=stored.stage_reached)
    for name in (*changed, *kept, "updated_at"):
        setattr(lead, name, getattr(stored, name))
    return lead


def lead_create_by_staff(*, by, data: Mapping[str, Any]) -> Lead:
    """A person who phoned or walked in, added by staff. Like every lead: contact
    details normalised, one lead per person, and the consent to be contacted the person
    gave to staff recorded with its wording (method "staff"); then the pipeline fields
    through lead_update, so a starting status is in the history."""
    errors: dict[str, Any] = {}
    try:
        contact = normalise_contact(data)
    except ValidationError as error:
        errors.update(error.message_dict)
    if data.get("consent_contact") is not True:
        errors["consent_contact"] = "Only add a person who agreed to be contacted by the clinic."
    work = {name: data[name] for name in WORK_FIELDS if data.get(name) not in (None, "")}
    try:
        lead_update_check(lead=Lead(), by=by, changes=work)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        for name in ("email", "phone"):
            value = getattr(contact, name)
            if value and Lead.objects.filter(**{name: value}).exists():
                raise ValidationError({name: "This is already on file for another patient: open their lead."})
        lead = Lead.objects.create(
            first_name=contact.first_name, last_name=contact.last_name, email=contact.email, phone=contact.phone,
            message=contact.message, source=LeadSource.STAFF,
        )
        purposes = [ConsentPurpose.CONTACT, *([ConsentPurpose.MARKETING] if data.get("consent_marketing") is True else [])]
        for purpose in purposes:
            version, text = consent_text(purpose)
            Consent.objects.create(lead=lead, purpose=purpose, text=text, text_version=version,
                                   method=ConsentMethod.STAFF, created_at=lead.created_at)
        if work:
            lead_update(lead=lead, by=by, **work)
    return lead


def lead_update_status(
    *, lead: Lead, status: str, value: Decimal | None = None, by=None, at: datetime | None = None
) -> Lead:
    """Move a lead along the pipeline, keeping the history; `value` records what the
    treatment is worth."""
    changes: dict[str, Any] = {"status": status}
    if value is not None:
        changes["value"] = value
    return lead_update(lead=lead, by=by, at=at, **changes)


def lead_assign_owner(*, lead: Lead, owner, by=None) -> Lead:
    """Give the lead to a member of staff who works leads (or to nobody, with None)."""
    return lead_update(lead=lead, by=by, owner=owner)


@transaction.atomic
def lead_add_contact_details(
    *,
    lead: Lead,
    data: Mapping[str, Any],
    session: UserSession | None = None,
    submission_key: str | None = None,
) -> Lead:
    """The progressive second step: the visitor adds the phone or e-mail they left out.

    The answer is the same whatever is on file, so the step cannot be used to learn
    whose a phone or e-mail is: for the lead's own browser, details already on file
    are kept and details of another lead are not added (staff get a note); for the
    browser of an unverified enquiry (see create_lead_from_form), everything goes
    into a note on the lead for staff to review. Posted from the visitor's `session`
    with the form's `submission_key`, the step is recorded as a contact_form
    interaction under that id, and the same form posted again changes nothing."""
    if session is not None and submission_key:
        locked = UserSession.objects.select_for_update().get(pk=session.pk)
        if UserInteraction.objects.filter(external_id=submission_key, session=locked).exists():
            return Lead.objects.get(pk=lead.pk)
    contact = normalise_contact({**data, "email": data.get("email") or lead.email, "phone": data.get("phone") or lead.phone})
    now = timezone.now()
    if session is None or session.lead_id != lead.pk:
        lines = ["To review: more details from the unverified enquiry's browser (see the note before)."]
        lines += [f"{label} given: {getattr(contact, name)}" for name, label in (("email", "E-mail"), ("phone", "Phone"))
                  if data.get(name)]
        if contact.message:
            lines.append(f"Message: {contact.message}")
        if session is not None:
            lines.append(f"Visitor: {session.public_id}")
            track_user_interaction(session, InteractionType.CONTACT_FORM, {"step": "details"},
                                   page_url="/contact/thanks/", submission_key=submission_key)
        LeadNote.objects.create(lead=lead, text="\n".join(lines), created_at=now)
        return lead
    changed, refused = [], []
    for name in ("email", "phone"):
        value = getattr(contact, name)
        if value and not getattr(lead, name):
            if Lead.objects.filter(**{name: value}).exclude(pk=lead.pk).exists():
                refused.append(name)
                continue
            setattr(lead, name, value)
            changed.append(name)
    if refused:
        _note_details_on_file_elsewhere(lead=lead, contact=contact, names=refused, now=now)
    if contact.message:
        lead.message = f"{lead.message}\n\n{contact.message}".strip()
        changed.append("message")
    if changed:
        lead.save(update_fields=[*changed, "updated_at"])
        if session is not None:
            track_user_interaction(session, InteractionType.CONTACT_FORM, {"step": "details"},
                                   page_url="/contact/thanks/", submission_key=submission_key)
    return lead


# The clinic's diary is open a year ahead; a later date is a typo or a probe.
MAX_BOOKING_DAYS_AHEAD = 365

UNVERIFIED_BOOKING = "Unverified: booked from a browser that is not the patient's; check with them (see the notes)."

# Going Back and sending the same booking again within this time is the same request.
REPEAT_BOOKING_WINDOW = timedelta(days=1)


def _same_booking_recently(
    *, session: UserSession, treatment_slug: str, preferred_date: date, time_window: str, now: datetime
) -> Appointment | None:
    """This visitor's (or their lead's) request for the same treatment, day and time
    of day, made within the last day."""
    visitor = Q(interaction__session_id=session.pk)
    if session.lead_id:
        visitor |= Q(lead_id=session.lead_id)
    return (
        Appointment.objects.filter(
            visitor, treatment_slug=treatment_slug, preferred_date=preferred_date, time_window=time_window,
            created_at__gte=now - REPEAT_BOOKING_WINDOW, created_at__lte=now,
        )
        .order_by("created_at")
        .first()
    )


@transaction.atomic
def appointment_request(
    *,
    session: UserSession,
    treatment: str,
    treatment_slug: str,
    preferred_date: date,
    time_window: str,
    data: Mapping[str, Any],
    treatment_category: str = "",
    occurred_at: datetime | None = None,
    notify: bool = True,
    submission_key: str | None = None,
    trusted: bool = False,
) -> Appointment:
    """Book: track the booking, make (or update) the lead, store the request, all or
    nothing. `occurred_at` dates a booking from the past (demo data, history import).
    The same booking sent again within a day (Back, then Send) returns the first
    request, marked `already_requested`, and records nothing new.

    A booking that is an unverified enquiry (create_lead_from_form) is still stored on
    the lead, marked as such and noted for staff; it does not count towards the
    lead's score (the visitor's journey is not theirs), so no staff alert follows."""
    occurred_at = occurred_at or timezone.now()
    today = timezone.localdate(occurred_at)
    if preferred_date < today:
        raise ValidationError({"preferred_date": "Please choose a date from today on."})
    if (preferred_date - today).days > MAX_BOOKING_DAYS_AHEAD:
        raise ValidationError({"preferred_date": "We take bookings up to a year ahead."})
    if time_window not in TimeWindow.values:
        raise ValidationError({"time_window": "Please choose morning, afternoon or evening."})
    # Lock the visitor first: two posts of the same booking at once must see each other.
    session = UserSession.objects.select_for_update().get(pk=session.pk)
    repeated = _same_booking_recently(
        session=session, treatment_slug=treatment_slug, preferred_date=preferred_date, time_window=time_window,
        now=occurred_at,
    )
    if repeated is not None:
        repeated.already_requested = True
        return repeated
    days_ahead = (preferred_date - today).days
    urgency = "immediate" if days_ahead <= 14 else "soon" if days_ahead <= 60 else "flexible"
    interaction = track_user_interaction(
        session,
        InteractionType.APPOINTMENT_BOOKING,
        {
            "procedures": [treatment_slug] if treatment_slug else [],
            "treatment": treatment,
            "preferred_date": preferred_date.isoformat(),
            "time_window": time_window,
            "urgency": urgency,
            "categories": [treatment_category] if treatment_category else [],
        },
        page_url="/book/",
        occurred_at=occurred_at,
        submission_key=submission_key,
    )
    booked = Appointment.objects.filter(interaction=interaction).first()
    if booked is not None:
        return booked  # the same booking form posted twice
    asked = f"Asked for an appointment: {treatment} on {preferred_date:%d %b %Y}, {time_window}."
    lead, own = _lead_from_form(
        session=session, interaction=interaction, data=data, occurred_at=occurred_at, notify=notify,
        consent_method=ConsentMethod.WEB_FORM, trusted=trusted, about=asked,
    )
    notes = (data.get("message") or "").strip()[:2000]
    if not own:
        notes = f"{UNVERIFIED_BOOKING} {notes}".strip()
    return Appointment.objects.create(
        created_at=occurred_at,
        lead=lead,
        interaction=interaction,
        treatment=treatment,
        treatment_slug=treatment_slug,
        preferred_date=preferred_date,
        time_window=time_window,
        notes=notes,
    )


MAX_MANUAL_ADJUSTMENT = 50


def lead_adjust_score(*, lead: Lead, points: int, reason: str, by) -> UserInteraction:
    """Staff know things the site cannot see (a phone call, a walk-in): their
    adjustment is kept as an interaction of the lead's journey, with its reason."""
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = "Say why, so colleagues understand the score later."
    if isinstance(points, bool) or not isinstance(points, int) or points == 0 or abs(points) > MAX_MANUAL_ADJUSTMENT:
        errors["points"] = f"Give a whole number between -{MAX_MANUAL_ADJUSTMENT} and {MAX_MANUAL_ADJUSTMENT}, not 0."
    if errors:
        raise ValidationError(errors)
    session = lead.sessions.order_by("-last_seen_at").first()
    if session is None:
        raise ValidationError("This lead has no visitor session to record the adjustment on.")
    return track_user_interaction(
        session,
        InteractionType.SCORE_ADJUSTMENT,
        {"points": points, "reason": reason[:200], "by": getattr(by, "username", "")},
    )
