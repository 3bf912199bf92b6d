"""Signals the tracker sends, so the apps above it can react without being imported."""

from django.dispatch import Signal

# Sent inside the tracking transaction when the interaction belongs to a lead, whose
# score must follow: with `interaction`, `result` (the lead's ScoreResult), `lead` (as
# read, under the session's lock), `journey_state` (the lead's new incremental state,
# as data) and `rule_version` (the number of the rule version that scored it). The receiver stores them only if the lead's journey_version is still the
# one read, and raises interactions.tracker.JourneyChanged if not (the tracker retries).
lead_journey_scored = Signal()
