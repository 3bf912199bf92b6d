"""Signals the tracker sends, so the apps above it can react without being imported."""

from django.dispatch import Signal

# Sent inside the tracking transaction with `interaction` and `result` (a ScoreResult)
# when the interaction belongs to a lead, whose score must follow.
lead_journey_scored = Signal()
