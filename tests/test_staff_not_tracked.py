"""Staff are not visitors: the back office, its refusals and the public pages a member
of staff looks at carry no tracking script."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from clinic.roles import MARKETING

TRACKER = "js/track.js"


@pytest.fixture
def marketing(client, demo):
    user = get_user_model().objects.create_user("mia", password="pw-12345-x", is_staff=True)
    user.groups.add(Group.objects.get(name=MARKETING))
    client.force_login(user)
    return client


@pytest.mark.parametrize("url", [
    "/admin/", "/admin/comprehensive/dashboard/", "/admin/leads/lead/", "/admin/interactions/userinteraction/",
])
def test_back_office_pages_carry_no_tracking_script(marketing, url):
    response = marketing.get(url)
    assert response.status_code == 200 and TRACKER not in response.content.decode()


def test_a_refused_back_office_page_carries_no_tracking_script(marketing):
    response = marketing.get("/admin/leads/consent/")
    assert response.status_code == 403 and TRACKER not in response.content.decode()


def test_a_member_of_staff_on_the_public_site_is_not_tracked_but_a_patient_is(marketing, client):
    assert TRACKER not in marketing.get("/enhanced-ai/").content.decode()
    marketing.logout()
    assert TRACKER in client.get("/enhanced-ai/").content.decode()
