from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client, RequestFactory

from tests.factories import UserSessionFactory


class AxesClient(Client):
    """Django's test client, whose login() passes a request to authenticate(): django-axes
    (the admin login lockout) needs one to know where a login comes from."""

    def login(self, **credentials):
        return super().login(request=RequestFactory().post("/admin/login/"), **credentials)


@pytest.fixture
def client():
    return AxesClient()


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counts live in the cache (one per test process): every test starts at zero.
    So does the process's copy of the scoring rules (scoring.services.scoring_config)
    and of the running experiments: what the last test saved was rolled back with it,
    and no signal says so."""
    from interactions.experiments import experiments_forget
    from scoring.services import scoring_config_forget

    cache.clear()
    scoring_config_forget()
    experiments_forget()


@pytest.fixture(scope="module")
def _demo_once(django_db_setup, django_db_blocker):
    """seed_demo once per test module (it takes a second or two); each test then
    runs in its own transaction on top, rolled back after it. The data stays until
    the module ends, so tests that count rows from scratch live in other modules."""
    from django.contrib.auth import get_user_model

    from clinic.demo import DEMO_ADMIN_USERNAME, demo_remove
    from scoring.services import scoring_config_forget

    out = StringIO()
    scoring_config_forget()  # before the per-test reset (_fresh_rate_limits) runs
    with django_db_blocker.unblock():
        call_command("seed_demo", stdout=out)
    yield out.getvalue()
    with django_db_blocker.unblock():
        demo_remove()
        get_user_model().objects.filter(username=DEMO_ADMIN_USERNAME).delete()


@pytest.fixture
def demo(_demo_once, db):
    """The demo data; the value is what seed_demo printed."""
    return _demo_once


@pytest.fixture
def visitor(db):
    """A fresh anonymous visitor who came from a Google Ads campaign."""
    return UserSessionFactory(
        landing_page="/enhanced-ai/?utm_source=google",
        utm_source="google",
        utm_medium="cpc",
        utm_campaign="botox-spring",
    )


@pytest.fixture
def front_desk_inbox(db):
    """A front desk colleague whose address is in LEAD_NOTIFICATION_EMAILS (tests/settings.py):
    hot-lead e-mails go only to staff who may see contact details."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from clinic.roles import FRONT_DESK

    user = get_user_model().objects.create_user("frontdesk", email="frontdesk@clinic.test", is_staff=True)
    user.groups.add(Group.objects.get(name=FRONT_DESK))
    return user.email


@pytest.fixture
def visitor_browser(db):
    """A visitor's browser as the tracking API sees it: CSRF checks on, the visitor
    cookie and the CSRF cookie from a first page; `.token` is the CSRF token to send."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.get("/")
    client.token = client.cookies["csrftoken"].value
    return client


@pytest.fixture
def contact():
    """What a patient types into the contact form."""
    return {
        "first_name": "Sarah",
        "last_name": "Chen",
        "email": "sarah.chen@example.com",
        "phone": "07911 123456",
        "message": "",
        "consent_contact": True,
    }


def pytest_report_header(config):
    from django.conf import settings

    return f"database: {settings.DATABASES['default']['ENGINE']}"


def pytest_collection_modifyitems(config, items):
    """Every transactional test restores the migrated data (serialized_rollback): one that
    does not leaves the flushed database with re-created content types, and the next
    serialized test then fails to restore its data on PostgreSQL."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback"):
            raise pytest.UsageError(f"{item.nodeid}: a transactional test needs serialized_rollback=True")


def _transactional(item) -> bool:
    marker = item.get_closest_marker("django_db") if item is not None else None
    return bool(marker and marker.kwargs.get("transaction"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After the last of a run of transactional tests, put the migrated data (catalog,
    rules, roles, clinic profile) back. Such a test ends by emptying the database, and
    serialized_rollback only restores it when the next transactional test starts; pytest
    runs them last, but xdist's --dist loadfile hands a worker whole files, largest first,
    so ordinary tests can follow them in the same worker."""
    result = yield
    # With no next test the session's teardown has already removed the test database.
    if _transactional(item) and nextitem is not None and not _transactional(nextitem):
        from django.db import connections
        from pytest_django.plugin import blocking_manager_key

        default = connections["default"]
        if hasattr(default, "_test_serialized_contents"):
            with item.config.stash[blocking_manager_key].unblock():
                default.creation.deserialize_db_from_string(default._test_serialized_contents)
    return result
