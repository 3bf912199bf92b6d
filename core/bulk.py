"""Write many rows of one table at once, where bulk_update is too slow."""

from collections.abc import Sequence

from django.db import connections, router
from django.db.models import Model


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
