"""Keep a lead's score in step with what the patient does after converting, and
with time (score decay)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from interactions.signals import lead_journey_scored
from interactions.tracker import JourneyChanged
from leads.decay import decay_schedule_on_commit
from leads.models import ScoreChangeCause
from leads.services import lead_apply_score
from scoring import engine
from scoring.models import ScoringSettings


@receiver(lead_journey_scored)
def follow_lead_journey(sender, *, interaction, result, lead, journey_state, rule_version, **kwargs) -> None:
    cause = ScoreChangeCause.ADJUSTMENT if interaction.interaction_type == engine.ADJUSTMENT else ScoreChangeCause.EVENT
    if not lead_apply_score(lead=lead, result=result, journey_state=journey_state, journey_version=lead.journey_version,
                            rule_version=rule_version, cause=cause, at=interaction.created_at, interaction=interaction):
        raise JourneyChanged(f"Lead {lead.pk}'s journey changed while an event was being scored.")


@receiver(post_save, sender=ScoringSettings)
def start_score_decay(sender, *, instance, raw=False, **kwargs) -> None:
    """Saved with a half-life: start the decay schedule (once committed, if no run is queued)."""
    if not raw and instance.score_half_life_days is not None:
        decay_schedule_on_commit()
