"""A paginator for the admin's biggest lists: PostgreSQL's own estimate of a table's
rows instead of counting a million of them on every page."""

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property


class EstimatedCountPaginator(Paginator):
    """The unfiltered list of a big table on PostgreSQL counts its rows with the
    planner's estimate (pg_class.reltuples, kept fresh by autovacuum's ANALYZE): an
    exact COUNT(*) of a million rows took most of a second. Below ESTIMATE_ABOVE rows,
    on a filtered list, and on other databases the count is exact."""

    ESTIMATE_ABOVE = 100_000

    @cached_property
    def count(self) -> int:
        estimate = self._estimate()
        return estimate if estimate is not None and estimate > self.ESTIMATE_ABOVE else super().count

    def _estimate(self) -> int | None:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet) or queryset.query.where or queryset.query.combinator:
            return None
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
                           [connection.ops.quote_name(queryset.model._meta.db_table)])
            row = cursor.fetchone()
        # -1 (or nothing): never analysed yet.
        return int(row[0]) if row and row[0] >= 0 else None
