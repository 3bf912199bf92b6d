"""core.bulk: many rows written at once (COPY on PostgreSQL), read back as the ORM wrote them."""

from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, transaction

from core.bulk import JSONText, bulk_insert, reserve_ids
from interactions.models import UserInteraction, UserSession
from tests.factories import UserSessionFactory

pytestmark = pytest.mark.django_db

FIELDS = ["session", "interaction_type", "data", "page_url", "engagement_seconds", "score", "score_reasons",
          "converted", "created_at", "external_id"]


def test_rows_written_in_bulk_read_back_as_given():
    session = UserSessionFactory()
    at = datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)
    awkward = 'a "quoted", comma\nnew line \\ back\tslash é'
    written = bulk_insert(UserInteraction, FIELDS, [
        [session.pk, "search", {"query": awkward, "n": [1, 2.5, None]}, awkward, 5, 60, [{"rule": "x"}], True, at,
         "x:1"],
        [session.pk, "search", JSONText('{"already": "encoded"}'), "", 0, 0, [], False, at, None],
    ])
    assert written == 2
    first, second = UserInteraction.objects.order_by("pk")
    assert (first.data, first.page_url, first.score_reasons, first.converted, first.created_at, first.external_id) == (
        {"query": awkward, "n": [1, 2.5, None]}, awkward, [{"rule": "x"}], True, at, "x:1")
    # An empty text stays empty text, and a missing value is NULL.
    assert (second.data, second.page_url, second.external_id) == ({"already": "encoded"}, "", None)


def test_a_row_the_database_refuses_is_a_database_error_and_nothing_is_written():
    session = UserSessionFactory()
    at = datetime(2024, 5, 1, tzinfo=UTC)
    with pytest.raises(DatabaseError), transaction.atomic():
        bulk_insert(UserInteraction, FIELDS, [
            [session.pk, "search", {}, "", 5, 0, [], False, at, "ok"],
            [session.pk, "search", {}, "", -1, 0, [], False, at, "negative seconds"],
        ])
    assert not UserInteraction.objects.exists()


def test_reserved_keys_are_new_and_the_rows_given_them_are_stored_under_them():
    ids = reserve_ids(UserSession, 3)
    if ids is None:
        pytest.skip("SQLite has no sequence to reserve keys from")
    existing = UserSessionFactory()
    assert len(set(ids)) == 3 and existing.pk not in ids
    sessions = [UserSessionFactory.build(pk=pk) for pk in ids]
    fields = UserSession._meta.concrete_fields
    bulk_insert(UserSession, [field.name for field in fields],
                ([getattr(session, field.attname) for field in fields] for session in sessions))
    assert set(UserSession.objects.values_list("pk", flat=True)) == {existing.pk, *ids}
    # The sequence moved past them: the next session made the usual way gets a new key.
    assert UserSessionFactory().pk not in ids


def test_rows_are_updated_only_where_the_values_read_are_still_there():
    from core.bulk import bulk_update_rows

    first, second = UserSessionFactory(visit_count=1), UserSessionFactory(visit_count=1)
    UserSession.objects.filter(pk=second.pk).update(visit_count=2)  # another writer, after our read

    written = bulk_update_rows(UserSession, ["engagement_seconds", "visit_count"],
                               [(first.pk, 50, 2, 1), (second.pk, 50, 2, 1)], unless_changed=["visit_count"])

    assert written == {first.pk}
    assert sorted(UserSession.objects.values_list("pk", "engagement_seconds", "visit_count")) == [
        (first.pk, 50, 2), (second.pk, second.engagement_seconds, 2)]


def test_rows_updated_in_bulk_read_back_as_given():
    from core.bulk import bulk_update_rows

    first, second = UserSessionFactory(), UserSessionFactory(scoring_state={"old": True})
    at = datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)
    awkward = 'a "quoted", comma\nnew line \\ back\tslash é'
    fields = ["landing_page", "last_seen_at", "scoring_state", "visit_count"]

    written = bulk_update_rows(UserSession, fields, [
        (first.pk, awkward, at, {"n": [1, 2.5, None], "text": awkward}, 3),
        (second.pk, "", at, None, 1),
    ])

    assert written == {first.pk, second.pk}
    assert [(session.landing_page, session.last_seen_at, session.scoring_state, session.visit_count)
            for session in UserSession.objects.order_by("pk")] == [
        (awkward, at, {"n": [1, 2.5, None], "text": awkward}, 3), ("", at, None, 1)]
