"""The lead list is the front desk's worklist: open leads, call first, and who is hot now."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from clinic.roles import FRONT_DESK
from interactions.models import UserSession
from interactions.tracker import track_user_interaction
from leads.models import Lead
from leads.services import create_lead_from_form, lead_update_status
from tests.factories import UserSessionFactory

pytestmark = pytest.mark.django_db


def lead(name, kind, *, days_ago=0, **data):
    session = UserSessionFactory()
    track_user_interaction(session, kind, data)
    made = create_lead_from_form(session=session, data={"first_name": f"Zz{name}", "email": f"{name}@example.com",
                                                         "consent_contact": True})
    UserSession.objects.filter(pk=session.pk).update(last_seen_at=timezone.now() - timedelta(days=days_ago))
    return made


@pytest.fixture
def desk(client):
    user = get_user_model().objects.create_user("desk", password="pw-12345-x", is_staff=True)
    user.groups.add(Group.objects.get(name=FRONT_DESK))
    client.force_login(user)
    return client


@pytest.fixture
def leads():
    return {
        "ann": lead("ann", "ai_recommendation", days_ago=1),                      # 60, medium
        "bea": lead("bea", "face_analysis", days_ago=20),                          # 80, high, quiet
        "cat": lead("cat", "face_analysis", days_ago=2),                           # 80, high, recent
        "dee": lead("dee", "appointment_booking", days_ago=0, urgency="immediate"),  # 100, won below
        "eve": lead("eve", "cost_calculator", days_ago=3),                         # 70, high, lost below
    }


def names_in(page: str, leads) -> list[str]:
    found = [(page.find(f"Zz{name}"), name) for name in leads if f"Zz{name}" in page]
    return [name for _, name in sorted(found)]


def test_the_list_opens_with_open_leads_highest_score_then_most_recently_active(desk, leads):
    lead_update_status(lead=leads["dee"], status="won")
    lead_update_status(lead=leads["eve"], status="lost")
    page = desk.get("/admin/leads/lead/").content.decode()
    assert names_in(page, leads) == ["cat", "bea", "ann"]
    assert "Call first (open leads)" in page


def test_hot_now_is_high_intent_seen_in_the_last_week(desk, leads):
    page = desk.get("/admin/leads/lead/", {"worklist": "hot"}).content.decode()
    assert names_in(page, leads) == ["dee", "cat", "eve"]  # not Bea: high, but quiet for 20 days


def test_won_and_lost_leads_are_a_click_away(desk, leads):
    lead_update_status(lead=leads["dee"], status="won")
    assert names_in(desk.get("/admin/leads/lead/", {"worklist": "all"}).content.decode(), leads) == [
        "dee", "cat", "bea", "eve", "ann"]
    assert names_in(desk.get("/admin/leads/lead/", {"status__exact": "won"}).content.decode(), leads) == ["dee"]
