"""`make run` has DEBUG on: its technical error pages (environment, settings, paths,
every URL) are for a browser on the same machine only, never for anyone else."""

import re
from pathlib import Path

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

OUTSIDER = "192.0.2.10"
TECHNICAL = ("Using the URLconf", "urlpatterns", "Traceback", "SECRET_KEY", "DJANGO_SETTINGS_MODULE",
             "site-packages", "technical")


@pytest.fixture(autouse=True)
def debug_on(settings):
    settings.DEBUG = True


def outsider():
    return Client(REMOTE_ADDR=OUTSIDER, raise_request_exception=False)


def assert_nothing_technical(response):
    page = response.content.decode()
    assert not [word for word in TECHNICAL if word in page]


def test_an_unknown_address_gives_an_outsider_the_sites_404_page():
    response = outsider().get("/no-such-page/")
    assert response.status_code == 404
    assert "We cannot find that page" in response.content.decode()
    assert_nothing_technical(response)


def test_a_missing_result_gives_an_outsider_the_sites_404_page():
    response = outsider().get("/enhanced-ai/result/999999/")
    assert response.status_code == 404
    assert "We cannot find that page" in response.content.decode()
    assert_nothing_technical(response)


def test_a_wrong_host_gives_an_outsider_the_plain_400_page():
    response = outsider().get("/", HTTP_HOST="clinic.evil.example")
    assert response.status_code == 400
    assert "We could not read that request" in response.content.decode()
    assert_nothing_technical(response)


def test_a_server_error_gives_an_outsider_the_plain_500_page(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr("calculators.views.services.catalog_search", broken)
    response = outsider().get("/treatments/", {"q": "botox"})
    assert response.status_code == 500
    assert "Sorry, something went wrong" in response.content.decode()
    assert "hunter2" not in response.content.decode()
    assert_nothing_technical(response)


def test_a_developer_on_the_same_machine_still_gets_the_technical_pages():
    for address in ("127.0.0.1", "::1"):
        response = Client(REMOTE_ADDR=address).get("/no-such-page/")
        assert response.status_code == 404 and "Using the URLconf" in response.content.decode()


def test_pages_that_exist_are_served_to_outsiders_as_usual():
    assert outsider().get("/").status_code == 200
    assert outsider().get("/contact").status_code == 301  # APPEND_SLASH still redirects


def test_make_run_listens_on_loopback_unless_host_is_set():
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert re.search(r"^HOST \?= 127\.0\.0\.1$", makefile, re.M)
    assert "runserver $(HOST):$(PORT)" in makefile
