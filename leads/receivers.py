"""Keep a lead's score in step with what the patient does after converting."""

from django.dispatch import receiver

from interactions.signals import lead_journey_scored
from interactions.tracker import JourneyChanged
from leads.models import ScoreChangeCause
from leads.services import lead_apply_score
from scoring import engine


@receiver(lead_journey_scored)
def follow_lead_journey(sender, *, interaction, result, lead, journey_state, rule_version, **kwargs) -> None:
    cause = ScoreChangeCause.ADJUSTMENT if interaction.interaction_type == engine.ADJUSTMENT else ScoreChangeCause.EVENT
    if not lead_apply_score(lead=lead, result=result, journey_state=journey_state, journey_version=lead.journey_version,
                            rule_version=rule_version, cause=cause, at=interaction.created_at, interaction=interaction):
        raise JourneyChanged(f"Lead {lead.pk}'s journey changed while an event was being scored.")
