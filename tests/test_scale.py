"""Back-office pages stay a small, fixed number of queries with thousands of rows."""

import datetime
import random

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from interactions.models import UserInteraction, UserSession
from leads.models import Lead, LeadStatusChange

SESSIONS, PER_SESSION, LEADS = 1500, 3, 400


@pytest.fixture
def big(db):
    """1,500 visitors, 4,500 interactions, 400 leads with history, over 30 days."""
    rnd = random.Random(7)
    now = timezone.now()
    sessions = UserSession.objects.bulk_create(
        UserSession(created_at=now - datetime.timedelta(days=rnd.uniform(0, 29)),
                    utm_source=rnd.choice(["google", "facebook", ""]), utm_campaign=rnd.choice(["a", "b", ""]))
        for _ in range(SESSIONS)
    )
    leads = Lead.objects.bulk_create(
        Lead(first_name=f"P{n}", email=f"p{n}@example.com", lead_score=rnd.randint(0, 100),
             engagement_level=rnd.choice(["low", "medium", "high"]), status=rnd.choice(["new", "won", "lost"]),
             # Its history below (every third lead booked once), summarised on the row as lead_update keeps it.
             furthest_stage="booked" if n % 3 == 0 else "new",
             created_at=now - datetime.timedelta(days=rnd.uniform(0, 29)),
             score_reasons=[{"rule": "AI recommendation", "points": 60, "occurrences": 1}])
        for n in range(LEADS)
    )
    for session, lead in zip(sessions, leads):
        session.lead = lead
    UserSession.objects.bulk_update(sessions[:LEADS], ["lead"])
    UserInteraction.objects.bulk_create(
        UserInteraction(session=session, lead=session.lead, interaction_type=rnd.choice(
            ["ai_recommendation", "face_analysis", "search", "page_engagement"]), score=rnd.randint(0, 100),
            converted=session.lead is not None, created_at=session.created_at, data={"categories": ["skin"]})
        for session in sessions for _ in range(PER_SESSION)
    )
    LeadStatusChange.objects.bulk_create(LeadStatusChange(lead=lead, from_status="new", to_status="booked")
                                         for lead in leads[::3])
    return leads


@pytest.fixture
def manager(client, big):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-12345-x")
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("url", "most"),
    [
        # The first read also rolls up the days it has not seen (one INSERT ... SELECT a month).
        ("/admin/comprehensive/dashboard/", 40),
        ("/admin/comprehensive/lead-scoring/", 15),
        # The whole log's summary reads the same roll-up: its upkeep (about eight queries)
        # on every read, and on the first read the log's days rolled up.
        ("/admin/interactions/userinteraction/", 25),
        ("/admin/interactions/usersession/", 12),
        ("/admin/leads/lead/", 15),
    ],
)
def test_back_office_pages_need_a_fixed_number_of_queries(manager, django_assert_max_num_queries, url, most):
    assert UserInteraction.objects.count() == SESSIONS * PER_SESSION
    with django_assert_max_num_queries(most):
        assert manager.get(url).status_code == 200


def test_a_lead_page_needs_a_fixed_number_of_queries(manager, big, django_assert_max_num_queries):
    with django_assert_max_num_queries(40):
        assert manager.get(f"/admin/leads/lead/{big[0].pk}/change/").status_code == 200


def test_the_csv_export_of_all_leads_is_one_query_for_the_rows(manager, big, django_assert_max_num_queries):
    with django_assert_max_num_queries(15):
        # Every lead: the list opens on open leads only (call first), so ask for all.
        response = manager.post("/admin/leads/lead/?worklist=all", {"action": "export_csv", "select_across": "1",
                                                       "_selected_action": [big[0].pk], "index": "0"})
    assert response.content.decode().count("\n") == LEADS + 1


def test_the_interaction_log_read_again_needs_no_more_queries_than_its_roll_up_upkeep(
        manager, django_assert_max_num_queries):
    manager.get("/admin/interactions/userinteraction/")  # rolls up the log's days
    with django_assert_max_num_queries(18):
        assert manager.get("/admin/interactions/userinteraction/").status_code == 200
