"""The API does exactly what its OpenAPI schema says: schemathesis's whole run (examples,
coverage, fuzzing, stateful) with every check, in process, as a clinic manager."""

import threading
from contextlib import contextmanager
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connections
from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret
from rest_framework.authtoken.models import Token
from schemathesis.checks import load_all_checks
from schemathesis.engine import Status, events, from_schema


CSRF_SECRET = _get_new_csrf_string()


class SharedConnectionApp:
    """Django as a WSGI app whose requests run on the test's own database connection
    (inside its transaction, rolled back after the test, on SQLite and PostgreSQL alike)
    although they are served from the server's thread: what Django's live server
    does for in-memory SQLite."""

    def __init__(self):
        self.handler = WSGIHandler()
        self.connection = connections["default"]

    def __call__(self, environ, start_response):
        connections["default"] = self.connection
        self.connection.inc_thread_sharing()
        try:
            # Read to the end here: the connection is shared only while the request runs.
            response = self.handler(environ, start_response)
            body = list(response)
            response.close()
            return body
        finally:
            self.connection.dec_thread_sharing()


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


@contextmanager
def serving(app):
    """A real HTTP server for schemathesis (as its CLI sees a server), one request at a
    time, on a free port; the test thread only waits for the run's events meanwhile."""
    server = make_server("127.0.0.1", 0, app, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def connections_kept_open():
    # What Django's test client does: a request must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def contract_config(token: str) -> schemathesis.Config:
    load_all_checks()
    config = schemathesis.Config.from_dict({
        "seed": 20261126,
        "cache": {"enabled": False},
        "workers": 1,
        "headers": {
            "Authorization": f"Token {token}",
            # The tracking endpoint checks CSRF for everyone, as for a visitor's browser.
            "Cookie": f"csrftoken={CSRF_SECRET}",
            "X-CSRFToken": _mask_cipher_secret(CSRF_SECRET),
        },
        "generation": {
            "max-examples": 20,
            "deterministic": True,
            # Text with NUL characters is refused on purpose (PostgreSQL cannot store it; README).
            "allow-x00": False,
        },
        "operations": [{
            # The period rule (start not after end, at most a year) ties two parameters
            # together, which OpenAPI cannot state: the parameters' descriptions say it.
            "include-path": "/api/v1/dashboard/",
            "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403"]}},
        }, {
            # A rule's condition language has tens of thousands of right and wrong shapes; the
            # coverage phase would send every one of them (many minutes). Fuzzing and the
            # stateful phase still send right and wrong conditions.
            "include-path-regex": "^/api/v1/scoring-rules/",
            "include-method-regex": "^(POST|PUT|PATCH)$",
            "phases": {"coverage": {"enabled": False}},
            # At most 50 tests in a whole condition, counted across its nesting: JSON Schema
            # cannot count across levels (lists and texts have their maxItems and maxLength),
            # so a generated condition over that size is a documented 400.
            "checks": {"positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]}},
        }],
    })
    config.projects.override.checks.update(included_check_names=["all"])
    return config


def run(stream) -> tuple[list[str], set[int]]:
    """Every failed check with its request and answer, and the statuses seen."""
    failures, statuses = set(), set()
    for event in stream:
        if isinstance(event, events.ScenarioFinished):
            for interaction in event.recorder.interactions.values():
                if interaction.response is not None:
                    statuses.add(interaction.response.status_code)
            for case_id, checks in event.recorder.checks.items():
                interaction = event.recorder.interactions.get(case_id)
                for check in checks:
                    if check.status != Status.FAILURE:
                        continue
                    failure = check.failure_info.failure
                    exchange = ""
                    if interaction is not None:
                        request, response = interaction.request, interaction.response
                        answer = f"{response.status_code} {response.content[:300]!r}" if response else "no answer"
                        exchange = f"\n    {request.method} {request.uri} {(request.body or b'')[:300]!r}\n    -> {answer}"
                    failures.add(f"{event.label}: {failure.title}: {failure.message}{exchange}")
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            failures.add(f"error: {getattr(event, 'label', '')} {getattr(event, 'value', None) or event.exception!r}")
    return sorted(failures), statuses


@pytest.fixture
def manager_token(db):
    """A token that may call every operation. A superuser rather than the manager group:
    the contract is about the API's answers (tests/test_role_matrix.py holds the roles),
    and the test must not depend on data migrations a transactional test in the same
    worker may have flushed."""
    user = get_user_model().objects.create_superuser("contract", password="pw-12345-x")
    return Token.objects.create(user=user).key


def test_the_api_answers_exactly_as_its_schema_says(manager_token, settings):
    settings.CLINIC_RATE_LIMITS = {kind: "100000/m" for kind in settings.CLINIC_RATE_LIMITS}
    with connections_kept_open(), serving(SharedConnectionApp()) as url:
        schema = schemathesis.openapi.from_url(f"{url}/api/schema/", config=contract_config(manager_token))
        failures, statuses = run(from_schema(schema).execute())
    assert not failures, "\n".join(failures)
    # It really worked the API: rules were created and deleted, lists read, events tracked.
    assert {200, 201, 204} <= statuses
