"""Test settings: the real settings, with tasks run at once and fast password hashing."""

from clinic.settings import *  # noqa: F403

TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LEAD_NOTIFICATION_EMAILS = ["frontdesk@clinic.test"]
