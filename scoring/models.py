"""Scoring rules and thresholds: the data the engine scores with."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from scoring import engine


TOO_MANY_ACTIVE = (
    f"At most {engine.MAX_ACTIVE_RULES} rules can be active at once (each one is checked on every "
    "tracked event); deactivate one first."
)


class RuleKind(models.TextChoices):
    BASE = engine.BASE, "Base score"
    BONUS = engine.BONUS, "Bonus"


class LeadScoringRule(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True, help_text="Why the clinic gives these points.")
    kind = models.CharField(max_length=10, choices=RuleKind.choices, default=RuleKind.BONUS)
    condition = models.JSONField(
        help_text='When the rule applies, e.g. {"field": "urgency", "op": "eq", "value": "immediate"}.'
    )
    points = models.SmallIntegerField(
        validators=[
            MinValueValidator(-engine.MAX_RULE_POINTS),
            MaxValueValidator(engine.MAX_RULE_POINTS),
        ]
    )
    per_occurrence = models.BooleanField(
        default=False,
        help_text="Give the points for every interaction that matches, not just once.",
    )
    is_active = models.BooleanField(default=True, db_index=True)
    order = models.PositiveSmallIntegerField(default=0, help_text="Rules are listed and applied in this order.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(points__gte=-engine.MAX_RULE_POINTS)
                & models.Q(points__lte=engine.MAX_RULE_POINTS),
                name="scoring_rule_points_in_range",
            ),
            models.CheckConstraint(
                condition=~(models.Q(kind=engine.BASE) & models.Q(per_occurrence=True)),
                name="scoring_rule_base_given_once",
            ),
        ]

    def __str__(self) -> str:
        sign = "+" if self.kind == RuleKind.BONUS and self.points >= 0 else ""
        return f"{self.name} ({sign}{self.points})"

    def clean(self) -> None:
        super().clean()
        try:
            engine.validate_rule(self.as_engine_rule())
        except engine.ConditionError as error:
            field = "per_occurrence" if self.kind == RuleKind.BASE and self.per_occurrence else "condition"
            raise ValidationError({field: str(error)}) from error
        if self.is_active and self.too_many_active():
            raise ValidationError({"is_active": TOO_MANY_ACTIVE})

    def too_many_active(self) -> bool:
        """Whether making this rule active would exceed engine.MAX_ACTIVE_RULES."""
        others = LeadScoringRule.objects.filter(is_active=True)
        if self.pk is not None:
            others = others.exclude(pk=self.pk)
        return others.count() >= engine.MAX_ACTIVE_RULES

    def as_engine_rule(self) -> engine.Rule:
        return engine.Rule(
            name=self.name,
            kind=self.kind,
            condition=self.condition,
            points=self.points,
            per_occurrence=self.per_occurrence,
        )

    @property
    def condition_in_words(self) -> str:
        try:
            engine.validate_condition(self.condition)
        except engine.ConditionError as error:
            return f"invalid: {error}"
        return engine.describe_condition(self.condition)


class ScoringSettings(models.Model):
    """The clinic's thresholds: one row, edited in the admin."""

    medium_threshold = models.PositiveSmallIntegerField(
        default=40,
        validators=[MaxValueValidator(engine.MAX_SCORE)],
        help_text="Lowest score counted as medium engagement.",
    )
    high_threshold = models.PositiveSmallIntegerField(
        default=70,
        validators=[MaxValueValidator(engine.MAX_SCORE)],
        help_text="Lowest score counted as high engagement (staff are told about these leads).",
    )
    contact_prompt_threshold = models.PositiveSmallIntegerField(
        default=60,
        validators=[MaxValueValidator(engine.MAX_SCORE)],
        help_text="Offer the contact form once a visitor's score reaches this.",
    )
    contact_prompt_cooldown_minutes = models.PositiveIntegerField(
        default=24 * 60,
        help_text="After a visitor says no thanks, wait this long before offering the contact form again.",
    )
    contact_prompt_max_shows = models.PositiveSmallIntegerField(
        default=3,
        help_text="Offer the contact form on at most this many pages in one visit (a page counts once).",
    )
    score_half_life_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=(
            "Let scores fade as interactions age: the points an interaction earned are halved after this many "
            "days, quartered after twice as many, and so on. Staff adjustments never fade. Leave empty to keep "
            "scores from fading."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "scoring settings"
        verbose_name_plural = "scoring settings"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(medium_threshold__lte=models.F("high_threshold")),
                name="scoring_settings_medium_not_above_high",
            ),
            models.CheckConstraint(
                condition=models.Q(score_half_life_days__isnull=True) | models.Q(score_half_life_days__gte=1),
                name="scoring_settings_half_life_positive",
            ),
        ]

    def __str__(self) -> str:
        return "Scoring settings"

    def clean(self) -> None:
        super().clean()
        if self.medium_threshold > self.high_threshold:
            raise ValidationError({"medium_threshold": "Medium must not be above the high threshold."})

    def thresholds(self) -> engine.Thresholds:
        return engine.Thresholds(medium=self.medium_threshold, high=self.high_threshold)


class RuleVersionImmutable(Exception):
    """A rule version is a record of what was: it is never changed or deleted."""


class RuleVersion(models.Model):
    """The clinic's rules and settings as they were from `created_at` until the next
    version: an immutable snapshot, recorded whenever they change (scoring.versions).
    Every score change names the version that produced it, so a score can be
    explained and replayed long after the rules moved on."""

    number = models.PositiveIntegerField(unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    note = models.CharField(max_length=200, blank=True, editable=False, help_text="What made this version.")
    # As `manage.py scoring_rules export` writes it (scoring.portability): every rule,
    # active or not, and the settings; it loads back with `scoring_rules load`.
    document = models.JSONField(editable=False)
    fingerprint = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["-number"]
        # Read by every role that reads the rules; written only by scoring.versions.
        default_permissions = ("view",)
        indexes = [models.Index(fields=["created_at"], name="rule_version_created_idx")]

    def __str__(self) -> str:
        return f"Version {self.number} ({self.created_at:%d %b %Y %H:%M})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise RuleVersionImmutable(f"Rule version {self.number} is a record: it is never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuleVersionImmutable(f"Rule version {self.number} is a record: it is never deleted.")

    @property
    def settings_snapshot(self) -> dict:
        return self.document.get("settings", {})

    def engine_rules(self) -> list[engine.Rule]:
        """The active rules of this version, in order, as the engine takes them."""
        return [
            engine.Rule(name=rule["name"], kind=rule["kind"], condition=rule["condition"], points=rule["points"],
                        per_occurrence=rule.get("per_occurrence", False))
            for rule in sorted(self.document.get("rules", []), key=lambda rule: (rule.get("order", 0), rule["name"]))
            if rule.get("is_active", True)
        ]

    def scoring_settings(self) -> ScoringSettings:
        """The settings of this version, as an unsaved ScoringSettings (defaults for
        any field the snapshot predates)."""
        names = {field.name for field in ScoringSettings._meta.concrete_fields} - {"id", "updated_at"}
        return ScoringSettings(**{name: value for name, value in self.settings_snapshot.items() if name in names})
