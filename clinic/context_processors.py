"""Values every public template needs."""

from django.conf import settings

from interactions.consent import consent_banner_needed, tracking_allowed


def clinic(request):
    return {
        "clinic_name": settings.CLINIC_NAME,
        "clinic_currency": settings.CLINIC_CURRENCY,
        "tracking_allowed": tracking_allowed(request),
        "cookie_banner": consent_banner_needed(request),
    }
