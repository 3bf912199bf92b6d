"""Configuration read on every request (scoring rules, running experiments), kept in
each process's memory and reloaded when any process changes it.

A change bumps a version in the shared cache (Redis in production, so every process
and machine sees it); a process compares its copy's version with the shared one at
most once every so many seconds (a setting each copy names), so a change reaches every
process within that time, and the one that made it at once."""

import time
import uuid
from collections.abc import Callable
from typing import Generic, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")


class SharedCopy(Generic[T]):
    """This process's copy of what `load()` reads, current within the interval the
    setting `check_setting` gives in seconds; `key` names its version in the cache."""

    def __init__(self, key: str, load: Callable[[], T], *, check_setting: str):
        self.key, self.load, self.check_setting = key, load, check_setting
        # (value, the shared version it was read at, when it was last checked),
        # replaced whole, so a thread never sees half of a change.
        self._copy: tuple[T, str, float] | None = None

    def get(self) -> T:
        now, copy = time.monotonic(), self._copy
        if copy is not None and now - copy[2] < getattr(settings, self.check_setting):
            return copy[0]
        version = cache.get(self.key)
        if version is None:
            cache.add(self.key, uuid.uuid4().hex, timeout=None)
            version = cache.get(self.key)
        value = copy[0] if copy is not None and copy[1] == version else self.load()
        self._copy = (value, version, now)
        return value

    def changed(self) -> None:
        """What load() reads changed: every process reloads it (this one at once, the
        others within the check interval). Called on every save and delete, and again
        once the change is committed, so a process that reloaded in between, before
        the change was visible, reloads once more."""
        self._announce()
        transaction.on_commit(self._announce)

    def _announce(self) -> None:
        self.forget()
        cache.set(self.key, uuid.uuid4().hex, timeout=None)

    def forget(self) -> None:
        """Drop this process's copy: the next get() loads again."""
        self._copy = None
