"""The clinic's scoring rules and settings as one JSON document, to keep under
version control, review, and load back (here or in another installation).

    {
      "format": "clinic-scoring-rules",
      "version": 1,
      "settings": {"medium_threshold": 40, "high_threshold": 70, ...},
      "rules": [{"name": ..., "description": ..., "kind": ..., "condition": ...,
                 "points": ..., "per_occurrence": ..., "is_active": ..., "order": ...}, ...]
    }

Loading checks the whole document first and writes nothing unless all of it is
valid; then rules are matched by name and created or updated in one transaction.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from core.parsers import json_loads
from scoring import engine
from scoring.models import TOO_MANY_ACTIVE, LeadScoringRule, ScoringSettings

DOCUMENT_FORMAT = "clinic-scoring-rules"
DOCUMENT_VERSION = 1
RULE_FIELDS = ("name", "description", "kind", "condition", "points", "per_occurrence", "is_active", "order")
REQUIRED_RULE_FIELDS = ("name", "kind", "condition", "points")
SETTINGS_FIELDS = (
    "medium_threshold",
    "high_threshold",
    "contact_prompt_threshold",
    "contact_prompt_cooldown_minutes",
    "contact_prompt_max_shows",
    "score_half_life_days",
)
# Settings a document may set to null (empty in the admin).
NULLABLE_SETTINGS = frozenset({"score_half_life_days"})


class RulesDocumentError(Exception):
    """A rules document that cannot be loaded; `problems` lists every reason."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class RuleChange:
    name: str
    changes: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoadSummary:
    created: tuple[str, ...] = ()
    updated: tuple[RuleChange, ...] = ()
    unchanged: tuple[str, ...] = ()
    deactivated: tuple[str, ...] = ()
    settings_changes: tuple[str, ...] = ()
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deactivated or self.settings_changes)


def _canonical(value: Any) -> Any:
    """Condition JSON with its keys sorted: PostgreSQL's jsonb does not keep key
    order, and an export must not change when nothing did."""
    if isinstance(value, Mapping):
        return {key: _canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    return value


def scoring_rules_export() -> dict[str, Any]:
    settings, _ = ScoringSettings.objects.get_or_create(pk=1)
    return {
        "format": DOCUMENT_FORMAT,
        "version": DOCUMENT_VERSION,
        "settings": {name: getattr(settings, name) for name in SETTINGS_FIELDS},
        "rules": [
            {name: _canonical(getattr(rule, name)) for name in RULE_FIELDS}
            for rule in LeadScoringRule.objects.order_by("order", "name")
        ],
    }


def scoring_rules_dumps(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def scoring_rules_parse(text: str) -> Any:
    try:
        return json_loads(text)
    except ValueError as error:
        raise RulesDocumentError([f"The file is not valid JSON: {error}."]) from error


def scoring_rules_load(*, document: Any, replace: bool = False, dry_run: bool = False) -> LoadSummary:
    """Create or update the document's rules (matched by name) and the settings.

    Everything is validated first, each rule as the admin validates it (the
    model's full_clean, which runs the engine's validate_rule); any problem raises
    RulesDocumentError listing them all, and nothing is written. With `replace`,
    active rules the document does not name are deactivated (never deleted: old
    interactions' score reasons still name them). With `dry_run` nothing is written.
    """
    problems: list[str] = []
    if not isinstance(document, Mapping):
        raise RulesDocumentError(["The document must be a JSON object with \"rules\" (and \"settings\")."])
    unknown = set(document) - {"format", "version", "settings", "rules"}
    if unknown:
        problems.append(f"Unknown top-level key(s): {', '.join(sorted(unknown))}.")
    if document.get("format", DOCUMENT_FORMAT) != DOCUMENT_FORMAT:
        problems.append(f"This is not a scoring rules document (format is {document.get('format')!r}).")
    if document.get("version", DOCUMENT_VERSION) != DOCUMENT_VERSION:
        problems.append(f"Unsupported version {document.get('version')!r}: this installation reads version 1.")

    existing = {rule.name: rule for rule in LeadScoringRule.objects.all()}
    rules = document.get("rules")
    planned: list[tuple[LeadScoringRule, tuple[str, ...] | None]] = []
    if not isinstance(rules, list):
        problems.append("\"rules\" must be a list of rules.")
    else:
        seen: dict[str, int] = {}
        for position, data in enumerate(rules, start=1):
            rule, changes, rule_problems = _planned_rule(position, data, existing)
            problems.extend(rule_problems)
            if rule is not None:
                seen[rule.name] = seen.get(rule.name, 0) + 1
                planned.append((rule, changes))
        problems.extend(
            f"Rule {name!r}: appears {count} times; names must be unique." for name, count in seen.items() if count > 1
        )

    named = {rule.name for rule, _ in planned}
    active_after = sum(1 for rule, _ in planned if rule.is_active) + (0 if replace else sum(
        1 for name, rule in existing.items() if rule.is_active and name not in named
    ))
    if active_after > engine.MAX_ACTIVE_RULES:
        problems.append(f"{active_after} rules would be active. {TOO_MANY_ACTIVE}")

    settings, settings_changes, settings_problems = _planned_settings(document.get("settings"))
    problems.extend(settings_problems)
    if problems:
        raise RulesDocumentError(problems)

    deactivated = [rule for name, rule in existing.items() if name not in named and rule.is_active] if replace else []
    summary = LoadSummary(
        created=tuple(rule.name for rule, changes in planned if changes is None),
        updated=tuple(RuleChange(rule.name, changes) for rule, changes in planned if changes),
        unchanged=tuple(rule.name for rule, changes in planned if changes == ()),
        deactivated=tuple(sorted(rule.name for rule in deactivated)),
        settings_changes=settings_changes,
        dry_run=dry_run,
    )
    if not dry_run:
        with transaction.atomic():
            for rule, changes in planned:
                if changes is None or changes:
                    rule.save()
            for rule in deactivated:
                rule.is_active = False
                rule.save(update_fields=["is_active", "updated_at"])
            if settings_changes:
                settings.save()
    return summary


def _problems_of(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [
            f"{name}: {message}" if name != "__all__" else message
            for name, messages in error.message_dict.items()
            for message in messages
        ]
    return list(error.messages)


def _planned_rule(
    position: int, data: Any, existing: Mapping[str, LeadScoringRule]
) -> tuple[LeadScoringRule | None, tuple[str, ...] | None, list[str]]:
    """The rule as it would be saved, what changes (None: a new rule), and the problems."""
    if not isinstance(data, Mapping):
        return None, None, [f"Rule #{position}: must be an object."]
    name = data.get("name")
    label = f"Rule {name!r}" if isinstance(name, str) and name.strip() else f"Rule #{position}"
    if not isinstance(name, str) or not name.strip():
        return None, None, [f"{label}: needs a \"name\"."]
    problems = [f"{label}: unknown key {key!r}." for key in sorted(set(data) - set(RULE_FIELDS))]
    problems += [f"{label}: {key!r} is missing." for key in REQUIRED_RULE_FIELDS if key not in data]
    for key in ("per_occurrence", "is_active"):
        if key in data and not isinstance(data[key], bool):
            problems.append(f"{label}: {key!r} must be true or false.")
    for key in ("points", "order"):
        if key in data and (isinstance(data[key], bool) or not isinstance(data[key], int)):
            problems.append(f"{label}: {key!r} must be a whole number.")
    if problems:
        return None, None, problems

    rule = existing.get(name) or LeadScoringRule()
    before = {key: getattr(rule, key) for key in RULE_FIELDS}
    values = {"description": "", "per_occurrence": False, "is_active": True, "order": 0, **data}
    for key in RULE_FIELDS:
        setattr(rule, key, values[key])
    try:
        rule.full_clean()
    except ValidationError as error:
        # The active-rule limit is checked for the whole document (scoring_rules_load):
        # against the database alone, a file that swaps rules would be refused.
        problems = [problem for problem in _problems_of(error) if not problem.endswith(TOO_MANY_ACTIVE)]
        if problems:
            return None, None, [f"{label}: {problem}" for problem in problems]
    if rule.pk is None:
        return rule, None, []
    changes = tuple(
        f"{key}: {_shown(before[key])} -> {_shown(values[key])}"
        for key in RULE_FIELDS
        if _canonical(before[key]) != _canonical(values[key])
    )
    return rule, changes, []


def _planned_settings(data: Any) -> tuple[ScoringSettings, tuple[str, ...], list[str]]:
    settings, _ = ScoringSettings.objects.get_or_create(pk=1)
    if data is None:
        return settings, (), []
    if not isinstance(data, Mapping):
        return settings, (), ["\"settings\" must be an object."]
    problems = [f"Settings: unknown key {key!r}." for key in sorted(set(data) - set(SETTINGS_FIELDS))]
    problems += [
        f"Settings: {key!r} must be a whole number."
        for key, value in data.items()
        if key in SETTINGS_FIELDS and (isinstance(value, bool) or not isinstance(value, int))
        and not (value is None and key in NULLABLE_SETTINGS)
    ]
    if problems:
        return settings, (), problems
    changes = tuple(
        f"{key}: {getattr(settings, key)} -> {value}" for key, value in data.items() if getattr(settings, key) != value
    )
    for key, value in data.items():
        setattr(settings, key, value)
    try:
        settings.full_clean()
    except ValidationError as error:
        return settings, (), [f"Settings: {problem}" for problem in _problems_of(error)]
    return settings, changes, []


def _shown(value: Any) -> str:
    return json.dumps(_canonical(value), ensure_ascii=False)
