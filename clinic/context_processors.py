"""Values every public template needs."""

from django.conf import settings


def clinic(request):
    return {"clinic_name": settings.CLINIC_NAME, "clinic_currency": settings.CLINIC_CURRENCY}
