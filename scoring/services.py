"""ORM-facing side of scoring: load the clinic's active rules and settings for the
pure engine.

The rules and settings are read on every tracked event, so each process keeps them
in memory (`scoring_config`). Saving a rule or the settings bumps a version in the
shared cache (Redis in production, so every process and machine sees it); a process
compares its copy's version with the shared one at most once every
`SCORING_CONFIG_CHECK_SECONDS`, so a change reaches every process within that time,
and the one that made it at once. A journey state built with other rules is never
used (scoring.incremental), so a process that is a moment late scores that moment
with the rules it had, never with a mix."""

import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from scoring import engine
from scoring.incremental import RuleSet
from scoring.models import LeadScoringRule, ScoringSettings

CONFIG_VERSION_KEY = "scoring:config-version"


def scoring_settings_get() -> ScoringSettings:
    """The clinic's single settings row, read now (created with defaults if missing)."""
    settings_row, _ = ScoringSettings.objects.get_or_create(pk=1)
    return settings_row


def rules_active() -> list[engine.Rule]:
    """The active rules, as the engine takes them, read now."""
    return [rule.as_engine_rule() for rule in LeadScoringRule.objects.filter(is_active=True)]


@dataclass(frozen=True)
class ScoringConfig:
    """The active rules and the settings, as this process knows them. `settings` is
    shared by every caller: read it, never change it."""

    ruleset: RuleSet
    settings: ScoringSettings

    @property
    def rules(self) -> tuple[engine.Rule, ...]:
        return self.ruleset.rules

    @property
    def thresholds(self) -> engine.Thresholds:
        return self.settings.thresholds()


# This process's copy: (config, the shared version it was read at, when it was last
# checked), replaced whole, so a thread never sees half of a change.
_copy: tuple[ScoringConfig, str, float] | None = None


def scoring_config() -> ScoringConfig:
    """The active rules and settings: this process's copy while it is current."""
    global _copy
    now, copy = time.monotonic(), _copy
    if copy is not None and now - copy[2] < settings.SCORING_CONFIG_CHECK_SECONDS:
        return copy[0]
    version = cache.get(CONFIG_VERSION_KEY)
    if version is None:
        cache.add(CONFIG_VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(CONFIG_VERSION_KEY)
    config = copy[0] if copy is not None and copy[1] == version else None
    if config is None:
        config = ScoringConfig(ruleset=RuleSet(rules_active()), settings=scoring_settings_get())
    _copy = (config, version, now)
    return config


def scoring_config_changed() -> None:
    """The rules or settings changed: every process reloads them (this one at once;
    the others within SCORING_CONFIG_CHECK_SECONDS). Called on every save and delete
    (scoring.apps), and again once the change is committed, so a process that
    reloaded in between, before the change was visible, reloads once more."""
    _announce_change()
    transaction.on_commit(_announce_change)


def _announce_change() -> None:
    scoring_config_forget()
    cache.set(CONFIG_VERSION_KEY, uuid.uuid4().hex, timeout=None)


def scoring_config_forget() -> None:
    """Drop this process's copy: the next scoring_config() reads the rules again."""
    global _copy
    _copy = None

