"""docs/partitioning/0001_partition_interactions.py, applied as a migration to a throwaway
database migrated from scratch: the interactions table becomes partitioned by month of
created_at, keeps every row, and the ORM keeps working on it. PostgreSQL only."""

import datetime
import importlib.util
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.db.migrations.loader import MigrationLoader

from interactions.models import UserInteraction, UserSession
from leads.models import Lead

on_postgresql = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="table partitioning is PostgreSQL's",
)

ALIAS = "partitioning"
TABLE = "interactions_userinteraction"
MIGRATION = settings.BASE_DIR / "docs" / "partitioning" / "0001_partition_interactions.py"


def partitioning_module():
    spec = importlib.util.spec_from_file_location("partition_interactions", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def throwaway(django_db_blocker):
    """A new, empty PostgreSQL database migrated from scratch by `manage.py migrate` in a
    process of its own (where it is the default database, so the data migrations fill
    it too), reachable here as connections["partitioning"]; dropped afterwards. Nothing
    touches the test database, so this test needs no transaction of its own."""
    server = connections.settings["default"]
    name = f"{server['NAME']}_partitioning_{os.getpid()}"[:63]
    url = f"postgres://{server['USER']}:{server['PASSWORD']}@{server['HOST'] or 'localhost'}:{server['PORT'] or 5432}/{name}"
    environment = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    environment.pop("ANALYTICS_DATABASE_URL", None)
    with django_db_blocker.unblock():
        with connections["default"]._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cursor.execute(f'CREATE DATABASE "{name}"')
        connections.settings[ALIAS] = {**server, "NAME": name, "TEST": {}}
        try:
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
                cwd=settings.BASE_DIR, env=environment, check=True, capture_output=True, timeout=600,
            )
            yield connections[ALIAS]
        finally:
            connections[ALIAS].close()
            del connections[ALIAS]
            del connections.settings[ALIAS]
            with connections["default"]._nodb_cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')


def rows(connection) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, session_id, interaction_type, data::text, created_at, external_id FROM {TABLE} ORDER BY id")
        return cursor.fetchall()


def one(connection, sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def index_names(connection) -> set[str]:
    return {name for (name,) in one(connection, "SELECT indexname FROM pg_indexes WHERE tablename = %s", [TABLE])}


def month_of(moment: datetime.datetime) -> str:
    return f"{TABLE}_y{moment:%Y}m{moment:%m}"


@on_postgresql
def test_the_interactions_table_is_partitioned_by_month_with_every_row_kept(throwaway):
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    moments = [now - datetime.timedelta(days=days) for days in (75, 40, 3)] + [now + datetime.timedelta(days=800)]
    session = UserSession.objects.using(ALIAS).create(landing_page="/")
    made = [
        UserInteraction.objects.using(ALIAS).create(
            session=session, interaction_type="search", data={"query": f"botox {i}"}, created_at=moment,
            external_id=f"import-{i}",
        )
        for i, moment in enumerate(moments)
    ]
    lead = Lead.objects.using(ALIAS).create(first_name="Ana", email="ana@example.com", interaction=made[0])
    before = rows(throwaway)
    indexes = index_names(throwaway)

    module = partitioning_module()
    migration = module.Migration("0009_partition_interactions", "interactions")
    with throwaway.schema_editor(atomic=True) as editor:
        migration.apply(MigrationLoader(throwaway).project_state(), editor)

    assert one(throwaway, "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = %s::regclass", [TABLE]) == [("r",)]
    assert rows(throwaway) == before
    placed = dict(one(throwaway, f"SELECT external_id, tableoid::regclass::text FROM {TABLE}"))
    assert placed == {
        "import-0": month_of(moments[0]), "import-1": month_of(moments[1]), "import-2": month_of(moments[2]),
        "import-3": f"{TABLE}_default",  # beyond the months created ahead
    }
    primary_key = one(throwaway, (
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY a.attname"), [TABLE])
    assert primary_key == [("created_at",), ("id",)]
    unique_keys = {name for name in indexes if name.endswith(("_pkey", "_key", "_uniq"))}
    assert index_names(throwaway) == indexes - unique_keys | {f"{TABLE}_pkey", f"{TABLE}_external_id_created_at_key"}

    # The ORM writes and reads as before: new ids continue the sequence, deleting
    # through the ORM still empties the lead's link (Django applies SET_NULL itself).
    added = UserInteraction.objects.using(ALIAS).create(session=session, interaction_type="search")
    assert added.pk == max(row[0] for row in before) + 1
    assert one(throwaway, f"SELECT tableoid::regclass::text FROM {TABLE} WHERE id = %s", [added.pk]) == [(month_of(now),)]
    assert Lead.objects.using(ALIAS).get(pk=lead.pk).interaction == made[0]
    UserInteraction.objects.using(ALIAS).filter(pk=made[0].pk).delete()
    assert Lead.objects.using(ALIAS).get(pk=lead.pk).interaction is None
    # An import's key is still unique for the same moment.
    with pytest.raises(IntegrityError), transaction.atomic(using=ALIAS):
        UserInteraction.objects.using(ALIAS).create(
            session=session, interaction_type="search", created_at=moments[1], external_id="import-1")


def test_the_migration_does_nothing_on_sqlite():
    class SQLiteEditor:
        class connection:
            vendor = "sqlite"

    assert partitioning_module().forwards(None, SQLiteEditor()) is None
