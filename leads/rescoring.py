"""Rescore leads with the current rules: after the clinic changes its rules, or on
a schedule. Called by `manage.py rescore_leads`; the admin and a background task
can call the same service."""

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from interactions.models import EngagementLevel
from leads.models import Lead, LeadStatus
from leads.services import lead_rescore

DEFAULT_CHUNK_SIZE = 500


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


def leads_rescore(
    *,
    leads: QuerySet[Lead],
    dry_run: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> RescoreSummary:
    """Rescore each lead's whole journey with lead_rescore; with `dry_run`, work
    out what would change and save nothing.

    Leads are read in chunks and each chunk is rescored in one transaction with
    its leads locked, so memory stays bounded and a lead the tracker is scoring at
    the same moment is not overwritten with an older journey."""
    rescored = changed = 0
    level_changes: Counter[str] = Counter()
    # Ordered by pk: on SQLite the cursor reads the table as it is rewritten, and
    # pk order is the one order that rescoring cannot shuffle.
    ids = leads.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=chunk_size)
    for chunk in itertools.batched(ids, chunk_size):
        with transaction.atomic():
            for lead in Lead.objects.select_for_update().filter(pk__in=chunk).order_by("pk"):
                before = (lead.lead_score, lead.engagement_level)
                result = lead_rescore(lead=lead)
                rescored += 1
                if (result.points, result.level) != before:
                    changed += 1
                    if result.level != before[1]:
                        level_changes[f"{before[1]}->{result.level}"] += 1
            if dry_run:
                # Rolled back: no score is saved and no staff notification is sent.
                transaction.set_rollback(True)
    return RescoreSummary(
        rescored=rescored, changed=changed, level_changes=dict(level_changes), dry_run=dry_run
    )
