"""Data migrations fill what they add for the rows already in the database."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

# The migrations run outside a test transaction; serialized_rollback puts back the rows
# the data migrations installed (roles, rules) for the tests after this one.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE_FURTHEST_STAGE = [("leads", "0010_dashboard_daily_rollups")]
FURTHEST_STAGE = [("leads", "0011_lead_furthest_stage")]


def migrate(targets):
    """Migrate to `targets` (every app's latest when None); the models as they were there."""
    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def test_leads_already_worked_get_the_furthest_stage_their_history_reached():
    apps = migrate(BEFORE_FURTHEST_STAGE)
    try:
        Lead, Change = apps.get_model("leads", "Lead"), apps.get_model("leads", "LeadStatusChange")
        ways = {
            "untouched@example.com": [],
            "lost.after.booking@example.com": ["contacted", "booked", "lost"],
            "won@example.com": ["contacted", "qualified", "booked", "won"],
            "moved.back@example.com": ["booked", "contacted"],
            "lost.at.once@example.com": ["lost"],
        }
        for email, way in ways.items():
            lead = Lead.objects.create(email=email, status=way[-1] if way else "new")
            for before, after in zip(["new", *way], way):
                Change.objects.create(lead=lead, from_status=before, to_status=after)

        Lead = migrate(FURTHEST_STAGE).get_model("leads", "Lead")

        assert dict(Lead.objects.values_list("email", "furthest_stage")) == {
            "untouched@example.com": "new",
            "lost.after.booking@example.com": "booked",
            "won@example.com": "won",
            "moved.back@example.com": "booked",
            "lost.at.once@example.com": "new",
        }
    finally:
        migrate(None)


BEFORE_LEAD_STAGE = [("interactions", "0008_dashboard_funnel_indexes"), ("leads", "0011_lead_furthest_stage")]
LEAD_STAGE = [("interactions", "0009_session_lead_stage")]


def test_visitors_who_became_leads_get_the_furthest_stage_their_lead_reached():
    apps = migrate(BEFORE_LEAD_STAGE)
    try:
        Lead, Session = apps.get_model("leads", "Lead"), apps.get_model("interactions", "UserSession")
        leads = {
            "new": Lead.objects.create(email="new@example.com"),
            "won": Lead.objects.create(email="won@example.com", status="won", furthest_stage="won"),
            "lost after booking": Lead.objects.create(email="lost@example.com", status="lost",
                                                      furthest_stage="booked"),
            "moved back": Lead.objects.create(email="back@example.com", status="contacted",
                                              furthest_stage="qualified"),
            "lost at once": Lead.objects.create(email="gone@example.com", status="lost"),
        }
        for name, lead in leads.items():
            for device in range(2):
                Session.objects.create(landing_page=f"/{name}/{device}", lead=lead)
        Session.objects.create(landing_page="/browsing")

        Session = migrate(LEAD_STAGE).get_model("interactions", "UserSession")

        assert sorted(Session.objects.values_list("landing_page", "lead_stage")) == sorted([
            ("/new/0", "new"), ("/new/1", "new"), ("/won/0", "won"), ("/won/1", "won"),
            ("/lost after booking/0", "booked"), ("/lost after booking/1", "booked"),
            ("/moved back/0", "qualified"), ("/moved back/1", "qualified"),
            ("/lost at once/0", "new"), ("/lost at once/1", "new"), ("/browsing", ""),
        ])
    finally:
        migrate(None)
