"""Predictive lead scoring: a conversion model learned from the leads with a known
outcome (features.py reads their journeys, model.py learns and judges, pure;
services.py trains, saves and predicts)."""
