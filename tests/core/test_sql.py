"""core/sql.py: the tracker's hand-built statements write what the ORM would, and on
PostgreSQL are prepared once per connection, again after a reconnect."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import sql
from interactions.models import UserInteraction, UserSession

pytestmark = pytest.mark.django_db


def settings_root() -> Path:
    return Path(__file__).resolve().parents[2]
postgresql_only = pytest.mark.skipif("connection.vendor != 'postgresql'")


def statements_of(work) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        work()
    return [query["sql"] for query in captured.captured_queries]


def test_insert_and_update_writes_both_rows_as_the_orm_reads_them():
    session = UserSession.objects.create()
    session.score, session.interaction_count, session.contact_prompt_pages = 42, 1, ["/treatments/"]
    interaction = UserInteraction(session=session, interaction_type="search", data={"query": "lips"},
                                  score=42, created_at=timezone.now())

    sql.insert_and_update(interaction, session, ["score", "interaction_count", "contact_prompt_pages"])

    assert interaction.pk is not None and not interaction._state.adding
    stored = UserInteraction.objects.get(pk=interaction.pk)
    assert (stored.session_id, stored.data, stored.score) == (session.pk, {"query": "lips"}, 42)
    session.refresh_from_db()
    assert (session.score, session.interaction_count, session.contact_prompt_pages) == (42, 1, ["/treatments/"])


@postgresql_only
def test_on_postgresql_the_pair_is_one_statement():
    session = UserSession.objects.create()
    session.score = 7
    interaction = UserInteraction(session=session, interaction_type="page_engagement", created_at=timezone.now())
    sql.insert_and_update(interaction, session, ["score"])  # prepares it on this connection

    statements = statements_of(lambda: sql.insert_and_update(
        UserInteraction(session=session, interaction_type="page_engagement", created_at=timezone.now()),
        session, ["score"],
    ))

    assert len(statements) == 1 and statements[0].startswith("EXECUTE clinic_"), statements
    assert UserInteraction.objects.filter(session=session).count() == 2


def connection_renewed() -> None:
    """What a new connection to PostgreSQL is: a server session with nothing prepared
    (without closing the test's transaction)."""
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    sql._prepared.pop(connection.connection, None)


def kinds(statements: list[str]) -> list[str]:
    return [statement.split()[0] for statement in statements]


@postgresql_only
def test_a_statement_is_prepared_once_per_connection_and_again_on_a_new_one():
    session = UserSession.objects.create()

    def update():
        session.score += 1
        sql.update(session, ["score"])

    connection_renewed()
    assert kinds(statements_of(update)) == ["PREPARE", "EXECUTE"]
    assert kinds(statements_of(update)) == ["EXECUTE"]

    connection_renewed()
    assert kinds(statements_of(update)) == ["PREPARE", "EXECUTE"]
    session.refresh_from_db()
    assert session.score == 3


@postgresql_only
def test_with_prepared_statements_off_the_sql_is_sent_as_it_is(settings):
    settings.DATABASE_PREPARED_STATEMENTS = False
    session = UserSession.objects.create()
    session.score = 5

    statements = statements_of(lambda: sql.update(session, ["score"]))

    assert len(statements) == 1 and statements[0].startswith("UPDATE"), statements
    session.refresh_from_db()
    assert session.score == 5


def test_a_statement_with_its_own_dollar_or_percent_signs_is_refused_for_preparing():
    with pytest.raises(ValueError):
        sql._prepare_sql("SELECT '$1' WHERE 1 = %s")


@pytest.mark.parametrize(("conn_max_age", "prepared"), [("0", "False"), ("60", "True")])
def test_statements_are_prepared_by_default_only_on_connections_kept_between_requests(conn_max_age, prepared):
    environment = {**os.environ, "DATABASE_CONN_MAX_AGE": conn_max_age, "DJANGO_SETTINGS_MODULE": "clinic.settings"}
    environment.pop("DATABASE_PREPARED_STATEMENTS", None)
    printed = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.DATABASE_PREPARED_STATEMENTS)"],
        env=environment, cwd=settings_root(), capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert printed == prepared
