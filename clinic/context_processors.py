"""Values every public template needs."""

from django.utils.functional import SimpleLazyObject

from calculators.personal import prompt_text
from core.clinic import clinic_profile
from interactions.cookie_consent import consent_banner_needed, tracking_allowed


def _is_staff(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_staff)


def clinic(request):
    # Staff are not visitors: pages they see (their own views of the public site, 403s
    # from the back office) carry no tracking script, so their clicks never score a lead.
    staff_page = _is_staff(request) or request.path.startswith("/admin/")
    # Lazy: read (from the cache, or once from the database) only by pages that show it.
    profile = SimpleLazyObject(clinic_profile)
    return {
        "clinic": profile,
        "clinic_name": SimpleLazyObject(lambda: profile.name),
        "tracking_allowed": tracking_allowed(request) and not staff_page,
        "cookie_banner": consent_banner_needed(request) and not staff_page,
        # Called by the template only where the tracking script is written.
        "contact_prompt_text": lambda: prompt_text(getattr(request, "user_session", None)),
    }
