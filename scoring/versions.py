"""Rule versions: the rules and settings as immutable, numbered snapshots.

A version is recorded whenever the rules or the settings change: on every save or
delete (scoring.apps, once the change commits), when a rules document is loaded,
when staff accept a calibration, and, should a change ever bypass those, the first
time a process loads the changed rules (scoring.services). Recording compares the
rules and settings as they are now with the latest version's and makes a new
version only when they differ, so a save that changes nothing (or ten rules saved
in one transaction) makes no version, or one.

Every score change names the version that produced it (leads.LeadScoreChange), and
`ruleset_of(version)` scores any journey with a version's rules: a lead's score can
be explained and replayed under any version (leads.score_history).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from functools import lru_cache

from django.db import IntegrityError, transaction

from scoring import engine
from scoring.incremental import RuleSet
from scoring.models import RuleVersion
from scoring.portability import scoring_rules_export

# Attempts at recording when another process records the same change at once.
RECORD_ATTEMPTS = 3


def document_fingerprint(document: dict) -> str:
    """A fingerprint of a rules document's content (its keys in any order)."""
    encoded = json.dumps(document, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


def rule_version_latest() -> RuleVersion | None:
    return RuleVersion.objects.order_by("-number").first()


def rule_version_record(*, by=None, note: str = "") -> RuleVersion:
    """The version of the rules and settings as they are now: the latest version
    if nothing changed since it, otherwise a new one (numbered on from it). Two
    processes recording the same change at once make one version."""
    for attempt in range(1, RECORD_ATTEMPTS + 1):
        document = scoring_rules_export()
        fingerprint = document_fingerprint(document)
        latest = rule_version_latest()
        if latest is not None and latest.fingerprint == fingerprint:
            return latest
        try:
            with transaction.atomic():
                return RuleVersion.objects.create(
                    number=(latest.number + 1) if latest else 1, document=document, fingerprint=fingerprint,
                    created_by=by if by is not None and by.is_authenticated else None, note=note[:200],
                )
        except IntegrityError:  # another process took the number: read what it recorded
            if attempt == RECORD_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def rule_version_get(number: int) -> RuleVersion:
    return RuleVersion.objects.get(number=number)


def rule_version_at(moment: datetime) -> RuleVersion | None:
    """The version in force at a moment: the latest recorded by then (None before the first)."""
    return RuleVersion.objects.filter(created_at__lte=moment).order_by("-number").first()


@lru_cache(maxsize=32)
def _ruleset(rules: str, half_life_days: int | None) -> RuleSet:
    return RuleSet([engine.Rule(**rule) for rule in json.loads(rules)], half_life_days=half_life_days)


def ruleset_of(version: RuleVersion) -> RuleSet:
    """The version's active rules and score half-life, ready to score with (kept per
    process: the compiled rules remember the patterns they have worked out)."""
    rules = [
        {"name": rule.name, "kind": rule.kind, "condition": rule.condition, "points": rule.points,
         "per_occurrence": rule.per_occurrence}
        for rule in version.engine_rules()
    ]
    return _ruleset(json.dumps(rules, sort_keys=True), version.scoring_settings().score_half_life_days)
