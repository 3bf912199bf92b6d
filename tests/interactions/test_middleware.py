"""Every visitor gets an anonymous session with first-touch attribution."""

from datetime import timedelta

import pytest
from django.conf import settings

from interactions.models import UserSession
from interactions.services import hash_ip

pytestmark = pytest.mark.django_db
COOKIE = settings.VISITOR_COOKIE_NAME


def test_a_first_visit_records_landing_page_referrer_and_utm(client):
    response = client.get(
        "/?utm_source=facebook&utm_medium=paid_social&utm_campaign=summer-glow&utm_term=lips&utm_content=video",
        HTTP_REFERER="https://www.facebook.com/",
        HTTP_USER_AGENT="Mozilla/5.0 (iPhone)",
        REMOTE_ADDR="198.51.100.23",
    )
    assert response.status_code == 200
    session = UserSession.objects.get()
    public_id, _, secret = response.cookies[COOKIE].value.partition(".")
    assert public_id == str(session.public_id) and len(secret) >= 40
    assert response.cookies[COOKIE]["httponly"]
    assert session.landing_page.startswith("/?utm_source=facebook")
    assert session.referrer == "https://www.facebook.com/"
    assert session.utm == {
        "utm_source": "facebook",
        "utm_medium": "paid_social",
        "utm_campaign": "summer-glow",
        "utm_term": "lips",
        "utm_content": "video",
    }
    assert session.user_agent == "Mozilla/5.0 (iPhone)"


def test_the_raw_ip_address_is_never_stored(client):
    client.get("/", REMOTE_ADDR="198.51.100.23")
    session = UserSession.objects.get()
    assert session.ip_hash == hash_ip("198.51.100.23")
    stored = " ".join(str(value) for value in UserSession.objects.values().get().values())
    assert "198.51.100.23" not in stored


def test_later_pages_keep_the_first_touch(client):
    client.get("/?utm_source=google&utm_campaign=botox", HTTP_REFERER="https://www.google.com/")
    client.get("/?utm_source=newsletter&utm_campaign=other", HTTP_REFERER="https://mail.example/")
    session = UserSession.objects.get()
    assert (session.utm_source, session.utm_campaign) == ("google", "botox")
    assert session.referrer == "https://www.google.com/"


def test_our_own_pages_are_not_recorded_as_referrer(client):
    client.get("/", HTTP_REFERER="http://testserver/treatments/")
    assert UserSession.objects.get().referrer == ""


def test_a_forged_or_unknown_cookie_starts_a_new_session(client):
    client.cookies[COOKIE] = "not-a-uuid"
    client.get("/")
    client.cookies[COOKIE] = "6f1c2a52-0000-4000-8000-000000000000.secret"
    client.get("/")
    assert UserSession.objects.count() == 2


def test_a_returning_browser_is_recognised_by_its_cookie(client):
    client.get("/")
    response = client.get("/treatments/")
    assert UserSession.objects.count() == 1
    assert COOKIE not in response.cookies


@pytest.mark.parametrize("forged", ["{id}", "{id}.", "{id}.wrong-secret", "{id}.{secret}x", "{id}.{secret}.{secret}"])
def test_the_public_id_staff_see_does_not_open_the_visitors_session(client, forged):
    client.get("/")
    patient = UserSession.objects.get()
    secret = client.cookies[COOKIE].value.partition(".")[2]
    attacker = type(client)()
    attacker.cookies[COOKIE] = forged.format(id=patient.public_id, secret=secret)
    attacker.get("/")
    assert UserSession.objects.count() == 2
    assert attacker.cookies[COOKIE].value.partition(".")[0] != str(patient.public_id)


def test_sessions_from_before_the_secret_key_start_afresh(client):
    """A cookie of the old kind (the bare public id) no longer opens its session."""
    client.get("/")
    patient = UserSession.objects.get()
    client.cookies[COOKIE] = str(patient.public_id)
    client.get("/")
    assert UserSession.objects.count() == 2


def test_only_a_hash_of_the_cookie_secret_is_stored(client):
    client.get("/")
    secret = client.cookies[COOKIE].value.partition(".")[2]
    stored = " ".join(str(value) for value in UserSession.objects.values().get().values())
    assert secret not in stored


def test_overlong_utm_values_are_cut_not_rejected(client):
    client.get("/?utm_source=" + "x" * 5000)
    assert len(UserSession.objects.get().utm_source) == 100


def test_admin_and_static_requests_create_no_session(client):
    client.get("/admin/login/")
    client.get("/static/css/site.css")
    assert not UserSession.objects.exists()


def test_coming_back_after_a_long_gap_counts_a_new_visit(client):
    client.get("/")
    session = UserSession.objects.get()
    UserSession.objects.filter(pk=session.pk).update(last_seen_at=session.last_seen_at - timedelta(hours=3))
    client.get("/")
    session.refresh_from_db()
    assert session.visit_count == 2


def test_browsing_within_a_visit_is_one_visit(client):
    client.get("/")
    client.get("/")
    assert UserSession.objects.get().visit_count == 1


def test_behind_the_proxy_the_visitors_own_address_is_hashed(client, settings):
    settings.CLINIC_TRUSTED_PROXY_COUNT = 1
    client.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.23")
    assert UserSession.objects.get().ip_hash == hash_ip("198.51.100.23")
