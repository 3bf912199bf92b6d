"""Past one machine: two web servers (gunicorn, two ports) on one database and one
Redis, as behind a load balancer. A visitor whose requests alternate between them
keeps one journey and one score, is held to one rate limit, and a rule saved
through one server scores the next event on the other (issue 11)."""

import http.cookiejar
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.authtoken.models import Token

from interactions.models import UserInteraction, UserSession
from scoring.models import LeadScoringRule

ROOT = Path(__file__).resolve().parent.parent
TRACKING_LIMIT = 9

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(shutil.which("redis-server") is None,
                       reason="needs Debian's redis-server (make test installs it)"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    return (f"postgres://{settings['USER']}:{settings['PASSWORD']}@{settings['HOST'] or '127.0.0.1'}:"
            f"{settings['PORT'] or 5432}/{settings['NAME']}")


@pytest.fixture
def servers(tmp_path):
    """Redis and two gunicorn servers on the test database; their base URLs."""
    redis_port = free_port()
    processes = [subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        # Per hour, so the count cannot start again in the middle of the test.
        "RATE_LIMIT_TRACKING": f"{TRACKING_LIMIT}/h",
        "TASKS_BACKEND": "django.tasks.backends.dummy.DummyBackend",
    }
    urls = []
    try:
        for _ in range(2):
            port = free_port()
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "clinic.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                 "--config", "clinic/gunicorn.py"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=tmp_path.joinpath(f"{port}.log").open("w"),
            ))
            urls.append(f"http://127.0.0.1:{port}")
            wait_for(urls[-1] + "/robots.txt", processes[-1])
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


class Browser:
    """One visitor's browser: its cookies go to both servers (cookies ignore the port)."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def cookie(self, name: str) -> str:
        return next(cookie.value for cookie in self.jar if cookie.name == name)

    def open(self, url: str, body: dict | None = None, headers: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})},
                                         method="POST" if data is not None else "GET")
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def track(self, base: str, **event):
        return self.open(base + "/api/v1/track/", {"event": "page_engagement", "page_url": "/treatments/", **event},
                         {"X-CSRFToken": self.cookie("csrftoken"), "Referer": base + "/"})


def test_a_visitor_alternating_between_two_servers_keeps_one_journey_score_and_rate_limit(servers):
    first, second = servers
    browser = Browser()
    assert browser.open(first + "/")[0] == 200

    answers = []
    for index in range(6):
        status, body = browser.track(servers[index % 2], engagement_seconds=40)
        assert status == 201, body
        answers.append(json.loads(body)["score"])
    # One visitor, one journey: 6 x 40 s crosses "High engagement time" (180 s) on
    # the fifth event, whichever server took the first four.
    assert answers == [0, 0, 0, 0, 15, 15]
    session = UserSession.objects.get()
    assert (session.interaction_count, session.engagement_seconds, session.score) == (6, 240, 15)

    # A rule saved through the first server scores the next event on the second.
    staff = get_user_model().objects.create_superuser("manager", "manager@clinic.test", "x")
    token = Token.objects.create(user=staff)
    rule = LeadScoringRule.objects.get(name="High engagement time")
    request = urllib.request.Request(
        first + f"/api/v1/scoring-rules/{rule.pk}/", data=json.dumps({"points": 30}).encode(), method="PATCH",
        headers={"Content-Type": "application/json", "Authorization": f"Token {token.key}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    time.sleep(1.2)  # SCORING_CONFIG_CHECK_SECONDS: the second server looks again within a second
    status, body = browser.track(second, engagement_seconds=1)
    assert (status, json.loads(body)["score"]) == (201, 30)

    # One rate limit across both: the tracking limit counts every post, wherever it went.
    statuses = [browser.track(servers[index % 2])[0] for index in range(4)]
    assert statuses == [201, 201, 429, 429]  # posts 8 and 9 were the last allowed
    assert UserInteraction.objects.count() == TRACKING_LIMIT
