"""Scoring rules and thresholds: the data the engine scores with."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

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
