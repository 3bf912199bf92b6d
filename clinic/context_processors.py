"""Values every public template needs."""

from core.clinic import clinic_profile
from interactions.consent import consent_banner_needed, tracking_allowed


def clinic(request):
    profile = clinic_profile()
    return {
        "clinic": profile,
        "clinic_name": profile.name,
        "tracking_allowed": tracking_allowed(request),
        "cookie_banner": consent_banner_needed(request),
    }
