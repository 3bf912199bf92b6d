"""The one definition of a lead's known outcome, for everything that learns from
outcomes (rule calibration, the conversion model) so they all learn the same thing.

A lead converted when it reached "booked" (its status or its history: a lead lost
after booking was booked, so it converted). It did not convert when it was lost
before booking, or is still open, never booked, and older than the stale limit
(settings.LEAD_STALE_AFTER_DAYS): front desk has given up in all but name. A younger
open lead has no outcome yet and is left out, as is an erased lead (the person asked
to be forgotten: learning from them would keep them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Min

from leads.models import Lead, LeadStatus, LeadStatusChange

PIPELINE = LeadStatus.pipeline()
# A lead's outcome is known from its first move to one of these.
OUTCOME_STATUSES = (LeadStatus.BOOKED, LeadStatus.WON, LeadStatus.LOST)
CHUNK = 2000
CONVERTED_FROM = PIPELINE.index(LeadStatus.BOOKED)


@dataclass(frozen=True)
class LabelledLead:
    lead_id: int
    created_at: datetime
    converted: bool


def lead_converted(status: str, furthest_stage: str) -> bool:
    """Whether a lead with this status and furthest stage has reached booked."""
    return PIPELINE.index(LeadStatus.furthest(status, furthest_stage)) >= CONVERTED_FROM


def outcome_labels(*, as_of: datetime, stale_after_days: int | None = None) -> list[LabelledLead]:
    """The leads made before `as_of` whose outcome is known, oldest first, each with
    whether it converted. Statuses are read as they stand now; `as_of` only says which
    leads exist yet and how old an open one must be to count as stale
    (`stale_after_days`, settings.LEAD_STALE_AFTER_DAYS when not given).

    One query of four columns, streamed: it runs over every lead."""
    if stale_after_days is None:
        stale_after_days = settings.LEAD_STALE_AFTER_DAYS
    stale_before = as_of - timedelta(days=stale_after_days)
    rows = (
        Lead.objects.filter(erased_at__isnull=True, created_at__lt=as_of)
        .order_by("created_at", "pk")
        .values_list("pk", "created_at", "status", "furthest_stage")
    )
    labels = []
    for pk, created_at, status, furthest_stage in rows.iterator(chunk_size=5000):
        if lead_converted(status, furthest_stage):
            labels.append(LabelledLead(pk, created_at, True))
        elif status == LeadStatus.LOST or created_at < stale_before:
            labels.append(LabelledLead(pk, created_at, False))
    return labels


def outcome_moments(lead_ids: Sequence[int]) -> dict[int, datetime]:
    """Each lead's first move to booked, won or lost (leads never moved are absent)."""
    moments: dict[int, datetime] = {}
    for start in range(0, len(lead_ids), CHUNK):
        moments.update(
            LeadStatusChange.objects.filter(lead_id__in=lead_ids[start:start + CHUNK], to_status__in=OUTCOME_STATUSES)
            .values("lead_id").annotate(first=Min("changed_at")).values_list("lead_id", "first")
        )
    return moments


def outcome_cutoffs(
    labels: Sequence[LabelledLead], *, as_of: datetime, stale_after_days: int | None = None
) -> dict[int, datetime]:
    """When each labelled lead's outcome became known, so that whatever learns from
    it reads the lead as it was then and nothing after: its first move to booked, won
    or lost; for a lead left open, the day it went stale; never after `as_of`."""
    if stale_after_days is None:
        stale_after_days = settings.LEAD_STALE_AFTER_DAYS
    moments = outcome_moments([label.lead_id for label in labels])
    stale = timedelta(days=stale_after_days)
    return {
        label.lead_id: min(moments.get(label.lead_id, label.created_at + stale), as_of) for label in labels
    }
