"""Keep a lead's score in step with what the patient does after converting."""

from django.dispatch import receiver

from interactions.signals import lead_journey_scored
from leads.models import Lead
from leads.services import lead_apply_score


@receiver(lead_journey_scored)
def follow_lead_journey(sender, *, interaction, result, **kwargs) -> None:
    lead = Lead.objects.select_for_update().get(pk=interaction.lead_id)
    lead_apply_score(lead=lead, result=result)
