"""Helpers for views of every app: service errors shown on a form, safe "next" redirects."""

from django.core.exceptions import ValidationError
from django.utils.http import url_has_allowed_host_and_scheme


def add_service_errors(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form, by field where it has one."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def safe_next(request, fallback: str = "/") -> str:
    """Where to go back to: a path on this site, nothing else (not another site, and
    not a bare word, which Django's redirect() would take for a view name)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback
