"""ORM-facing side of scoring: load the clinic's active rules and settings for the
pure engine.

The rules and settings are read on every tracked event, so each process keeps them
in memory (`scoring_config`, a core.shared_copy.SharedCopy). Saving a rule or the
settings bumps a version in the shared cache (Redis in production, so every process
and machine sees it); a process compares its copy's version with the shared one at
most once every `SCORING_CONFIG_CHECK_SECONDS`, so a change reaches every process
within that time, and the one that made it at once. A journey state built with other rules is never
used (scoring.incremental), so a process that is a moment late scores that moment
with the rules it had, never with a mix."""

from dataclasses import dataclass

from core.shared_copy import SharedCopy
from scoring import engine
from scoring.incremental import RuleSet
from scoring.models import LeadScoringRule, ScoringSettings
from scoring.versions import rule_version_record, ruleset_of

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
    """The active rules and the settings, as this process knows them: those of rule
    version `version` (scoring.versions). `settings` is shared by every caller:
    read it, never change it."""

    ruleset: RuleSet
    settings: ScoringSettings
    version: int

    @property
    def rules(self) -> tuple[engine.Rule, ...]:
        return self.ruleset.rules

    @property
    def thresholds(self) -> engine.Thresholds:
        return self.settings.thresholds()

    @property
    def half_life_days(self) -> int | None:
        """Score decay's half-life (None: scores do not fade); the rule set has it too."""
        return self.ruleset.half_life_days


def _config_load() -> ScoringConfig:
    """The rules and settings of the version recorded for them as they are now (a
    change that reached the database without a save, or before its version was
    recorded, is recorded here: nothing is ever scored with an unrecorded version)."""
    version = rule_version_record(note="Rules or settings changed")
    return ScoringConfig(ruleset=ruleset_of(version), settings=version.scoring_settings(), version=version.number)


_config: SharedCopy[ScoringConfig] = SharedCopy(
    CONFIG_VERSION_KEY, _config_load, check_setting="SCORING_CONFIG_CHECK_SECONDS"
)


def scoring_config() -> ScoringConfig:
    """The active rules and settings: this process's copy while it is current."""
    return _config.get()


def scoring_config_changed() -> None:
    """The rules or settings changed: every process reloads them (this one at once;
    the others within SCORING_CONFIG_CHECK_SECONDS). Called on every save and delete
    (scoring.apps)."""
    _config.changed()


def scoring_config_forget() -> None:
    """Drop this process's copy: the next scoring_config() reads the rules again."""
    _config.forget()

