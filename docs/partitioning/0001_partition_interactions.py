"""Convert interactions_userinteraction into a table partitioned by month of created_at
(PostgreSQL only), keeping every row, index name, check and outgoing foreign key.

Not applied by default: docs/scaling.md says when it is worth it. To apply it, copy
this file into interactions/migrations/ under the next free number and set
`dependencies` to the latest migrations of interactions and leads at that time. On
SQLite it does nothing. It runs in one transaction and holds an exclusive lock on the
table while it copies the rows, so run it in a maintenance window (about a minute per
few million rows; tests/test_partitioning.py runs it on a throwaway database).

What changes, and why (PostgreSQL's rules for partitioned tables):

- The primary key becomes (id, created_at): a unique constraint on a partitioned table
  must contain the partition key. `id` still comes from one sequence, so ids stay
  unique in practice, but the database no longer guarantees it across months.
- `external_id` (import and double-submit keys) becomes unique together with
  created_at. An import gives each row its source's timestamp, so importing the same
  file twice still conflicts; the tracker checks a form's submission key under the
  visitor's row lock before inserting, so that check, not the constraint, is what
  stops a double click.
- Foreign keys *to* interactions (leads_lead.interaction, leads_appointment.interaction,
  interactions_interactionphoto.interaction) are dropped: a foreign key must reference
  a unique key, and only (id, created_at) is one now. Django applies their on_delete
  (CASCADE, SET_NULL) itself when rows are deleted through the ORM, as every delete in
  this code base is; the columns and their indexes stay. (Keeping them would mean
  adding the interaction's created_at to each referencing table.)
- Foreign keys *from* interactions (session, lead) are kept: a partitioned table may
  reference other tables.
- The id sequence becomes a plain sequence owned by the column (PostgreSQL 15 has no
  identity columns on partitioned tables; 17 has).
- Partitions are whole months in UTC, from the month of the oldest row to
  MONTHS_AHEAD months after the current one, plus a DEFAULT partition for anything
  outside them. Create next month's partition before it starts (create_month_partition,
  e.g. from a monthly task): rows that land in the DEFAULT partition must be moved out
  before a partition covering them can be attached.
"""

import datetime

from django.db import migrations

TABLE = "interactions_userinteraction"
OLD = f"{TABLE}_unpartitioned"
SEQUENCE = f"{TABLE}_id_seq"
MONTHS_AHEAD = 3


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def partition_name(month: datetime.date) -> str:
    return f"{TABLE}_y{month:%Y}m{month:%m}"


def create_month_partition(cursor, month: datetime.date) -> str:
    """The partition for the UTC month starting `month`, if it is missing."""
    name = partition_name(month)
    cursor.execute(
        f'CREATE TABLE IF NOT EXISTS "{name}" PARTITION OF "{TABLE}" '
        f"FOR VALUES FROM ('{month:%Y-%m-%d} 00:00:00+00') TO ('{next_month(month):%Y-%m-%d} 00:00:00+00')"
    )
    return name


def partition_interactions(cursor, *, today: datetime.date) -> list[str]:
    """Do the conversion on `cursor`'s connection (inside the caller's transaction);
    returns the monthly partitions created."""
    # First, so nothing writes between reading the table's shape and copying its rows.
    cursor.execute(f'LOCK TABLE "{TABLE}" IN ACCESS EXCLUSIVE MODE')
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s",
        [TABLE],
    )
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
        [TABLE],
    )
    outgoing = cursor.fetchall()
    cursor.execute(
        "SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE confrelid = %s::regclass AND contype = 'f'",
        [TABLE],
    )
    incoming = cursor.fetchall()
    cursor.execute(f'SELECT min(created_at), max(id) FROM "{TABLE}"')
    oldest, last_id = cursor.fetchone()

    for table, constraint in incoming:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"')
    cursor.execute(f'ALTER TABLE "{TABLE}" RENAME TO "{OLD}"')
    # Columns, NOT NULLs, defaults and CHECK constraints (score 0-100) as they were;
    # the identity of `id` is not copied (see the module's docstring).
    cursor.execute(
        f'CREATE TABLE "{TABLE}" (LIKE "{OLD}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) '
        "PARTITION BY RANGE (created_at)"
    )
    first = month_start(oldest.astimezone(datetime.UTC).date()) if oldest else month_start(today)
    last = month_start(today)
    for _ in range(MONTHS_AHEAD):
        last = next_month(last)
    created, month = [], first
    while month <= last:
        created.append(create_month_partition(cursor, month))
        month = next_month(month)
    cursor.execute(f'CREATE TABLE "{TABLE}_default" PARTITION OF "{TABLE}" DEFAULT')

    cursor.execute(f'INSERT INTO "{TABLE}" SELECT * FROM "{OLD}"')
    cursor.execute(f'DROP TABLE "{OLD}"')  # frees the index names for the new table

    cursor.execute(f'CREATE SEQUENCE "{SEQUENCE}" OWNED BY "{TABLE}".id')
    cursor.execute("SELECT setval(%s, %s, %s)", [SEQUENCE, last_id or 1, last_id is not None])
    cursor.execute(f"""ALTER TABLE "{TABLE}" ALTER COLUMN id SET DEFAULT nextval('"{SEQUENCE}"'::regclass)""")
    cursor.execute(f'ALTER TABLE "{TABLE}" ADD CONSTRAINT "{TABLE}_pkey" PRIMARY KEY (id, created_at)')
    cursor.execute(
        f'ALTER TABLE "{TABLE}" ADD CONSTRAINT "{TABLE}_external_id_created_at_key" UNIQUE (external_id, created_at)'
    )
    for _, definition in indexes:
        # Read before the rename, so each definition names the new table. The primary
        # key and external_id's unique key are replaced above; an index created on
        # the parent is created on every partition, now and later.
        if not definition.startswith("CREATE UNIQUE INDEX"):
            cursor.execute(definition)
    for name, definition in outgoing:
        cursor.execute(f'ALTER TABLE "{TABLE}" ADD CONSTRAINT "{name}" {definition}')
    return created


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        partition_interactions(cursor, today=datetime.datetime.now(datetime.UTC).date())


class Migration(migrations.Migration):
    dependencies = [
        ("interactions", "0008_dashboard_funnel_indexes"),
        ("leads", "0010_dashboard_daily_rollups"),
    ]

    operations = [
        # Irreversible: going back means copying every row into a plain table again,
        # which is a migration of its own if ever needed.
        migrations.RunPython(forwards, reverse_code=None, elidable=False),
    ]
