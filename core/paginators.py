"""For the admin's biggest lists: PostgreSQL's own estimate of a table's rows instead
of counting a million of them on every page, and the date hierarchy's years found
from the index."""

from datetime import datetime

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Max, Min, QuerySet
from django.utils import timezone
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


class IndexedYearsQuerySet(QuerySet):
    """What the admin's date hierarchy asks first, the years that have rows, found from
    the date index (the first and last row, then one LIMIT 1 probe a year) instead of
    truncating every row's date: on a million interactions that took most of a second."""

    def datetimes(self, field_name, kind, order="ASC", tzinfo=None):
        if kind != "year":
            return super().datetimes(field_name, kind, order=order, tzinfo=tzinfo)
        zone = tzinfo or timezone.get_current_timezone()
        span = self.order_by().aggregate(first=Min(field_name), last=Max(field_name))
        if span["first"] is None:
            return []
        years = []
        for year in range(span["first"].astimezone(zone).year, span["last"].astimezone(zone).year + 1):
            start = datetime(year, 1, 1, tzinfo=zone)
            if self.filter(**{f"{field_name}__gte": start,
                              f"{field_name}__lt": datetime(year + 1, 1, 1, tzinfo=zone)}).exists():
                years.append(start)
        return years if order == "ASC" else years[::-1]
