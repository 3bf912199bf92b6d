"""Test settings: the real settings, with tasks run at once and fast password hashing."""

from clinic.settings import *  # noqa: F403

TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LEAD_NOTIFICATION_EMAILS = ["frontdesk@clinic.test"]
# As in production, where connections are kept (tests/core/test_sql.py switches it off).
DATABASE_PREPARED_STATEMENTS = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not the in-memory default: shared-cache memory databases lock whole
    # tables at once, so concurrent writers (tests/leads/test_concurrency.py) fail
    # instead of waiting their turn as they do on a real SQLite file.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}  # noqa: F405

# Each test runs inside a transaction on the default connection; the `analytics` alias,
# a mirror of default, is a second connection that cannot see those uncommitted rows.
# tests/core/test_db.py switches the routing on in transactional tests.
ANALYTICS_READS_ROUTED = False
