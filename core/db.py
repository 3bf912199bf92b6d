"""Reads for analytics on their own database alias: `analytics`, a PostgreSQL read
replica in production and the default database otherwise (clinic/settings.py).

Code that reads only to count and chart (the dashboard, CSV exports) wraps those
reads in `reading_for_analytics()`; the router below then sends every read made
inside the block to `analytics`. The selectors stay as they are, plain querysets on
the default manager, so the dashboard, the API and the exports keep calling the same
functions; only the caller decides where they read. Writes always go to `default`,
inside the block or not, and so does every read outside it."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

ANALYTICS = "analytics"
_DATABASES = frozenset({"default", ANALYTICS})

# A context variable, not a thread-local: each thread, and each asyncio task, sees its own.
_reading_for_analytics: ContextVar[bool] = ContextVar("reading_for_analytics", default=False)


@contextmanager
def reading_for_analytics() -> Iterator[None]:
    """Send the reads made in this block to the `analytics` database. A replica may lag
    the primary by a moment, which is fine for figures, never for a read-then-write."""
    token = _reading_for_analytics.set(True)
    try:
        yield
    finally:
        _reading_for_analytics.reset(token)


@contextmanager
def reading_on_primary() -> Iterator[None]:
    """Read on `default` again inside a reading_for_analytics() block: for a read made
    in order to write (a replica is read-only, and may not yet have the rows just written)."""
    token = _reading_for_analytics.set(False)
    try:
        yield
    finally:
        _reading_for_analytics.reset(token)


class AnalyticsRouter:
    def db_for_read(self, model, **hints) -> str | None:
        if _reading_for_analytics.get() and settings.ANALYTICS_READS_ROUTED:
            return ANALYTICS
        return None

    def db_for_write(self, model, **hints) -> str | None:
        # Django saves a row back to the database it was read from; a row read for
        # analytics came from the replica, so its writes are sent to the primary.
        instance = hints.get("instance")
        if instance is not None and instance._state.db == ANALYTICS:
            return "default"
        return None

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        # Both aliases hold the same rows, so objects read from either may be related.
        if obj1._state.db in _DATABASES and obj2._state.db in _DATABASES:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool | None:
        # The replica follows the primary's schema; it is never migrated itself.
        return False if db == ANALYTICS else None
