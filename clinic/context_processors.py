"""Values every public template needs."""

from django.utils.functional import SimpleLazyObject

from core.clinic import clinic_profile
from interactions.consent import consent_banner_needed, tracking_allowed


def clinic(request):
    # Lazy: read (from the cache, or once from the database) only by pages that show it.
    profile = SimpleLazyObject(clinic_profile)
    return {
        "clinic": profile,
        "clinic_name": SimpleLazyObject(lambda: profile.name),
        "tracking_allowed": tracking_allowed(request),
        "cookie_banner": consent_banner_needed(request),
    }
