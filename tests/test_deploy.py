"""Production settings: `manage.py check --deploy` is clean, and nothing secret is built in."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent


def production_env(tmp_path, **overrides) -> dict:
    # Nothing of this test process's own set-up: DJANGO_SETTINGS_MODULE names the test
    # settings, and the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE.
    env = {
        name: value for name, value in os.environ.items()
        if not name.startswith("DJANGO_")
        and name not in {"DEBUG", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "EMAIL_HOST"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings",
        CLINIC_PRODUCTION="1",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="clinic.example",
        # The check reads no data: SQLite stands in for PostgreSQL, so no server is needed.
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy-check.sqlite3'}",
        **overrides,
    )
    return env


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_deploy_check_is_clean_with_production_settings(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


SECURE_IN_PRODUCTION = [
    "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "VISITOR_COOKIE_SECURE", "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_PRELOAD", "CSRF_COOKIE_HTTPONLY", "SESSION_COOKIE_HTTPONLY",
]


def production_settings(tmp_path, **overrides) -> dict:
    show = "import json; from django.conf import settings as s; print(json.dumps({n: getattr(s, n) for n in %r}))"
    names = [*SECURE_IN_PRODUCTION, "CACHES", "MAILERS"]
    result = manage("shell", "-c", show % names, env=production_env(tmp_path, **overrides))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_switches_on_secure_cookies_https_and_real_email(tmp_path):
    values = production_settings(tmp_path)
    assert {name: values[name] for name in SECURE_IN_PRODUCTION} == dict.fromkeys(SECURE_IN_PRODUCTION, True)
    assert values["MAILERS"]["default"]["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    # Rate-limit counts are shared by every process: the database, or Redis when given.
    assert values["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    redis = production_settings(tmp_path, REDIS_URL="redis://127.0.0.1:6379/0")
    assert redis["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
