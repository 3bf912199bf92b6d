"""Cookie consent for tracking. In "legitimate interest" mode the clinic records
visits from the first page; in "strict" mode nothing is recorded about a visitor
until they accept the banner (ePrivacy Art. 5(3)), except what a tool they use
needs to show them its result."""

from django.conf import settings

STRICT = "strict"
LEGITIMATE_INTEREST = "legitimate_interest"
ACCEPTED = "accepted"
DECLINED = "declined"


def consent_choice(request) -> str | None:
    value = request.COOKIES.get(settings.CONSENT_COOKIE_NAME)
    return value if value in (ACCEPTED, DECLINED) else None


def tracking_allowed(request) -> bool:
    return settings.TRACKING_CONSENT_MODE != STRICT or consent_choice(request) == ACCEPTED


def consent_banner_needed(request) -> bool:
    return settings.TRACKING_CONSENT_MODE == STRICT and consent_choice(request) is None
