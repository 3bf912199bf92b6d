"""Project-wide checks: migrations in step with models, the public home page."""

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_models_and_migrations_agree():
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())


@pytest.mark.django_db
def test_the_home_page_answers(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Plan your treatment" in response.content.decode()
