"""Analytics reads on their own alias: the dashboard (page, CSV, API) and the lead export
read on the `analytics` connection, everything else and every write on `default`.

Transactional tests on both aliases: `analytics` mirrors the default test database through
a second connection, which sees only committed rows. (Sharing one session instead does
not work on SQLite: the test case opens a transaction on every alias, mirrors included.)"""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.db import connections, router
from django.test.utils import CaptureQueriesContext

from core.db import AnalyticsRouter, reading_for_analytics
from interactions.tracker import track_user_interaction
from leads.exports import leads_csv
from leads.models import Lead
from tests.factories import UserSessionFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=["default", "analytics"])

DASHBOARD = "/admin/comprehensive/dashboard/"
FIGURE_TABLES = ('"interactions_usersession"', '"interactions_userinteraction"', '"leads_lead"')


@pytest.fixture(autouse=True)
def routed(settings):
    settings.ANALYTICS_READS_ROUTED = True


@pytest.fixture
def staff(client):
    client.force_login(get_user_model().objects.create_superuser("boss", "boss@clinic.test", "pw-12345-x"))
    return client


@pytest.fixture
def a_lead_with_a_journey() -> Lead:
    session = UserSessionFactory(utm_source="google", utm_medium="cpc", utm_campaign="spring")
    track_user_interaction(session, "ai_recommendation", {"urgency": "soon"})
    lead = Lead.objects.create(first_name="Ana", email="ana@example.com", utm_source="google")
    session.lead = lead
    session.save(update_fields=["lead"])
    return lead


class Queries:
    """The SQL each connection ran inside the block."""

    def __enter__(self):
        self.contexts = {alias: CaptureQueriesContext(connections[alias]) for alias in ("default", "analytics")}
        for context in self.contexts.values():
            context.__enter__()
        return self

    def __exit__(self, *exc):
        for context in self.contexts.values():
            context.__exit__(*exc)

    def on(self, alias: str) -> list[str]:
        return [query["sql"] for query in self.contexts[alias].captured_queries]

    def figures_read_on(self, alias: str) -> bool:
        """Whether the visitors, interactions or leads were read on this connection (the
        visitor middleware may still write a visitor row on default). The daily roll-up's
        upkeep (its watermark, read with the newest ids under a lock, leads.rollups) reads
        in order to write, so on default: it is not a figure read."""
        return any(
            sql.startswith("SELECT") and table in sql and "leads_rollup" not in sql
            for sql in self.on(alias) for table in FIGURE_TABLES
        )


@pytest.mark.parametrize("params", [{}, {"format": "csv"}], ids=["page", "csv"])
def test_the_dashboard_reads_its_figures_on_the_analytics_connection(staff, a_lead_with_a_journey, params):
    with Queries() as queries:
        response = staff.get(DASHBOARD, params)

    assert response.status_code == 200
    assert queries.figures_read_on("analytics")
    assert not queries.figures_read_on("default")  # the login and session stay on default
    if not params:
        kpis = {label: value for label, value, _, _ in response.context["kpis"]}
        assert (kpis["Visitors"], kpis["Interactions"], kpis["Leads"]) == (1, 1, 1)


def test_the_dashboard_api_reads_on_the_analytics_connection(staff, a_lead_with_a_journey):
    with Queries() as queries:
        response = staff.get("/api/v1/dashboard/")

    assert response.status_code == 200
    assert {row["figure"]: row["value"] for row in response.json()["kpis"]}["Leads"] == 1
    assert queries.figures_read_on("analytics") and not queries.figures_read_on("default")


def test_the_lead_export_reads_on_the_analytics_connection(staff, a_lead_with_a_journey):
    with Queries() as queries:
        response = staff.post("/admin/leads/lead/", {
            "action": "export_csv", "_selected_action": [a_lead_with_a_journey.pk]})

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][4] == "ana@example.com"
    assert any('"leads_lead"' in sql and "ORDER BY" in sql for sql in queries.on("analytics"))


def test_reads_outside_the_block_stay_on_default(a_lead_with_a_journey):
    with Queries() as queries:
        assert Lead.objects.count() == 1
    assert queries.on("analytics") == [] and queries.figures_read_on("default")


def test_writes_never_go_to_the_analytics_database(a_lead_with_a_journey):
    with reading_for_analytics():
        lead = Lead.objects.get()  # read on analytics
        assert lead._state.db == "analytics"
        with Queries() as queries:
            lead.first_name = "Anna"
            lead.save(update_fields=["first_name"])
            Lead.objects.create(first_name="Ben", email="ben@example.com")

    assert not any(sql.startswith(("UPDATE", "INSERT")) for sql in queries.on("analytics"))
    assert sum(sql.startswith(("UPDATE", "INSERT")) for sql in queries.on("default")) == 2
    assert router.db_for_write(Lead, instance=lead) == "default"


def test_an_export_works_from_a_queryset_built_before_the_block(a_lead_with_a_journey):
    with Queries() as queries:
        response = leads_csv(Lead.objects.all())
    assert "ana@example.com" in response.content.decode()
    assert queries.figures_read_on("analytics") and not queries.figures_read_on("default")


def test_the_analytics_database_is_never_migrated():
    assert AnalyticsRouter().allow_migrate("analytics", "leads") is False
    assert AnalyticsRouter().allow_migrate("default", "leads") is None
