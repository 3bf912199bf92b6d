"""Pieces the management commands share."""

from datetime import datetime, time

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime


def as_of_option(value: str) -> datetime:
    """An --as-of option: a day (up to its end, or now if that is today) or a moment,
    in local time unless it says otherwise; never in the future, whose outcomes
    nobody knows yet."""
    try:
        # A day alone first: parse_datetime takes one too, as its midnight.
        day = parse_date(value)
        moment = None if day is not None else parse_datetime(value)
    except ValueError:
        moment = day = None
    if moment is None and day is None:
        raise CommandError(f"--as-of {value!r} is not a date: use YYYY-MM-DD (or YYYY-MM-DDTHH:MM).")
    if moment is None:
        moment = timezone.now() if day == timezone.localdate() else timezone.make_aware(datetime.combine(day, time.max))
    elif timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if moment > timezone.now():
        raise CommandError("--as-of is in the future: outcomes after now are not known yet.")
    return moment
