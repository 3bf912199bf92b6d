"""The tracking endpoint's shorter middleware stack (core.middleware.ShortStackMiddleware):
the same answers, headers and cookies as through the whole stack, without the staff's
middleware."""

from unittest import mock

import pytest
from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.urls import reverse

from interactions.models import UserInteraction, UserSession

pytestmark = pytest.mark.django_db
EVENT = {"event": "page_engagement", "page_url": "/treatments/", "engagement_seconds": 200}


def first_event(settings_fixture, *, short: bool, body=EVENT, **headers):
    """A new visitor's first event (no visitor cookie yet), through the short or the whole stack."""
    settings_fixture.SHORT_STACK_PATHS = [reverse("api-track")] if short else []
    client = Client(enforce_csrf_checks=True)  # a new client loads the middleware anew
    client.cookies["csrftoken"] = token = _get_new_csrf_string()
    return client.post(reverse("api-track"), body, content_type="application/json", HTTP_X_CSRFTOKEN=token,
                       **headers)


def cookie_attributes(response) -> dict:
    return {name: {key: value for key, value in morsel.items() if value} for name, morsel in response.cookies.items()}


def answer_without_ids(response) -> dict:
    return {key: value for key, value in response.json().items() if key != "interaction"}


def test_the_tracking_endpoint_takes_the_short_stack():
    assert reverse("api-track") in settings.SHORT_STACK_PATHS


@pytest.mark.parametrize("body", [EVENT, {"event": "page_engagement", "engagement_seconds": -1}],
                         ids=["tracked", "bad event"])
def test_the_short_stack_answers_as_the_whole_stack_does(settings, body):
    short, whole = first_event(settings, short=True, body=body), first_event(settings, short=False, body=body)

    assert short.status_code == whole.status_code
    assert answer_without_ids(short) == answer_without_ids(whole)
    assert dict(short.headers) == dict(whole.headers)
    assert cookie_attributes(short) == cookie_attributes(whole)
    assert "clinic_visitor" in short.cookies or short.status_code == 400


def test_the_short_stack_keeps_the_csrf_check_and_the_rate_limit(settings):
    settings.SHORT_STACK_PATHS = [reverse("api-track")]
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = _get_new_csrf_string()
    assert client.post(reverse("api-track"), EVENT, content_type="application/json").status_code == 403

    settings.CLINIC_RATE_LIMITS = {**settings.CLINIC_RATE_LIMITS, "tracking": "1/m"}
    statuses = [first_event(settings, short=True).status_code for _ in range(2)]
    assert statuses == [201, 429]
    assert UserInteraction.objects.count() == 1


def test_the_short_stack_leaves_out_the_staff_middleware(settings):
    with mock.patch.object(SessionMiddleware, "process_request", side_effect=AssertionError("sessions ran")):
        assert first_event(settings, short=True).status_code == 201
        with pytest.raises(AssertionError, match="sessions ran"):
            first_event(settings, short=False)
    assert UserSession.objects.count() == 1


def test_every_other_address_takes_the_whole_stack(client):
    with mock.patch.object(SessionMiddleware, "process_request", side_effect=AssertionError("sessions ran")):
        with pytest.raises(AssertionError, match="sessions ran"):
            client.get("/")
