"""What the thank-you pages may show a visitor who just gave contact details.

The pages must look the same whether the details were new, the visitor's own, or
another patient's (an unverified enquiry, see leads.services.create_lead_from_form),
or they would tell anyone who types an e-mail address whether that person is a
patient here. So they show what the visitor typed, plus, for the lead's own browser
only, what is on file. The typed name and which details were given are kept in the
Django session (server side, never shown to anyone else), written on every
submission so that even the cookies set do not differ.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from leads.models import Lead

ENQUIRY_KEY = "leads_enquiry"


@dataclass(frozen=True)
class ContactSummary:
    first_name: str = ""
    email: bool = False
    phone: bool = False


def enquiry_remember(request: HttpRequest, *, lead: Lead, data: Mapping[str, Any]) -> None:
    """Note what the visitor just typed, and the lead it went to."""
    request.session[ENQUIRY_KEY] = {
        "lead": lead.pk,
        "first_name": (data.get("first_name") or "").strip(),
        "email": bool(data.get("email")),
        "phone": bool(data.get("phone")),
    }


def enquiry_details_given(request: HttpRequest, *, lead: Lead, data: Mapping[str, Any]) -> None:
    """The second step was sent: the page stops asking for what it asked, whether or
    not the details could be added (that would say whose they are)."""
    summary = enquiry_summary(request, lead)
    request.session[ENQUIRY_KEY] = {
        "lead": lead.pk,
        "first_name": summary.first_name,
        "email": summary.email or bool(data.get("email")),
        "phone": summary.phone or bool(data.get("phone")),
    }


def enquiry_lead(request: HttpRequest) -> Lead | None:
    """The lead this browser's latest contact details went to, else its own lead."""
    remembered = request.session.get(ENQUIRY_KEY)
    if remembered:
        lead = Lead.objects.filter(pk=remembered["lead"]).first()
        if lead is not None:
            return lead
    session = request.user_session
    return session.lead if session is not None else None


def enquiry_summary(request: HttpRequest, lead: Lead) -> ContactSummary:
    """What this browser may be shown about `lead`: what is on file only if it is
    the lead's own browser, and what the visitor typed."""
    remembered = request.session.get(ENQUIRY_KEY) or {}
    typed = remembered if remembered.get("lead") == lead.pk else {}
    session = request.user_session
    if session is not None and session.lead_id == lead.pk:
        return ContactSummary(
            first_name=lead.first_name or typed.get("first_name", ""),
            email=bool(lead.email) or typed.get("email", False),
            phone=bool(lead.phone) or typed.get("phone", False),
        )
    return ContactSummary(
        first_name=typed.get("first_name", ""), email=typed.get("email", False), phone=typed.get("phone", False)
    )
