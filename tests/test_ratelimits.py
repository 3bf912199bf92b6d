"""clinic/ratelimits.py: whose address a limit counts, and that only known limits exist."""

import pytest
from django.test import RequestFactory

from core.ratelimits import limit_posts
from interactions.services import client_ip


def request_from(remote: str, forwarded: str | None = None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **extra)


def test_without_a_proxy_the_address_is_the_connections(settings):
    settings.CLINIC_TRUSTED_PROXY_COUNT = 0
    assert client_ip(request_from("203.0.113.5", forwarded="1.2.3.4")) == "203.0.113.5"


def test_behind_one_proxy_the_address_is_what_the_proxy_saw_not_what_the_client_wrote(settings):
    settings.CLINIC_TRUSTED_PROXY_COUNT = 1
    assert client_ip(request_from("10.0.0.2", forwarded="6.6.6.6, 203.0.113.5")) == "203.0.113.5"


def test_behind_two_proxies_the_address_is_counted_from_the_right(settings):
    settings.CLINIC_TRUSTED_PROXY_COUNT = 2
    assert client_ip(request_from("10.0.0.2", forwarded="6.6.6.6, 203.0.113.5, 10.0.0.9")) == "203.0.113.5"


@pytest.mark.parametrize("forwarded", ["", "not-an-address", None])
def test_a_missing_or_forged_header_falls_back_to_the_connection(settings, forwarded):
    settings.CLINIC_TRUSTED_PROXY_COUNT = 1
    assert client_ip(request_from("10.0.0.2", forwarded=forwarded)) == "10.0.0.2"


def test_an_unknown_limit_is_a_mistake_caught_at_import():
    with pytest.raises(ValueError, match="CLINIC_RATE_LIMITS"):
        limit_posts("tracker")
