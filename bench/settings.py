"""Settings for `make bench`: the site's own, with the bench-only URLs (the bare view)
and the rate limits lifted, since every load-test request comes from one address."""

from clinic.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
RATELIMIT_ENABLE = False
# As in production: DEBUG keeps every query of a request in memory.
DEBUG = False
