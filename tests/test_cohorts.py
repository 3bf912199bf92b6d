"""Cohorts (leads/cohorts.py, /admin/comprehensive/cohorts/): the figures of a hand-built
set of visitors, the heat-map page, its CSV and who may see it."""

import csv
import io
from datetime import datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from interactions.models import UserSession
from leads import cohorts
from leads.models import Lead, LeadStatus
from leads.selectors import period_for_days
from leads.services import lead_update

pytestmark = pytest.mark.django_db
URL = "/admin/comprehensive/cohorts/"


def at(day: int, month: int = 10, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime(2026, month, day, hour))


def visitor(first_seen, *, source="", converted=None, stages=()):
    """A visitor first seen then; if `converted`, a lead from then, moved through (stage, when) in turn."""
    session = UserSession.objects.create(created_at=first_seen, utm_source=source)
    if converted:
        lead = Lead.objects.create(email=f"v{session.pk}@example.com", created_at=converted)
        session.lead, session.converted_at = lead, converted
        session.save(update_fields=["lead", "converted_at"])
        for stage, when in stages:
            lead_update(lead=lead, by=None, at=when, status=stage)
    return session


@pytest.fixture
def visitors():
    # The week of Monday 5 October: four visitors, two from Google.
    visitor(at(6), source="google", converted=at(6),
            stages=[(LeadStatus.CONTACTED, at(8)), (LeadStatus.BOOKED, at(15)), (LeadStatus.WON, at(30))])
    visitor(at(6), source="google", converted=at(20))  # a lead in their third week
    visitor(at(7))
    visitor(at(9))
    # The week of 12 October: two visitors, one a lead won straight away (so booked too).
    visitor(at(13), converted=at(13), stages=[(LeadStatus.WON, at(14))])
    visitor(at(14))
    # First seen after the chosen days: in no cohort.
    visitor(at(20), converted=at(20))


def table(by):
    period = period_for_days(at(5).date(), at(18).date())
    return cohorts.cohort_table(start=period.start, end=period.end, by=by, weeks=6, now=at(10, month=11))


def test_week_cohorts_count_each_outcome_by_the_week_it_came_in(visitors):
    first, second = table(cohorts.BY_WEEK).cohorts

    assert (first.label, first.sessions) == ("Week of 05 Oct 2026", 4)
    assert first.reached == {"lead": [1, 1, 2, 2, 2, 2], "booked": [0, 1, 1, 1, 1, 1], "won": [0, 0, 0, 1, 1, 1]}
    assert first.percents("lead") == [25.0, 25.0, 50.0, 50.0, 50.0, 50.0]
    # On 10 November the second week's visitors have lived four weeks and a bit: week 5 is to come.
    assert (second.label, second.sessions) == ("Week of 12 Oct 2026", 2)
    assert second.reached == {outcome: [1, 1, 1, 1, 1, None] for outcome in ("lead", "booked", "won")}
    assert second.percents("won") == [50.0, 50.0, 50.0, 50.0, 50.0, None]


def test_source_cohorts_put_the_largest_first_and_name_direct_visits(visitors):
    direct, google = table(cohorts.BY_SOURCE).cohorts

    assert (direct.label, direct.sessions, google.label, google.sessions) == ("(direct)", 4, "google", 2)
    assert google.reached["lead"] == [1, 1, 2, 2, 2, 2]
    assert direct.reached["won"] == [1, 1, 1, 1, 1, 1]


def test_an_unknown_grouping_is_refused():
    with pytest.raises(ValueError):
        cohorts.cohort_table(start=at(5), end=at(19), by="city")


@pytest.fixture
def manager_client(client, demo):
    client.login(username="admin", password="admin")
    return client


def test_the_page_shows_the_heat_map_and_the_csv_has_its_numbers(manager_client):
    response = manager_client.get(URL, {"outcome": "booked"})
    assert response.status_code == 200
    page = response.content.decode()
    shown, data = response.context["table"], response.context["data"]
    period = period_for_days(data["start"], data["end"])
    assert shown.cohorts and sum(c.sessions for c in shown.cohorts) == UserSession.objects.filter(
        created_at__gte=period.start, created_at__lt=period.end).count()
    assert f'value="{data["end"].isoformat()}"' in page
    assert 'id="cohorts"' in page and "background: rgba(" in page and "had <strong>booked</strong> by the end" in page

    rows = list(csv.reader(io.StringIO(manager_client.get(URL, {"format": "csv"}).content.decode())))
    assert rows[0][:4] == ["Cohort", "Visitors", "Outcome", "Week 0"]
    first = shown.cohorts[0]
    booked_row = next(row for row in rows if row[0] == first.label and row[2] == "Booked")
    assert booked_row[1] == str(first.sessions)
    assert booked_row[3:3 + shown.weeks] == ["" if n is None else str(n) for n in first.reached["booked"]]


def test_grouping_by_source_and_bad_dates(manager_client):
    response = manager_client.get(URL, {"by": "source", "weeks": "4"})
    assert response.status_code == 200
    assert response.context["table"].weeks == 4
    response = manager_client.get(URL, {"start": "2026-02-01", "end": "2026-01-01"})
    assert response.status_code == 400
    assert "must not be after" in response.content.decode()
    assert manager_client.get(URL, {"weeks": "0"}).status_code == 400


def test_visitors_and_staff_without_permission_are_kept_out(client, db):
    assert client.get(URL).status_code == 302  # to the login page
    get_user_model().objects.create_user("temp", password="pw-12345-x", is_staff=True)
    client.login(username="temp", password="pw-12345-x")
    assert client.get(URL).status_code == 403
