"""Anonymous visitor sessions and the append-only log of what they did."""

import secrets
import uuid

from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone


class InteractionType(models.TextChoices):
    AI_RECOMMENDATION = "ai_recommendation", "AI recommendation"
    FACE_ANALYSIS = "face_analysis", "Face analysis"
    COST_CALCULATOR = "cost_calculator", "Cost calculator"
    APPOINTMENT_BOOKING = "appointment_booking", "Appointment booking"
    SEARCH = "search", "Search"
    PAGE_ENGAGEMENT = "page_engagement", "Page engagement"
    CONTACT_FORM = "contact_form", "Contact form"
    SCORE_ADJUSTMENT = "score_adjustment", "Score adjusted by staff"
    # A/B tests (interactions/experiments.py): a visitor shown a variant, and one who then became a lead.
    EXPERIMENT_EXPOSURE = "experiment_exposure", "Saw an experiment's variant"
    EXPERIMENT_CONVERSION = "experiment_conversion", "Became a lead in an experiment"


class EngagementLevel(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class UserSession(models.Model):
    """One browser. `public_id` is the opaque id staff, the API and exports see; the
    browser proves it is this visitor with a secret key that only its cookie holds
    (interactions.services.session_cookie_issue)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # SHA-256 of the cookie's secret, so neither staff nor a leaked backup can act as
    # the visitor. The default is random with no known secret behind it: a session
    # made any other way (the history import) has no browser until one is issued.
    cookie_key_hash = models.CharField(max_length=64, default=secrets.token_hex, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_seen_at = models.DateTimeField(default=timezone.now)
    visit_count = models.PositiveIntegerField(default=1)

    landing_page = models.CharField(max_length=500, blank=True)
    referrer = models.CharField(max_length=500, blank=True)
    utm_source = models.CharField(max_length=100, blank=True)
    utm_medium = models.CharField(max_length=100, blank=True)
    utm_campaign = models.CharField(max_length=150, blank=True)
    utm_term = models.CharField(max_length=150, blank=True)
    utm_content = models.CharField(max_length=150, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    # A keyed hash of the address, never the address itself (GDPR data minimisation):
    # enough to spot one machine flooding the forms, useless to identify a patient.
    ip_hash = models.CharField(max_length=64, blank=True)

    interaction_count = models.PositiveIntegerField(default=0)
    engagement_seconds = models.PositiveIntegerField(default=0)
    score = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    engagement_level = models.CharField(
        max_length=10, choices=EngagementLevel.choices, default=EngagementLevel.LOW
    )

    # What scoring one more event needs of the journey so far (scoring.incremental);
    # once the visitor is a lead, the lead's own state is used instead.
    scoring_state = models.JSONField(null=True, blank=True, editable=False)

    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    converted_at = models.DateTimeField(null=True, blank=True)
    # The lead's furthest pipeline stage (its status, or the furthest its history
    # reached: leads.models.Lead.stage_reached), copied onto each of its visitors by the
    # services that link a visitor or move a lead on, so the dashboard's funnel counts
    # the stages of a period's visitors from one index instead of matching them against
    # every lead. Blank while the visitor is no lead.
    lead_stage = models.CharField(max_length=20, blank=True, default="", editable=False)

    # Offers of the contact form in the visit numbered `contact_prompt_visit`: the
    # pages it was shown on (a page counts once, however often it is reloaded or
    # sends tracking beacons) and how many they are.
    contact_prompt_shown_count = models.PositiveSmallIntegerField(default=0)
    contact_prompt_pages = models.JSONField(default=list, blank=True)
    contact_prompt_visit = models.PositiveIntegerField(default=0)
    contact_prompt_last_shown_at = models.DateTimeField(null=True, blank=True)
    contact_prompt_dismissed_at = models.DateTimeField(null=True, blank=True)
    # The A/B test variants this visitor was shown, for good: {experiment id: variant key,
    # or "holdout"} (interactions/experiments.py).
    experiments = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["utm_source", "utm_medium", "utm_campaign"], name="session_attribution_idx"),
            models.Index(fields=["engagement_level", "created_at"], name="session_level_created_idx"),
            # The dashboard's funnel, read from the index alone: visitors offered the
            # contact form (or who became leads), and the leads visitors became with
            # the furthest stage each reached.
            models.Index(fields=["created_at"], condition=models.Q(contact_prompt_shown_count__gt=0)
                         | models.Q(lead__isnull=False), name="session_prompted_idx"),
            models.Index(fields=["created_at", "lead", "lead_stage"], condition=models.Q(lead__isnull=False),
                         name="session_lead_stage_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(score__lte=100), name="session_score_at_most_100"),
        ]

    def __str__(self) -> str:
        return f"Visitor {str(self.public_id)[:8]}"

    @property
    def utm(self) -> dict[str, str]:
        return {
            "utm_source": self.utm_source,
            "utm_medium": self.utm_medium,
            "utm_campaign": self.utm_campaign,
            "utm_term": self.utm_term,
            "utm_content": self.utm_content,
        }


class UserInteraction(models.Model):
    """One thing a visitor did. Rows are added, never rewritten; only the link to
    the lead and the converted flag are set when the visitor becomes a lead."""

    session = models.ForeignKey(UserSession, on_delete=models.CASCADE, related_name="interactions")
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="interactions"
    )
    interaction_type = models.CharField(max_length=30, choices=InteractionType.choices)
    data = models.JSONField(default=dict, blank=True)
    page_url = models.CharField(max_length=500, blank=True)
    engagement_seconds = models.PositiveIntegerField(default=0)
    score = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    score_reasons = models.JSONField(default=list, blank=True)
    converted = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    # The row's id in the system it was imported from: importing twice adds nothing.
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["created_at"], name="interaction_created_idx"),
            models.Index(fields=["interaction_type", "created_at"], name="interaction_type_created_idx"),
            models.Index(fields=["converted", "created_at"], name="interaction_conv_created_idx"),
            models.Index(fields=["session", "created_at"], name="interaction_session_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(score__lte=100), name="interaction_score_at_most_100"),
        ]

    def __str__(self) -> str:
        return f"{self.get_interaction_type_display()} ({self.score})"


class InteractionPhoto(models.Model):
    """A face photo the patient asked the clinic to keep with their analysis. Stored
    only from the validated, metadata-free image; deleted after PHOTO_RETENTION_DAYS,
    or with the person's data (biometric data: GDPR Art. 9). interactions/photos.py
    owns its whole life, the file's removal included."""

    interaction = models.OneToOneField(UserInteraction, on_delete=models.CASCADE, related_name="photo")
    image = models.ImageField(upload_to="photos/%Y/%m/")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"Photo of interaction {self.interaction_id}"


class ExperimentKind(models.TextChoices):
    CONTACT_FORM = "contact_form", "Contact form: the fields asked"
    PROMPT_TEXT = "prompt_text", "Contact offer: its words"
    PROMPT_THRESHOLD = "prompt_threshold", "Contact offer: the score it needs"


class ExperimentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    RUNNING = "running", "Running"
    STOPPED = "stopped", "Stopped"


class Experiment(models.Model):
    """An A/B test staff run on the contact offer or form (interactions/experiments.py):
    each visitor gets one variant for good, or none if held out, and the admin compares
    how many of each became leads."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=ExperimentKind.choices)
    status = models.CharField(max_length=10, choices=ExperimentStatus.choices, default=ExperimentStatus.DRAFT)
    holdout_percent = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(50)],
        help_text="Share of visitors never offered the contact form (offer experiments only), "
                  "so the offer's own effect is measured.",
    )
    baseline_percent = models.DecimalField(
        max_digits=4, decimal_places=1, default=10,
        help_text="The conversion you expect from the control, in % (sets the sample needed).",
    )
    smallest_lift_percent = models.DecimalField(
        max_digits=4, decimal_places=1, default=5,
        help_text="The smallest improvement worth finding, in percentage points: 10 % to 15 % is 5.",
    )
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    stopped_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One running experiment of a kind: two tests of one offer would confound each other.
            models.UniqueConstraint(fields=["kind"], condition=models.Q(status="running"),
                                    name="one_running_experiment_per_kind"),
        ]

    def __str__(self) -> str:
        return self.name


class ExperimentVariant(models.Model):
    """One arm of an experiment: what its visitors get, by the experiment's kind."""

    class FormFields(models.TextChoices):
        SHORT = "short", "Short: first name, e-mail, phone"
        FULL = "full", "Full: also last name and a message"

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variants")
    key = models.SlugField(max_length=20, help_text="Short name, e.g. a or b; the first is the control.")
    weight = models.PositiveSmallIntegerField(default=1, help_text="Relative share of visitors.")
    form_fields = models.CharField(max_length=10, choices=FormFields.choices, blank=True,
                                   help_text="Contact form experiments.")
    prompt_text = models.CharField(max_length=300, blank=True, help_text="Contact offer wording experiments.")
    threshold = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(100)],
                                                 help_text="Contact offer threshold experiments (0-100).")

    class Meta:
        ordering = ["experiment", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "key"], name="experiment_variant_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.experiment} / {self.key}"
