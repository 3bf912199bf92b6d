"""Write many rows of one table at once, where bulk_create or bulk_update is too slow."""

import csv
import io
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

from django.db import connections, router
from django.db.models import JSONField, Model


def bulk_update_values(objects: Sequence[Model], fields: Sequence[str], *, batch_size: int = 2000) -> None:
    """Save `fields` of these model instances (all of one model, with their primary
    keys) in one UPDATE per batch, joined on a VALUES list: on PostgreSQL and SQLite
    an order of magnitude faster than one UPDATE per row, or bulk_update's CASE per
    column (whose cost grows with the square of the batch). No signals are sent and
    no auto_now field is touched, as with bulk_update."""
    if not objects:
        return
    model = type(objects[0])
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    postgres = connection.vendor == "postgresql"
    # PostgreSQL types a VALUES list from its text: each value says what it is.
    row = "(" + ", ".join("%s" + (f"::{field.db_type(connection)}" if postgres else "") for field in columns) + ")"
    names = ", ".join(connection.ops.quote_name(field.column) for field in columns)
    table, key = connection.ops.quote_name(meta.db_table), connection.ops.quote_name(meta.pk.column)
    assignments = ", ".join(
        f"{connection.ops.quote_name(field.column)} = v.{connection.ops.quote_name(field.column)}"
        for field in columns[1:]
    )
    with connection.cursor() as cursor:
        for start in range(0, len(objects), batch_size):
            batch = objects[start:start + batch_size]
            params = [
                field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in batch for field in columns
            ]
            cursor.execute(
                f"WITH v({names}) AS (VALUES {', '.join([row] * len(batch))}) "
                f"UPDATE {table} SET {assignments} FROM v WHERE {table}.{key} = v.{key}",
                params,
            )


class JSONText(str):
    """A JSON column's value already encoded (a caller that encoded it anyway, e.g.
    to check its size): bulk_insert stores it as it is instead of encoding it again."""


def bulk_insert(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """INSERT rows of one model given as tuples of attribute values (in `fields`
    order, foreign keys by id), building no model instances: for large imports,
    where making an instance and bulk_create's SQL cost more per row than the
    database's own work. PostgreSQL takes them with one COPY (a CSV stream); other
    databases with one executemany. Defaults, auto_now and signals are not applied:
    give every value (a JSON column's may be JSONText). Returns how many rows were written."""
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    names = ", ".join(quote(field.column) for field in columns)
    table = quote(meta.db_table)
    if connection.vendor == "postgresql":
        # In COPY's CSV format an unquoted empty value is NULL and "" is an empty
        # text: QUOTE_NOTNULL writes exactly that.
        json_columns = [(index, field.encoder) for index, field in enumerate(columns)
                        if isinstance(field, JSONField)]
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=csv.QUOTE_NOTNULL, lineterminator="\n")
        count = 0
        for row in rows:
            if json_columns:
                row = list(row)
                for index, encoder in json_columns:
                    if row[index] is not None and type(row[index]) is not JSONText:
                        row[index] = json.dumps(row[index], cls=encoder)
            writer.writerow(row)
            count += 1
        buffer.seek(0)
        # Django turns the driver's errors into its own (DatabaseError) for execute,
        # not for copy_expert: the caller's error handling must see the same errors.
        with connection.cursor() as cursor, connection.wrap_database_errors:
            cursor.copy_expert(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv)", buffer)
        return count
    params = [
        [value if type(value) is JSONText else field.get_db_prep_save(value, connection)
         for field, value in zip(columns, row)]
        for row in rows
    ]
    if params:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})", params
            )
    return len(params)


def reserve_ids(model: type[Model], count: int) -> list[int] | None:
    """Primary keys for `count` rows about to be inserted with their keys given (as
    bulk_insert does), drawn from the table's sequence in one query, so rows that
    refer to them can be written first or in the same COPY. None where the database
    has no sequence to draw from (SQLite): insert the rows to learn their keys."""
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        return None
    if not count:
        return []
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def bulk_update_rows(
    model: type[Model], fields: Sequence[str], rows: Sequence[Sequence[Any]], *, unless_changed: Sequence[str] = ()
) -> set[Any]:
    """bulk_update_values for plain rows: each `(pk, *values of fields)`, the values
    as the model holds them. Building a model instance per row cost more than the
    update (a Lead's __init__ sets some forty fields). On PostgreSQL the rows travel
    as one JSON parameter, an array a row: quoting thousands of parameters one by one
    took longer than the update, and the planner looks each row up by its key
    instead of scanning the table to hash-join a VALUES list. The parameter is read
    as jsonb, once (json_to_recordset read each JSON column's text a second time: a
    quarter more of PostgreSQL's time for the rescore's UPDATE), and the rows are
    encoded as the tuples they are (a dictionary a row cost Python as much again).

    With `unless_changed`, each row ends with the values of these fields as the caller
    read them, and a row is written only where they still are (an optimistic check, in
    the UPDATE itself: a row another writer changed since is left as it is; on
    PostgreSQL, one that writer still holds is checked again once it commits). Returns
    the primary keys of the rows written."""
    if not rows:
        return set()
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    checked = [meta.get_field(name) for name in unless_changed]
    quote = connection.ops.quote_name
    table, key = quote(meta.db_table), quote(meta.pk.column)
    assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in columns[1:])
    # The values read travel as extra columns of v, named so no column can be named alike.
    read_names = [f"read {field.column}" for field in checked]
    postgres = connection.vendor == "postgresql"
    same = "IS NOT DISTINCT FROM" if postgres else "IS"
    condition = f"{table}.{key} = v.{key}" + "".join(
        f" AND {table}.{quote(field.column)} {same} v.{quote(name)}" for field, name in zip(checked, read_names)
    )
    written: set[Any] = set()
    if not postgres:
        names = ", ".join(quote(name) for name in [field.column for field in columns] + read_names)
        with connection.cursor() as cursor:
            for start in range(0, len(rows), 2000):
                batch = rows[start:start + 2000]
                params = [field.get_db_prep_save(value, connection)
                          for row in batch for field, value in zip(columns + checked, row)]
                placeholders = ", ".join(["(" + ", ".join(["%s"] * (len(columns) + len(checked))) + ")"] * len(batch))
                cursor.execute(
                    f"WITH v({names}) AS (VALUES {placeholders}) "
                    f"UPDATE {table} SET {assignments} FROM v WHERE {condition} RETURNING {table}.{key}",
                    params,
                )
                written.update(pk for (pk,) in cursor.fetchall())
        return written
    # Each row a JSON array, read as jsonb once: a JSON field's value is written as the
    # JSON it is (SQL NULL for null), any other column's from its text; a moment
    # travels as ISO 8601 text.
    columns_read = columns + checked
    values = ", ".join(
        (f"NULLIF(e->{index}, 'null')" if isinstance(field, JSONField)
         else f"(e->>{index})::{field.rel_db_type(connection) if field.primary_key else field.db_type(connection)}")
        + f" AS {quote(name)}"
        for index, (field, name) in enumerate(zip(columns_read, [field.column for field in columns] + read_names))
    )
    document = json.dumps(rows, default=_moments_as_text())
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {assignments} FROM (SELECT {values} FROM jsonb_array_elements(%s::jsonb) AS e) AS v "
            f"WHERE {condition} RETURNING {table}.{key}",
            [document],
        )
        written.update(pk for (pk,) in cursor.fetchall())
    return written


def _moments_as_text() -> Callable[[Any], str]:
    """json.dumps's `default` for rows of values as a model holds them: a date or a
    moment as ISO 8601 text (each moment encoded once: a batch's rows share a few)."""
    encoded: dict[date, str] = {}

    def encode(value: Any) -> str:
        if not isinstance(value, date):
            raise TypeError(f"{type(value).__name__} is not JSON serializable")
        text = encoded.get(value)
        if text is None:
            text = encoded[value] = value.isoformat()
        return text

    return encode
