"""The cookie banner's answer (strict consent mode)."""

from django.conf import settings
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from interactions.cookie_consent import ACCEPTED, DECLINED

CONSENT_COOKIE_AGE_SECONDS = 60 * 60 * 24 * 180


@require_POST
def cookie_consent(request):
    choice = request.POST.get("choice")
    if choice not in (ACCEPTED, DECLINED):
        return HttpResponseBadRequest("Choose accepted or declined.")
    target = request.POST.get("next") or "/"
    if not (target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})):
        target = "/"
    response = HttpResponseRedirect(target)
    response.set_cookie(settings.CONSENT_COOKIE_NAME, choice, max_age=CONSENT_COOKIE_AGE_SECONDS, httponly=True,
                        samesite="Lax", secure=settings.VISITOR_COOKIE_SECURE)
    return response
