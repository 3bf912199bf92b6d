"""The big admin lists: an estimated count for the whole list on PostgreSQL, exact otherwise."""

import pytest
from django.db import connection

from core.paginators import EstimatedCountPaginator
from interactions.models import UserInteraction
from tests.factories import UserSessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def three():
    session = UserSessionFactory()
    for kind in ("search", "search", "face_analysis"):
        UserInteraction.objects.create(session=session, interaction_type=kind)


def test_small_and_filtered_lists_are_counted_exactly(three):
    assert EstimatedCountPaginator(UserInteraction.objects.all(), 10).count == 3
    assert EstimatedCountPaginator(UserInteraction.objects.filter(interaction_type="search"), 10).count == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the estimate is PostgreSQL's")
def test_a_big_unfiltered_list_shows_postgresqls_estimate(three, monkeypatch):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE interactions_userinteraction")
    monkeypatch.setattr(EstimatedCountPaginator, "ESTIMATE_ABOVE", 1)
    assert EstimatedCountPaginator(UserInteraction.objects.all(), 10).count == 3  # ANALYZE counted them
    assert EstimatedCountPaginator(UserInteraction.objects.filter(interaction_type="search"), 10).count == 2


def test_the_interaction_log_pages_with_it(admin_client, three):
    response = admin_client.get("/admin/interactions/userinteraction/")
    assert response.status_code == 200
    assert response.context["cl"].result_count == 3


def test_the_date_hierarchy_years_from_the_index_are_djangos_years(db):
    import datetime

    from django.utils import timezone

    from core.paginators import IndexedYearsQuerySet

    session = UserSessionFactory()
    for year in (2019, 2021, 2021, 2024):
        # New Year's Eve late in the evening, local time: the year is the clinic's.
        at = timezone.make_aware(datetime.datetime(year, 12, 31, 23, 30))
        UserInteraction.objects.create(session=session, interaction_type="search", created_at=at)
    plain = UserInteraction.objects.all()
    indexed = IndexedYearsQuerySet(model=UserInteraction)
    assert list(indexed.datetimes("created_at", "year")) == list(plain.datetimes("created_at", "year"))
    assert [d.year for d in indexed.datetimes("created_at", "year")] == [2019, 2021, 2024]
    assert list(indexed.filter(interaction_type="face_analysis").datetimes("created_at", "year")) == []


def test_the_interaction_log_links_the_years_that_have_rows(admin_client, three):
    page = admin_client.get("/admin/interactions/userinteraction/").content.decode()
    assert "created_at__year=" in page or "created_at__month=" in page or "created_at__day=" in page
