"""Leads (patients who gave their contact details) and the consent they gave."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from interactions.models import EngagementLevel


class LeadStatus(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    QUALIFIED = "qualified", "Qualified"
    BOOKED = "booked", "Booked"
    WON = "won", "Won"
    LOST = "lost", "Lost"

    @classmethod
    def open_values(cls) -> list[str]:
        """Leads still being worked: neither won nor lost."""
        return [cls.NEW, cls.CONTACTED, cls.QUALIFIED, cls.BOOKED]

    @classmethod
    def pipeline(cls) -> list[str]:
        """The stages in order: a lead at a later stage has passed the earlier ones.
        Lost is no stage; a lost lead got as far as it had got before."""
        return [cls.NEW, cls.CONTACTED, cls.QUALIFIED, cls.BOOKED, cls.WON]

    @classmethod
    def furthest(cls, *statuses: str) -> str:
        """The furthest pipeline stage among these statuses (new when none is a stage)."""
        pipeline = cls.pipeline()
        return pipeline[max((pipeline.index(status) for status in statuses if status in pipeline), default=0)]


class LeadSource(models.TextChoices):
    """The tool (or channel) that produced the lead."""

    AI_RECOMMENDATION = "ai_recommendation", "AI recommendation"
    FACE_ANALYSIS = "face_analysis", "Face analysis"
    COST_CALCULATOR = "cost_calculator", "Cost calculator"
    APPOINTMENT_BOOKING = "appointment_booking", "Appointment booking"
    CONTACT_FORM = "contact_form", "Contact form"
    IMPORT = "import", "Imported"
    STAFF = "staff", "Added by staff"


class Lead(models.Model):
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    # Stored normalised (lower-case e-mail, E.164 phone) so one person is one lead.
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="International format, e.g. +447700900123.")
    message = models.TextField(blank=True)

    lead_score = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    engagement_level = models.CharField(
        max_length=10, choices=EngagementLevel.choices, default=EngagementLevel.LOW
    )
    score_reasons = models.JSONField(default=list, blank=True)
    # The lead's journey (all their sessions) as scoring one more event needs it
    # (scoring.incremental), and a counter that changes with every write of it, so two
    # browsers of one lead tracking at once cannot overwrite each other's step.
    scoring_state = models.JSONField(null=True, blank=True, editable=False)
    journey_version = models.PositiveIntegerField(default=0, editable=False)

    source = models.CharField(max_length=30, choices=LeadSource.choices, default=LeadSource.CONTACT_FORM)
    interaction = models.ForeignKey(
        "interactions.UserInteraction",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The interaction that turned this visitor into a lead.",
    )
    landing_page = models.CharField(max_length=500, blank=True)
    referrer = models.CharField(max_length=500, blank=True)
    utm_source = models.CharField(max_length=100, blank=True)
    utm_medium = models.CharField(max_length=100, blank=True)
    utm_campaign = models.CharField(max_length=150, blank=True)
    utm_term = models.CharField(max_length=150, blank=True)
    utm_content = models.CharField(max_length=150, blank=True)

    status = models.CharField(max_length=20, choices=LeadStatus.choices, default=LeadStatus.NEW)
    # Kept by lead_update with the history it summarises, so the funnel and the
    # attribution count the leads that reached a stage from the lead row alone, with no
    # join to the history (that join grew with every lead and every status change).
    furthest_stage = models.CharField(
        max_length=20, choices=LeadStatus.choices, default=LeadStatus.NEW, editable=False,
        help_text="The furthest pipeline stage the status history reached (new until the lead is moved on); "
                  "a lead has reached a stage when this or its status is at or beyond it.",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        limit_choices_to={"is_staff": True},
    )
    value = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, help_text="Expected or won treatment value.",
        validators=[MinValueValidator(0)],
    )

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    high_intent_notified_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(
        null=True, blank=True, help_text="When the person's data was erased on request (GDPR Art. 17)."
    )

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("view_contact_details", "Can see patients' names, contact details and messages"),
            ("export_lead", "Can export leads as CSV"),
            # The one way a person leaves: anonymised and audited, never a plain delete.
            ("erase_lead", "Can erase a person's data on request (GDPR Art. 17)"),
        ]
        indexes = [
            # No index of created_at alone: lead_created_figures_idx starts with it, and every
            # lead written (a rescore writes them all) paid for one index more.
            # The dashboard's figures of the leads of a period (counts, score distribution,
            # attribution with booked, won and won value) read from the index alone: every
            # column they use is in it (key columns, not INCLUDE, which SQLite lacks).
            models.Index(
                fields=["created_at", "engagement_level", "lead_score", "status", "furthest_stage",
                        "utm_source", "utm_medium", "utm_campaign", "value"],
                name="lead_created_figures_idx",
            ),
            # Every lead's stages without reading the rows (the lead-scoring page's baseline).
            models.Index(fields=["id", "status", "furthest_stage"], name="lead_stages_idx"),
            models.Index(fields=["status", "created_at"], name="lead_status_created_idx"),
            models.Index(fields=["engagement_level", "created_at"], name="lead_level_created_idx"),
            models.Index(fields=["lead_score"], name="lead_score_idx"),
            models.Index(fields=["source", "created_at"], name="lead_source_created_idx"),
            models.Index(fields=["utm_source", "utm_medium", "utm_campaign"], name="lead_attribution_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(lead_score__gte=0) & Q(lead_score__lte=100), name="lead_score_0_to_100"
            ),
            models.CheckConstraint(
                condition=Q(furthest_stage__in=LeadStatus.pipeline()), name="lead_furthest_stage_is_a_stage"
            ),
            # Erased leads keep their place in the analytics with no way to reach anyone.
            models.CheckConstraint(
                condition=~Q(email="") | ~Q(phone="") | Q(erased_at__isnull=False), name="lead_has_email_or_phone"
            ),
            # The database, not only the service, guarantees one lead per person,
            # so two simultaneous submissions cannot create twins.
            models.UniqueConstraint(fields=["email"], condition=~Q(email=""), name="lead_unique_email"),
            models.UniqueConstraint(fields=["phone"], condition=~Q(phone=""), name="lead_unique_phone"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or self.phone

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def stage_reached(self) -> str:
        """The furthest pipeline stage this lead has reached: its status, or the furthest
        its history reached (a lost lead, or one moved back). Each of its visitors keeps a
        copy (UserSession.lead_stage), written by the services that change it."""
        return LeadStatus.furthest(self.status, self.furthest_stage)


class ConsentPurpose(models.TextChoices):
    CONTACT = "contact", "Be contacted about my enquiry"
    MARKETING = "marketing", "Receive offers and news"
    PHOTO_ANALYSIS = "photo_analysis", "Analyse my photo (biometric data)"


class ConsentMethod(models.TextChoices):
    WEB_FORM = "web_form", "Web form"
    STAFF = "staff", "Recorded by staff"
    IMPORT = "import", "Imported"


class Consent(models.Model):
    """What a person agreed to, in which words, when and how (GDPR Art. 7(1):
    the clinic must be able to show that consent was given)."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="consents")
    session = models.ForeignKey(
        "interactions.UserSession", null=True, blank=True, on_delete=models.SET_NULL, related_name="consents"
    )
    purpose = models.CharField(max_length=20, choices=ConsentPurpose.choices)
    granted = models.BooleanField(default=True)
    text = models.TextField(help_text="The exact wording the person agreed to.")
    text_version = models.CharField(max_length=20)
    method = models.CharField(max_length=20, choices=ConsentMethod.choices, default=ConsentMethod.WEB_FORM)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["lead", "purpose", "created_at"], name="consent_lead_purpose_idx")]

    def __str__(self) -> str:
        verb = "agreed to" if self.granted else "refused"
        return f"{self.lead} {verb} {self.get_purpose_display().lower()} ({self.text_version})"


class TimeWindow(models.TextChoices):
    MORNING = "morning", "Morning (9:00-12:00)"
    AFTERNOON = "afternoon", "Afternoon (12:00-17:00)"
    EVENING = "evening", "Evening (17:00-20:00)"


class AppointmentStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    CONFIRMED = "confirmed", "Confirmed"
    CANCELLED = "cancelled", "Cancelled"
    ATTENDED = "attended", "Attended"
    NO_SHOW = "no_show", "Did not attend"


class Appointment(models.Model):
    """A patient's request for a consultation or treatment slot; staff confirm it."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="appointments")
    interaction = models.ForeignKey(
        "interactions.UserInteraction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The treatment's name and slug as booked: the catalog may change later.
    treatment = models.CharField(max_length=100, help_text="Treatment as booked, or 'Consultation'.")
    treatment_slug = models.SlugField(max_length=60, blank=True)
    preferred_date = models.DateField()
    time_window = models.CharField(max_length=20, choices=TimeWindow.choices)
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=AppointmentStatus.choices, default=AppointmentStatus.REQUESTED)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["preferred_date", "time_window"]
        indexes = [models.Index(fields=["status", "preferred_date"], name="appointment_status_date_idx")]

    def __str__(self) -> str:
        return f"{self.treatment} on {self.preferred_date:%d %b %Y} ({self.get_time_window_display()})"


class LeadStatusChange(models.Model):
    """Every move of a lead along the pipeline: the funnel counts leads that ever
    reached a stage, even if they were lost later."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=LeadStatus.choices)
    to_status = models.CharField(max_length=20, choices=LeadStatus.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at"]
        indexes = [models.Index(fields=["to_status", "lead"], name="status_change_to_idx")]

    def __str__(self) -> str:
        return f"{self.get_from_status_display()} → {self.get_to_status_display()}"


class CampaignCost(models.Model):
    """What the clinic spent on a campaign, entered by staff, for cost per lead and ROI."""

    utm_source = models.CharField(max_length=100, help_text="As in the campaign's links, e.g. google.")
    utm_campaign = models.CharField(max_length=150, blank=True, help_text="Empty for spend on the source as a whole.")
    spent_on = models.DateField(help_text="The day (or first day of the month) the money was spent.")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-spent_on"]
        indexes = [models.Index(fields=["spent_on"], name="campaign_cost_spent_idx")]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="campaign_cost_not_negative")]

    def __str__(self) -> str:
        return f"{self.utm_source}/{self.utm_campaign or '*'} {self.amount} on {self.spent_on}"


class LeadNote(models.Model):
    """What staff learned talking to the patient."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Note on lead {self.lead_id} ({self.created_at:%d %b %Y})"


class RescoreRun(models.Model):
    """One "rescore all leads" run in the background, with its progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for the worker"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    level_changes = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Rescore of {self.created_at:%d %b %Y %H:%M} ({self.get_status_display().lower()})"

    @property
    def percent(self) -> int:
        return round(self.done / self.total * 100) if self.total else (100 if self.status == self.Status.DONE else 0)


class AuditEvent(models.Model):
    """Who exported, erased or purged personal data, and when. Holds no personal data
    itself: the person is named only by their lead number."""

    class Action(models.TextChoices):
        EXPORT = "export", "Exported a person's data"
        ERASE = "erase", "Erased a person's data"
        PURGE = "purge", "Purged expired data"

    action = models.CharField(max_length=10, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_label = models.CharField(max_length=100, blank=True, help_text="e.g. manage.py, or the task name.")
    subject = models.CharField(max_length=100, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        who = self.actor.username if self.actor else self.actor_label
        return f"{self.get_action_display()} ({self.subject}) by {who} on {self.created_at:%d %b %Y %H:%M}"


class DailyInteractionCount(models.Model):
    """Interactions of one type on one complete local day: the daily roll-up the
    dashboard and the unfiltered interaction log read (leads/rollups.py fills it; the
    figures are those of the live count)."""

    day = models.DateField()
    interaction_type = models.CharField(max_length=30)
    interactions = models.PositiveIntegerField()
    converted = models.PositiveIntegerField()
    # The sum of their scores: the interaction log's average score per type.
    score_total = models.PositiveBigIntegerField(default=0)

    class Meta:
        # Internal bookkeeping: no staff role reads or edits it.
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["day", "interaction_type"], name="daily_interaction_count_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.interactions} {self.interaction_type} on {self.day}"


class DailySessionCount(models.Model):
    """Visitors who arrived on one complete local day from one first-touch source,
    and how many of them have used a tool or searched (at any time since)."""

    day = models.DateField()
    utm_source = models.CharField(max_length=100)
    utm_medium = models.CharField(max_length=100)
    utm_campaign = models.CharField(max_length=150)
    sessions = models.PositiveIntegerField()
    engaged = models.PositiveIntegerField()

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["day", "utm_source", "utm_medium", "utm_campaign"],
                                    name="daily_session_count_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.sessions} visitors from {self.utm_source or '(direct)'} on {self.day}"


class RolledUpDay(models.Model):
    """A day whose rows in the daily counts are complete: a day with no visitors has
    no count rows, but is rolled up all the same."""

    day = models.DateField(primary_key=True)
    rolled_up_at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.day} rolled up"


class RollupWatermark(models.Model):
    """The newest interaction and visitor the roll-up has seen: rows added after it
    with an earlier date (a backdated import, a returning visitor's first tool use)
    send their days back to be counted again. One row."""

    interaction_id = models.BigIntegerField(default=0)
    session_id = models.BigIntegerField(default=0)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"Roll-up seen up to interaction {self.interaction_id}, visitor {self.session_id}"


class ScoreChangeCause(models.TextChoices):
    EVENT = "event", "Patient activity"
    ADJUSTMENT = "adjustment", "Adjusted by staff"
    RULES = "rules", "Rules changed"
    DECAY = "decay", "Engagement aged"
    IMPORT = "import", "Imported history"


class LeadScoreChange(models.Model):
    """A lead's score from `at` until its next change, why (the reasons), what
    moved it, and the rule version that produced it: the score as it was on any
    date (leads.score_history). Written by the services that store a score."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="score_changes")
    at = models.DateTimeField()
    score = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    level = models.CharField(max_length=10, choices=EngagementLevel.choices)
    reasons = models.JSONField(default=list)
    rule_version = models.ForeignKey(
        "scoring.RuleVersion", to_field="number", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", help_text="The rules that produced this score (empty for scores from before rule versions).",
    )
    cause = models.CharField(max_length=12, choices=ScoreChangeCause.choices)
    interaction = models.ForeignKey(
        "interactions.UserInteraction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The patient's (or staff's) interaction that moved the score, if one did.",
    )

    class Meta:
        ordering = ["at", "pk"]
        # Shown on the lead's page, written only by the scoring services.
        default_permissions = ()
        indexes = [models.Index(fields=["lead", "at"], name="lead_score_change_idx")]

    def __str__(self) -> str:
        return f"Lead {self.lead_id}: {self.score} ({self.level}) from {self.at:%d %b %Y %H:%M}"


class RuleCalibration(models.Model):
    """One calibration of the rules' points from outcomes (leads.calibration): each
    rule's lift, the proposed points, and how they compare with the current ones on
    leads held out; staff may accept a proposal as a new rule version."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for the worker"
        RUNNING = "running", "Running"
        FAILED = "failed", "Failed"
        PROPOSED = "proposed", "Proposed"
        REFUSED = "refused", "Refused"
        ACCEPTED = "accepted", "Accepted"

    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    as_of = models.DateTimeField(help_text="Outcomes known by then were used.")
    stale_after_days = models.PositiveIntegerField()
    from_version = models.ForeignKey(
        "scoring.RuleVersion", to_field="number", on_delete=models.PROTECT, related_name="+",
        help_text="The rules calibrated.",
    )
    labelled = models.PositiveIntegerField(default=0, help_text="Leads with a known outcome.")
    fitted = models.PositiveIntegerField(default=0, help_text="The older half: the proposal was fitted on them.")
    held_out = models.PositiveIntegerField(default=0, help_text="The newer half: the proposal was judged on them.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    reason = models.TextField(blank=True, help_text="Why the proposal may not be accepted (or why it failed).")
    result = models.JSONField(default=dict)
    accepted_version = models.ForeignKey(
        "scoring.RuleVersion", to_field="number", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        # Shown on the lead-scoring page; made and accepted by staff who may change the rules.
        default_permissions = ()

    def __str__(self) -> str:
        return f"Calibration #{self.pk} of {self.created_at:%d %b %Y} ({self.get_status_display().lower()})"


class ConversionModelStatus(models.TextChoices):
    ACTIVE = "active", "In use"
    REFUSED = "refused", "Refused"
    RETIRED = "retired", "Retired"


class ConversionModelImmutable(Exception):
    """A trained conversion model is a record of what was learned and measured: only
    its status moves on (active to retired)."""


class ConversionModel(models.Model):
    """One training of the conversion model (leads.prediction): what it learned from,
    how it did on the time-based hold-out beside the rule score, and whether it is
    used. At most one is active; training a better one retires it."""

    version = models.PositiveIntegerField(unique=True, editable=False)
    trained_at = models.DateTimeField(default=timezone.now, editable=False)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    as_of = models.DateTimeField(editable=False, help_text="Leads made before this moment, with a known outcome.")
    stale_after_days = models.PositiveIntegerField(
        editable=False, help_text="An open lead older than this counted as not converted."
    )
    train_leads = models.PositiveIntegerField(default=0, editable=False)
    train_positives = models.PositiveIntegerField(default=0, editable=False)
    holdout_leads = models.PositiveIntegerField(default=0, editable=False)
    holdout_positives = models.PositiveIntegerField(default=0, editable=False)
    # The model's and the rule score's figures on the hold-out, their calibration
    # tables and the decision's thresholds (leads.prediction.model.Evaluation).
    metrics = models.JSONField(default=dict, editable=False)
    feature_names = models.JSONField(default=list, editable=False)
    # The catalog's prices the features were computed with (slug: lowest price):
    # leads may not read the catalog (DESIGN.md), and a prediction must see the
    # prices the model learned from, not today's.
    procedure_prices = models.JSONField(default=dict, editable=False)
    # The fitted scikit-learn pipeline, pickled. Unpickling runs code, so this is only
    # ever read back from our own database, written by leads.prediction and nothing else.
    pipeline = models.BinaryField(null=True, editable=False)
    # A pickle loads faithfully only into the scikit-learn that wrote it.
    sklearn_version = models.CharField(max_length=20, editable=False)
    status = models.CharField(max_length=10, choices=ConversionModelStatus.choices, editable=False)
    reason = models.CharField(max_length=300, blank=True, editable=False,
                              help_text="Why it is used, or why it was refused.")

    class Meta:
        ordering = ["-version"]
        # Read by every staff role; written only by leads.prediction (manage.py train_lead_model).
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=Q(status="active"),
                                    name="conversion_model_one_active"),
        ]

    def __str__(self) -> str:
        return f"Conversion model v{self.version} ({self.get_status_display().lower()})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and set(kwargs.get("update_fields") or ()) != {"status"}:
            raise ConversionModelImmutable(f"Conversion model v{self.version} is a record: only its status changes.")
        super().save(*args, **kwargs)
