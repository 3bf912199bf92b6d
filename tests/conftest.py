import pytest

from tests.factories import UserSessionFactory


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
