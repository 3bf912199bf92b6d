"""Settings for the clinic lead-capture platform, read from the environment.

With nothing set, the site runs in development mode on an embedded SQLite file.
`CLINIC_PRODUCTION=1` switches on the production values (secure cookies, HSTS, a
required SECRET_KEY); everything else can be overridden one variable at a time.
"""

import copy
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


PRODUCTION = env_bool("CLINIC_PRODUCTION", False)
DEBUG = env_bool("DEBUG", not PRODUCTION)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when CLINIC_PRODUCTION is on.")
    # Development only: a fixed key so sessions survive restarts of `make run`.
    SECRET_KEY = "dev-only-insecure-key-never-used-in-production-0123456789abcdef"

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "clinic.apps.ClinicAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "crispy_forms",
    "crispy_bootstrap5",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_ratelimit",
    "axes",
    "clinic",
    "core",
    "scoring",
    "interactions",
    "leads",
    "calculators",
]

MIDDLEWARE = [
    # Sends SHORT_STACK_PATHS through this list without SHORT_STACK_SKIPS (core/middleware.py).
    "core.middleware.ShortStackMiddleware",
    # First, so it also covers errors raised by the middleware below (core/middleware.py).
    "core.middleware.DebugPagesOnlyForLoopbackMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy (SECURE_CSP) and Permissions-Policy on every response.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "core.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "interactions.middleware.UserSessionMiddleware",
    # Answers a view's Ratelimited with core.ratelimits.too_many_requests (429).
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

# The tracking endpoint, posted to several times a page view, skips the middleware
# that serves staff and static files: about a tenth of its Python. Its answers keep
# every header and cookie (tests/core/test_middleware.py compares both stacks).
SHORT_STACK_PATHS = ["/api/v1/track/"]
SHORT_STACK_SKIPS = [
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.clinic",
            ],
        },
    },
]

WSGI_APPLICATION = "clinic.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The tracker locks the session row on every interaction; wait for a busy
    # writer instead of failing at once when runserver serves two requests. IMMEDIATE
    # transactions take the write lock at BEGIN, so writers queue (within the timeout)
    # instead of deadlocking when two read-then-write transactions meet.
    DATABASES["default"].setdefault("OPTIONS", {}).update(timeout=20, transaction_mode="IMMEDIATE")
# The tracker's statements prepared on the server once per connection (core/sql.py):
# worth it for a connection kept between requests (DATABASE_CONN_MAX_AGE); with a new
# connection each request, each would be prepared every time. Off behind a pooler in
# transaction mode (PgBouncer), which mixes connections.
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", DATABASES["default"]["CONN_MAX_AGE"] != 0)
# The dashboard's and the exports' reads (core.db.reading_for_analytics) go to this
# alias: a PostgreSQL read replica in production, else the default database itself.
# Either way tests mirror default instead of creating a second test database.
ANALYTICS_DATABASE_URL = os.environ.get("ANALYTICS_DATABASE_URL", "")
DATABASES["analytics"] = {
    **(dj_database_url.parse(ANALYTICS_DATABASE_URL, conn_max_age=DATABASES["default"]["CONN_MAX_AGE"])
       if ANALYTICS_DATABASE_URL else copy.deepcopy(DATABASES["default"])),
    "TEST": {"MIRROR": "default"},
}
DATABASE_ROUTERS = ["core.db.AnalyticsRouter"]
ANALYTICS_READS_ROUTED = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out username and address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# collectstatic's target; in development WhiteNoise serves straight from the apps.
STATIC_ROOT = os.environ.get("STATIC_ROOT") or (BASE_DIR / "staticfiles" if PRODUCTION else None)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))

# Email: the console in development, SMTP when EMAIL_HOST is set. Production always
# sends for real (staff must hear about leads), through a local MTA if no EMAIL_HOST.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "clinic@localhost")
if os.environ.get("EMAIL_HOST") or PRODUCTION:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ.get("EMAIL_HOST") or "localhost",
                "port": int(os.environ.get("EMAIL_PORT", "587" if os.environ.get("EMAIL_HOST") else "25")),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", bool(os.environ.get("EMAIL_HOST"))),
                "timeout": 10,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}

# The site's public address, for links in e-mails sent outside a request.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Who hears about new high-intent leads (default: every active staff user with an e-mail).
LEAD_NOTIFICATION_EMAILS = env_list("LEAD_NOTIFICATION_EMAILS", [])

# Background work: the database queue (`manage.py db_worker`) unless told otherwise.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

REST_FRAMEWORK = {
    # Token first: a missing or bad token is then a 401 with `WWW-Authenticate: Token`
    # (what token clients expect); the session still serves the browsable API.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Staff endpoints: the admin's own model permissions (clinic/api_permissions.py).
    "DEFAULT_PERMISSION_CLASSES": ["core.permissions.StaffModelPermissions"],
    # Staff bodies are JSON: a scoring rule's condition is a JSON object, which form
    # encodings cannot carry (the tracking endpoint also takes the beacon's form posts).
    # JSON nested too deep is a 400 instead of a crash (core/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    # Documents every error status of each operation (core/schema.py).
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Clinic lead capture API",
    "DESCRIPTION": "Tracking for the clinic's pages; leads, interactions, scoring rules and analytics for staff.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# The clinic itself.
CLINIC_NAME = os.environ.get("CLINIC_NAME", "Lumière Aesthetics")
CLINIC_CURRENCY = os.environ.get("CLINIC_CURRENCY", "GBP")
# Cost calculator: (minimum number of treatments, discount %) and financing terms.
CLINIC_PACKAGE_DISCOUNTS = [(2, 5), (3, 10)]
CLINIC_FINANCING_MONTHS = int(os.environ.get("CLINIC_FINANCING_MONTHS", "12"))
CLINIC_FINANCING_APR = os.environ.get("CLINIC_FINANCING_APR", "9.9")
CLINIC_FINANCING_MINIMUM = os.environ.get("CLINIC_FINANCING_MINIMUM", "250")
# Phone numbers typed without a country code are read as numbers of this region.
CLINIC_PHONE_REGION = os.environ.get("CLINIC_PHONE_REGION", "GB")

# Anonymous visitors (never leads) not seen for this long are deleted by
# `manage.py purge_expired` (run it daily): about 13 months, the usual limit for
# analytics data kept without consent.
VISITOR_RETENTION_DAYS = int(os.environ.get("VISITOR_RETENTION_DAYS", "395"))
# Face photos a patient asked the clinic to keep are deleted after this many days.
PHOTO_RETENTION_DAYS = int(os.environ.get("PHOTO_RETENTION_DAYS", "90"))
# A lead still open (never booked) this many days after it was made counts as not
# converted when scoring rules are calibrated or a model is trained on outcomes
# (leads.outcomes); a younger one has no outcome yet. Most bookings come within weeks.
LEAD_STALE_AFTER_DAYS = int(os.environ.get("LEAD_STALE_AFTER_DAYS", "60"))
# A calibration's proposed points may be accepted only if they rank the held-out
# leads better than the current points by this much ROC AUC (leads.calibration):
# less is within what chance gives on a few hundred leads.
CALIBRATION_MIN_AUC_GAIN = float(os.environ.get("CALIBRATION_MIN_AUC_GAIN", "0.02"))
# The conversion model (leads.prediction, `manage.py train_lead_model`) is used only
# when its time-based hold-out has this many labelled leads, this many of each outcome,
# and its ROC AUC there beats the rule score's by this margin (and beyond chance):
# below ~200 leads an AUC is uncertain by about ±0.05, more than the gain it claims.
CONVERSION_MODEL_MIN_HOLDOUT_LEADS = int(os.environ.get("CONVERSION_MODEL_MIN_HOLDOUT_LEADS", "200"))
CONVERSION_MODEL_MIN_HOLDOUT_EACH_CLASS = int(os.environ.get("CONVERSION_MODEL_MIN_HOLDOUT_EACH_CLASS", "30"))
CONVERSION_MODEL_MIN_AUC_MARGIN = float(os.environ.get("CONVERSION_MODEL_MIN_AUC_MARGIN", "0.02"))

# "legitimate_interest": visits are recorded from the first page (the default);
# "strict": nothing is recorded until the visitor accepts the cookie banner.
TRACKING_CONSENT_MODE = os.environ.get("TRACKING_CONSENT_MODE", "legitimate_interest")
if TRACKING_CONSENT_MODE not in ("legitimate_interest", "strict"):
    raise ImproperlyConfigured("TRACKING_CONSENT_MODE must be legitimate_interest or strict.")
CONSENT_COOKIE_NAME = "clinic_cookie_consent"

# The anonymous visitor cookie (interactions.middleware).
VISITOR_COOKIE_NAME = "clinic_visitor"
VISITOR_COOKIE_AGE_SECONDS = 60 * 60 * 24 * 180
# A visitor who comes back after this long without a request starts a new visit.
VISIT_GAP_SECONDS = 30 * 60
# What the unfiltered interaction log's summary reads instead of counting the whole log:
# the daily roll-up (leads.rollups), which interactions/ may not import.
INTERACTION_LOG_TOTALS = "leads.rollups.interaction_totals"
# Each process keeps the scoring rules and settings in memory and checks the shared
# cache for a change at most this often (scoring.services.scoring_config).
SCORING_CONFIG_CHECK_SECONDS = float(os.environ.get("SCORING_CONFIG_CHECK_SECONDS", "1"))
# While a score half-life is set, the decay task recomputes every lead's score this
# often (leads.decay): a score is at most this stale between a patient's events.
SCORE_DECAY_INTERVAL_MINUTES = int(os.environ.get("SCORE_DECAY_INTERVAL_MINUTES", "60"))

SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
VISITOR_COOKIE_SECURE = PRODUCTION
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
# Django's defaults, stated because the clinic relies on them: no framing (clickjacking
# of the forms), no MIME sniffing of uploads, no page address (which can name a
# patient's result page) sent to other sites, session cookie out of scripts' reach.
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy: scripts only from this site (or inline with the page's nonce,
# {{ csp_nonce }}), never inline handlers or eval; nothing loaded from, sent to or framed
# by another site. Styles may be inline (the bars' widths are style attributes, the
# error pages carry their own CSS): without a request to another site, which img-src,
# font-src and connect-src forbid, injected CSS cannot send anything out.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "media-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# Permissions-Policy (core.middleware): no page of the site uses these browser features
# (photos and recordings are uploaded as files), so no page, nor anything injected into
# one, may ask for them.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# No script reads the CSRF cookie (track.js takes the token from base.html's meta tag).
CSRF_COOKIE_HTTPONLY = True

# Rate limits count in the cache, so in production every process must share it:
# Redis when REDIS_URL is set, otherwise a database table (`manage.py createcachetable`).
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    # django-ratelimit only lists django-redis as supported; Django's own Redis
    # backend increments atomically (INCR) just the same.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
elif PRODUCTION:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "clinic_cache"}}
    # Its increments are read-then-write, so simultaneous posts can be under-counted
    # by a few: acceptable for a brake on abuse; set REDIS_URL for exact counts.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # One process in development and in each test worker: nothing to share.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# Public form posts per client address and minute (clinic/ratelimits.py); posts that
# carry a photo or a recording also count as uploads, which cost seconds of CPU each.
CLINIC_RATE_LIMITS = {
    "forms": os.environ.get("RATE_LIMIT_FORMS", "20/m"),
    "uploads": os.environ.get("RATE_LIMIT_UPLOADS", "6/m"),
    "tracking": os.environ.get("RATE_LIMIT_TRACKING", "120/m"),
}
RATELIMIT_ENABLE = env_bool("RATE_LIMITS_ENABLED", True)
RATELIMIT_VIEW = "core.ratelimits.too_many_requests"
RATELIMIT_IP_META_KEY = "interactions.services.client_ip"
# Reverse proxies in front of the app (each appends to X-Forwarded-For). Production
# already trusts one for X-Forwarded-Proto; with 0 the address is REMOTE_ADDR.
CLINIC_TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "1" if PRODUCTION else "0"))

# Admin logins (django-axes): after this many failures for one username from one
# address, that pair is refused, even with the right password, for the cool-off.
AXES_FAILURE_LIMIT = int(os.environ.get("ADMIN_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("ADMIN_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "interactions.services.client_ip"
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
# Its start-up banner on every manage.py command is noise.
AXES_VERBOSE = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # The development server's access log without query strings: they carry patients'
    # search words (core/logfilters.py). gunicorn's: clinic/gunicorn.py.
    "filters": {"omit_query_strings": {"()": "core.logfilters.OmitQueryStrings"}},
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "loggers": {
        "django.server": {
            "handlers": ["django.server"], "filters": ["omit_query_strings"], "level": "INFO", "propagate": False,
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
