"""Data-subject rights and retention: export everything held on a person (GDPR
Art. 15/20), erase it (Art. 17), and purge what has been kept long enough
(Art. 5(1)(e)). Every run is written to the audit trail.

Erasure anonymises in place rather than deleting: the lead, its sessions and its
interactions stay as anonymous rows, so the clinic's totals, funnel and campaign
figures do not change, but nothing in them can identify or reach the person. The
interaction log is append-only everywhere else; erasure is the one legal exception.
"""

from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.clinic import clinic_profile
from core.redaction import ANONYMOUS_DATA_KEYS
from interactions.models import UserInteraction, UserSession
from interactions.photos import photos_delete, photos_expired, photos_export, photos_of
from leads.contact import normalise_email, normalise_phone
from leads.models import AuditEvent, Lead
from leads.rollups import rollups_days_of, rollups_forget
from leads.services import lead_locked_after_its_visitors


def person_find(identifier: str) -> Lead:
    """The lead of the person with this e-mail address or phone number (any format)."""
    identifier = (identifier or "").strip()
    lead = None
    if "@" in identifier:
        try:
            lead = Lead.objects.filter(email=normalise_email(identifier)).first()
        except ValidationError:
            pass
    else:
        try:
            phone = normalise_phone(identifier)
        except ValidationError:
            phone = ""
        if phone:
            lead = Lead.objects.filter(phone=phone).first()
    if lead is None:
        raise ValidationError(f"No one with the e-mail address or phone number {identifier!r} is on file.")
    return lead


def _audit(*, action: str, by, actor_label: str, subject: str, detail: dict) -> None:
    AuditEvent.objects.create(action=action, actor=by, actor_label=actor_label, subject=subject, detail=detail)


def person_export(*, identifier: str, by=None, actor_label: str = "") -> dict[str, Any]:
    """Everything held on the person, as one JSON-ready document."""
    lead = person_find(identifier)
    sessions = list(lead.sessions.order_by("created_at"))
    interactions = UserInteraction.objects.filter(lead=lead).order_by("created_at", "pk")
    document = {
        "exported_at": timezone.now().isoformat(),
        "clinic": clinic_profile().name,
        "lead": {
            field.name: _plain(getattr(lead, field.attname))
            for field in Lead._meta.concrete_fields
        },
        "consents": list(lead.consents.order_by("created_at").values(
            "purpose", "granted", "text", "text_version", "method", "created_at")),
        "appointments": list(lead.appointments.values(
            "treatment", "preferred_date", "time_window", "notes", "status", "created_at")),
        "notes": list(lead.notes.values("text", "created_at")),
        "status_history": list(lead.status_changes.values("from_status", "to_status", "changed_at")),
        "score_history": list(lead.score_changes.values("at", "score", "level", "reasons", "rule_version", "cause")),
        "visits": [
            {
                "visitor_id": str(session.public_id), "first_seen": session.created_at, "last_seen": session.last_seen_at,
                "landing_page": session.landing_page, "referrer": session.referrer, "user_agent": session.user_agent,
                **session.utm,
            }
            for session in sessions
        ],
        "interactions": list(interactions.values(
            "interaction_type", "data", "page_url", "engagement_seconds", "score", "score_reasons", "created_at")),
        "photos": photos_export(interactions=interactions),
    }
    _audit(action=AuditEvent.Action.EXPORT, by=by, actor_label=actor_label, subject=f"lead {lead.pk}",
           detail={"interactions": len(document["interactions"]), "visits": len(sessions)})
    return _json_ready(document)


@dataclass(frozen=True)
class ErasureSummary:
    lead: int
    visits: int
    interactions: int
    notes: int
    appointments: int
    dry_run: bool


def person_erase(*, identifier: str, by=None, actor_label: str = "", dry_run: bool = False) -> ErasureSummary:
    """Irreversibly anonymise the person everywhere; with `dry_run`, only count."""
    lead = person_find(identifier)
    with transaction.atomic():
        # The visitors before the lead, as the tracker locks them: a patient still on
        # the site while they are erased must not deadlock with their own events.
        lead = lead_locked_after_its_visitors(lead.pk)
        sessions = UserSession.objects.filter(lead=lead)
        interactions = UserInteraction.objects.filter(lead=lead) | UserInteraction.objects.filter(session__in=sessions)
        summary = ErasureSummary(
            lead=lead.pk, visits=sessions.count(), interactions=interactions.count(),
            notes=lead.notes.count(), appointments=lead.appointments.count(), dry_run=dry_run,
        )
        if dry_run:
            return summary
        photos_delete(photos=photos_of(interactions=interactions.distinct()))
        for interaction in interactions.distinct():
            interaction.data = {k: v for k, v in (interaction.data or {}).items() if k in ANONYMOUS_DATA_KEYS}
            interaction.page_url = urlsplit(interaction.page_url).path
            interaction.score_reasons = anonymous_reasons(interaction.score_reasons)
            interaction.save(update_fields=["data", "page_url", "score_reasons"])
        # A campaign's term and content are free text from the link (a search keyword,
        # an ad variant made for one person): erased like the landing page they came in.
        # The scoring states keep staff adjustments' reasons: the next event folds the
        # journey again, from the erased data.
        sessions.update(user_agent="", ip_hash="", landing_page="", referrer="", utm_term="", utm_content="",
                        scoring_state=None)
        lead.notes.all().delete()
        lead.appointments.update(notes="")
        lead.first_name = lead.last_name = lead.email = lead.phone = lead.message = ""
        lead.landing_page = lead.referrer = lead.utm_term = lead.utm_content = ""
        lead.score_reasons = anonymous_reasons(lead.score_reasons)
        for change in lead.score_changes.all():
            reasons = anonymous_reasons(change.reasons)
            if reasons != change.reasons:
                change.reasons = reasons
                change.save(update_fields=["reasons"])
        lead.scoring_state = None
        lead.journey_version += 1  # a tracker mid-event writes its state only over the version it read
        lead.erased_at = timezone.now()
        lead.save()
        # The admin's history names the object as it was shown: "Sarah Chen".
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Lead), object_id=str(lead.pk)
        ).update(object_repr=f"Lead #{lead.pk} (erased)", change_message="")
        _audit(action=AuditEvent.Action.ERASE, by=by, actor_label=actor_label, subject=f"lead {lead.pk}",
               detail={key: value for key, value in asdict(summary).items() if key != "dry_run"})
    return summary


def anonymous_reasons(reasons) -> list:
    """Score reasons with staff adjustments' free-text reasons taken out."""
    # A staff adjustment's reason is free text ("called Sarah back"): keep the points only.
    return [
        {**reason, "rule": "Adjusted by staff"} if str(reason.get("rule", "")).startswith("Adjusted by staff") else reason
        for reason in reasons or []
    ]


@dataclass(frozen=True)
class PurgeSummary:
    sessions: int
    interactions: int
    photos: int
    dry_run: bool


def purge_expired(*, by=None, actor_label: str = "", dry_run: bool = False, now=None) -> PurgeSummary:
    """Delete anonymous visitors (never leads) not seen for VISITOR_RETENTION_DAYS,
    with their interactions, and kept photos older than PHOTO_RETENTION_DAYS."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.VISITOR_RETENTION_DAYS)
    stale = UserSession.objects.filter(lead__isnull=True, last_seen_at__lt=cutoff)
    photos = photos_expired(now=now, stale_sessions=stale)
    summary = PurgeSummary(
        sessions=stale.count(), interactions=UserInteraction.objects.filter(session__in=stale).count(),
        photos=photos.count(), dry_run=dry_run,
    )
    if not dry_run:
        with transaction.atomic():
            photos_delete(photos=photos)
            # Only the days counting what is deleted are counted again (the whole log's
            # summary reads every day since the first: all days up to the cutoff would be
            # rolled up again after every purge).
            days = rollups_days_of(sessions=stale, interactions=UserInteraction.objects.filter(session__in=stale))
            stale.delete()
            rollups_forget(days=days)
            _audit(action=AuditEvent.Action.PURGE, by=by, actor_label=actor_label, subject="anonymous visitors",
                   detail={"sessions": summary.sessions, "interactions": summary.interactions, "photos": summary.photos,
                           "older_than": cutoff.isoformat()})
    return summary


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def _json_ready(value):
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_ready(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "as_tuple"):  # Decimal
        return str(value)
    return value
