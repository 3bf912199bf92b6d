"""The --as-of option the learning commands share."""

from datetime import timedelta

import pytest
from django.core.management.base import CommandError
from django.utils import timezone

from core.commands import as_of_option


def test_today_means_now_and_a_past_day_its_end():
    now = timezone.now()
    assert now <= as_of_option(timezone.localdate().isoformat()) <= timezone.now()
    yesterday = timezone.localdate() - timedelta(days=1)
    assert timezone.localtime(as_of_option(yesterday.isoformat())).time().hour == 23


@pytest.mark.parametrize("value, message", [("31-02-2026", "is not a date"), ("2999-01-01", "in the future")])
def test_a_bad_or_future_as_of_is_a_clear_error(value, message):
    with pytest.raises(CommandError, match=message):
        as_of_option(value)
