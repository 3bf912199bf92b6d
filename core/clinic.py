"""The clinic profile as every request reads it: cached, and forgotten when staff save it."""

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_save
from django.dispatch import receiver

from core.models import ClinicProfile

CACHE_KEY = "core:clinic-profile"
CACHE_SECONDS = 300


def clinic_profile() -> ClinicProfile:
    """The clinic's one profile row. The first time, it is made from CLINIC_NAME,
    CLINIC_CURRENCY and CLINIC_PHONE_REGION (environment) and the model's defaults;
    after that the admin is where it changes."""
    profile = cache.get(CACHE_KEY)
    if profile is None:
        profile, _ = ClinicProfile.objects.get_or_create(pk=1, defaults={
            "name": settings.CLINIC_NAME, "currency": settings.CLINIC_CURRENCY, "country": settings.CLINIC_PHONE_REGION,
        })
        cache.set(CACHE_KEY, profile, CACHE_SECONDS)
    return profile


@receiver(post_save, sender=ClinicProfile)
def _forget_cached_profile(**kwargs) -> None:
    cache.delete(CACHE_KEY)
