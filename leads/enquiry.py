"""What the public pages may show, and need not ask again, once a visitor has given
contact details.

The pages must look the same whether the details were new, the visitor's own, or
another patient's (an unverified enquiry, see leads.services.create_lead_from_form),
or they would tell anyone who types an e-mail address whether that person is a
patient here. So a browser is shown what it typed, plus, only if it is the lead's own
browser, what is on file; and after an unverified enquiry the forms skip what was
typed, as they skip what a new lead gave. What was typed is kept in the Django session
(server side, for the visit), written on every accepted form so that even the cookies
set do not differ.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from leads.models import Consent, ConsentPurpose, Lead

ENQUIRY_KEY = "leads_enquiry"
TYPED_FIELDS = ("first_name", "last_name", "email", "phone")
TYPED_CONSENTS = ("consent_contact", "consent_marketing")


@dataclass(frozen=True)
class ContactSummary:
    """What a thank-you page may say back to the visitor."""

    first_name: str = ""
    email: bool = False
    phone: bool = False


@dataclass(frozen=True)
class KnownContact:
    """What the contact forms need not ask this browser again."""

    first_name: bool
    contact: bool
    consent: bool


def enquiry_remember(request: HttpRequest, *, lead: Lead, data: Mapping[str, Any]) -> None:
    """Note what the visitor just typed (as the form cleaned it), and the lead it went to."""
    request.session[ENQUIRY_KEY] = {
        "lead": lead.pk,
        **{name: str(data.get(name) or "").strip() for name in TYPED_FIELDS},
        **{name: data.get(name) is True for name in TYPED_CONSENTS},
    }


def _remembered(request: HttpRequest) -> dict[str, Any]:
    return request.session.get(ENQUIRY_KEY) or {}


def _unverified(request: HttpRequest) -> dict[str, Any] | None:
    """What was typed, if this browser's latest details went to a lead that is not its own."""
    remembered = _remembered(request)
    session = request.user_session
    if remembered and (session is None or session.lead_id != remembered["lead"]):
        return remembered
    return None


def enquiry_details_given(request: HttpRequest, *, lead: Lead, data: Mapping[str, Any]) -> None:
    """The second step was sent: the page stops asking for what it asked, whether or
    not the details could be added (that would say whose they are)."""
    remembered = _remembered(request)
    if remembered.get("lead") != lead.pk:
        remembered = {"lead": lead.pk, "first_name": lead.first_name}
    request.session[ENQUIRY_KEY] = {
        **remembered, **{name: data[name] for name in ("email", "phone") if data.get(name)},
    }


def enquiry_lead(request: HttpRequest) -> Lead | None:
    """The lead this browser's latest contact details went to, else its own lead."""
    remembered = _remembered(request)
    if remembered:
        lead = Lead.objects.filter(pk=remembered["lead"]).first()
        if lead is not None:
            return lead
    session = request.user_session
    return session.lead if session is not None else None


def enquiry_summary(request: HttpRequest, lead: Lead) -> ContactSummary:
    """What this browser may be shown about `lead`: what is on file only if it is
    the lead's own browser, and what the visitor typed."""
    remembered = _remembered(request)
    typed = remembered if remembered.get("lead") == lead.pk else {}
    session = request.user_session
    if session is not None and session.lead_id == lead.pk:
        return ContactSummary(
            first_name=lead.first_name or typed.get("first_name", ""),
            email=bool(lead.email or typed.get("email")),
            phone=bool(lead.phone or typed.get("phone")),
        )
    return ContactSummary(
        first_name=typed.get("first_name", ""), email=bool(typed.get("email")), phone=bool(typed.get("phone"))
    )


def enquiry_known(request: HttpRequest) -> KnownContact | None:
    """What the contact forms may skip for this browser: what its own lead has on file,
    or after an unverified enquiry, what it typed then."""
    typed = _unverified(request)
    if typed is not None:
        return KnownContact(
            first_name=bool(typed["first_name"]), contact=bool(typed["email"] or typed["phone"]),
            consent=typed["consent_contact"],
        )
    session = request.user_session
    lead = session.lead if session is not None else None
    if lead is None:
        return None
    return KnownContact(
        first_name=bool(lead.first_name),
        contact=bool(lead.email or lead.phone),
        consent=Consent.objects.filter(lead=lead, purpose=ConsentPurpose.CONTACT, granted=True).exists(),
    )


def enquiry_fill(request: HttpRequest, data: Mapping[str, Any]) -> Mapping[str, Any]:
    """A form's data with what it skipped after an unverified enquiry filled in from
    what was typed then (for the lead's own browser the service fills in the lead's)."""
    typed = _unverified(request)
    if typed is None:
        return data
    given = {name: value for name, value in data.items() if value not in ("", None)}
    return {**{name: typed[name] for name in (*TYPED_FIELDS, *TYPED_CONSENTS)}, **given}
