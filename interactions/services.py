"""Start and refresh anonymous visitor sessions."""

import hashlib
import hmac
import ipaddress
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from django.db.models import F
from django.utils import timezone

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
    """Record a new visitor with first-touch attribution."""
    utm = utm or {}
    started_at = started_at or timezone.now()
    return UserSession.objects.create(
        public_id=public_id or uuid.uuid4(),
        created_at=started_at,
        last_seen_at=started_at,
        landing_page=_field_text(landing_page, "landing_page"),
        referrer=_field_text(referrer, "referrer"),
        user_agent=_field_text(user_agent, "user_agent"),
        ip_hash=hash_ip(ip),
        **{name: _field_text(utm.get(name), name) for name in UTM_FIELDS},
    )


def session_touch(*, session: UserSession, now: datetime | None = None) -> None:
    """Note that the visitor is still here; a long gap starts a new visit."""
    now = now or timezone.now()
    gap = now - session.last_seen_at
    if gap < LAST_SEEN_PRECISION:
        return
    updates = {"last_seen_at": now}
    if gap >= timedelta(seconds=settings.VISIT_GAP_SECONDS):
        updates["visit_count"] = F("visit_count") + 1
    UserSession.objects.filter(pk=session.pk).update(**updates)
    session.refresh_from_db(fields=["last_seen_at", "visit_count"])


def visitor_session(request: HttpRequest) -> UserSession:
    """The visitor's session for a tool they are using. Without tracking consent (strict
    mode) the middleware records none, so one is made now, because showing the patient
    their result needs it, and with nothing beyond that: no attribution, browser or address."""
    if request.user_session is None:
        request.user_session = session_start(landing_page=request.path)
    return request.user_session
