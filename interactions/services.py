"""Start and refresh anonymous visitor sessions, and the cookie that proves one."""

import hashlib
import hmac
import ipaddress
import secrets
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from django.db.models import F
from django.utils import timezone

from interactions.journey import visit_gap_passed
from interactions.models import UserSession

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
# Write last_seen_at at most this often, so browsing does not write on every request.
LAST_SEEN_PRECISION = timedelta(seconds=60)


def client_ip(request: HttpRequest) -> str:
    """The visitor's address, for the visitor's hash, rate limits and admin lockouts.

    Behind `CLINIC_TRUSTED_PROXY_COUNT` reverse proxies REMOTE_ADDR is the nearest
    proxy, so the address is read from X-Forwarded-For, counted from the right: each
    proxy appends what it saw, and anything further left was written by the client
    and could be forged to escape a limit.
    """
    proxies = settings.CLINIC_TRUSTED_PROXY_COUNT
    if proxies:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= proxies and _is_ip(hops[-proxies]):
            return hops[-proxies]
    remote = request.META.get("REMOTE_ADDR", "")
    # No address at all (a Unix socket without a proxy header): one shared bucket.
    return remote if _is_ip(remote) else "0.0.0.0"


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def hash_ip(ip: str) -> str:
    """A keyed, one-way hash of an IP address; the address itself is never stored."""
    if not ip:
        return ""
    return hmac.new(settings.SECRET_KEY.encode(), ip.encode(), hashlib.sha256).hexdigest()


def external_referrer(referrer: str, own_host: str) -> str:
    """The referrer, unless it is one of our own pages (then it says nothing)."""
    host = urlsplit(referrer).hostname or ""
    own = own_host.split(":")[0].lower()
    if not host or host.lower() == own:
        return ""
    return referrer


def _field_text(value: str | None, field_name: str) -> str:
    limit = UserSession._meta.get_field(field_name).max_length
    return (value or "").strip()[:limit]


def session_start(
    *,
    landing_page: str,
    referrer: str = "",
    utm: dict[str, str] | None = None,
    user_agent: str = "",
    ip: str = "",
    started_at: datetime | None = None,
    public_id: uuid.UUID | None = None,
) -> UserSession:
    """Record a new visitor with first-touch attribution. The new session carries its
    cookie value in `issued_cookie` (see session_cookie_issue)."""
    utm = utm or {}
    started_at = started_at or timezone.now()
    secret = _new_cookie_secret()
    session = UserSession.objects.create(
        public_id=public_id or uuid.uuid4(),
        cookie_key_hash=_cookie_key_hash(secret),
        created_at=started_at,
        last_seen_at=started_at,
        landing_page=_field_text(landing_page, "landing_page"),
        referrer=_field_text(referrer, "referrer"),
        user_agent=_field_text(user_agent, "user_agent"),
        ip_hash=hash_ip(ip),
        **{name: _field_text(utm.get(name), name) for name in UTM_FIELDS},
    )
    session.issued_cookie = _cookie_value(session, secret)
    return session


# The visitor cookie is "<public_id>.<secret>". The public id alone, which staff and
# the API see, is not enough to act as the visitor: that takes the secret, which
# only the browser has (the database keeps its SHA-256; the secret is random, so
# a plain hash is as strong as a keyed one, and survives a SECRET_KEY rotation).
MAX_COOKIE_LENGTH = 200


def _new_cookie_secret() -> str:
    return secrets.token_urlsafe(32)


def _cookie_key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _cookie_value(session: UserSession, secret: str) -> str:
    return f"{session.public_id}.{secret}"


def session_cookie_issue(*, session: UserSession) -> str:
    """Give the visitor's browser a new secret: any copy of its old cookie stops
    working. Returns the new cookie value and leaves it in `session.issued_cookie`,
    which the middleware sends with the response."""
    secret = _new_cookie_secret()
    session.cookie_key_hash = _cookie_key_hash(secret)
    session.save(update_fields=["cookie_key_hash"])
    session.issued_cookie = _cookie_value(session, secret)
    return session.issued_cookie


def cookie_read(value: str) -> tuple[uuid.UUID, str] | None:
    """The public id and secret a visitor cookie holds; None for a malformed one."""
    public_id, _, secret = (value or "")[:MAX_COOKIE_LENGTH].partition(".")
    if not secret:
        return None
    try:
        return uuid.UUID(public_id), secret
    except ValueError:
        return None


def cookie_matches(session: UserSession | None, secret: str) -> bool:
    """Whether the secret is this session's (so the cookie is really its browser's)."""
    return session is not None and hmac.compare_digest(session.cookie_key_hash, _cookie_key_hash(secret))


def session_from_cookie(value: str) -> UserSession | None:
    """The session whose cookie this is, or None for a forged, stale or malformed one."""
    parts = cookie_read(value)
    if parts is None:
        return None
    public_id, secret = parts
    session = UserSession.objects.filter(public_id=public_id).first()
    return session if cookie_matches(session, secret) else None


def session_start_for(request: HttpRequest) -> UserSession:
    """A new visitor, with the first touch this request shows (landing page, external
    referrer, campaign), their browser and a hash of their address."""
    return session_start(
        landing_page=request.get_full_path(),
        referrer=external_referrer(request.META.get("HTTP_REFERER", ""), request.get_host()),
        utm={name: request.GET.get(name, "") for name in UTM_FIELDS},
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        ip=client_ip(request),
    )


def session_touch(*, session: UserSession, now: datetime | None = None) -> None:
    """Note that the visitor is still here; a long gap starts a new visit. Writes at
    most once a minute, and only over the last_seen_at it read: a tracked event (or
    another tab) that moved it meanwhile has counted the visit already."""
    now = now or timezone.now()
    if now - session.last_seen_at < LAST_SEEN_PRECISION:
        return
    new_visit = visit_gap_passed(session.last_seen_at, now, gap_seconds=settings.VISIT_GAP_SECONDS)
    updates = {"last_seen_at": now}
    if new_visit:
        updates["visit_count"] = F("visit_count") + 1
    if UserSession.objects.filter(pk=session.pk, last_seen_at=session.last_seen_at).update(**updates):
        session.last_seen_at = now
        session.visit_count += new_visit


def visitor_session(request: HttpRequest) -> UserSession:
    """The visitor's session for a tool they are using. Without tracking consent (strict
    mode) the middleware records none, so one is made now, because showing the patient
    their result needs it, and with nothing beyond that: no attribution, browser or address."""
    if request.user_session is None:
        request.user_session = session_start(landing_page=request.path)
    return request.user_session
