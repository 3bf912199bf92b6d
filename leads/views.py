"""Public views of the contact form: submit, dismiss, thank-you and its second step."""

from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from core.ratelimits import FORMS, limit_posts
from core.views import add_service_errors, safe_next
from interactions import experiments
from interactions.models import ExperimentKind, ExperimentVariant, UserInteraction
from interactions.services import session_cookie_issue, visitor_session
from interactions.tracker import (
    contact_offer,
    contact_prompt_dismissed,
    contact_prompt_shown,
    experiment_exposures_record,
)
from leads.enquiry import (
    enquiry_details_given,
    enquiry_fill,
    enquiry_known,
    enquiry_lead,
    enquiry_remember,
    enquiry_summary,
)
from leads.forms import ContactDetailsForm, ContactForm
from leads.services import contact_form_submit, lead_add_contact_details


def contact_prompt(request, *, interaction: UserInteraction | None, title: str, force: bool = False) -> dict | None:
    """The contact form to offer on a result page, or None when this visitor should
    not be asked now. `force` offers it whatever the timing rules (the patient asked)."""
    session = request.user_session
    # converted_at without a lead: the visitor's details went to another lead as an
    # unverified enquiry; they are not asked again, like any visitor who answered.
    if session is None or ((session.lead_id or session.converted_at) and not force):
        return None
    page = request.get_full_path()
    if not force:
        offer = contact_offer(session, page=page)
        experiment_exposures_record(session, offer.exposures)
        if not offer.show:
            return None
        contact_prompt_shown(session, page=page)
    form = contact_form(request, initial={"interaction": interaction.pk if interaction else None, "next": page})
    return {"form": form, "title": title, "dismissible": not force, "text": experiments.prompt_wording(session)}


def contact_form(request, data=None, **kwargs) -> ContactForm:
    """The contact form, short or full as the visitor's contact-form experiment says
    (interactions.experiments); showing it to them (no `data`) is their exposure."""
    session = request.user_session
    place = experiments.placement(session, ExperimentKind.CONTACT_FORM) if session is not None else None
    if place is not None and not place.exposed and data is None:
        experiment_exposures_record(session, [place])
    short = place is not None and place.arm is not None and place.arm.form_fields == ExperimentVariant.FormFields.SHORT
    return ContactForm(data, known=enquiry_known(request), short=short, **kwargs)


def result_page(
    request, template: str, *, interaction: UserInteraction, title: str, force: bool = False, message: str = "",
    context: dict | None = None,
) -> HttpResponse:
    """A tool's result page (with `context` besides the interaction) and its contact
    form. The form posts back to the page itself: a mistake in it shows the page again
    with the errors beside the fields (and the results still there); a valid form
    makes the lead."""
    context = {**(context or {}), "interaction": interaction, "data": interaction.data, "prompt": None}
    if request.method == "POST":
        form = contact_form(request, request.POST)
        if form.is_valid():
            data = enquiry_fill(request, form.cleaned_data)
            try:
                lead = contact_form_submit(
                    session=visitor_session(request), interaction=interaction, data=data,
                    submission_key=form.submission_key,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                contact_given(request, lead=lead, data=data)
                return redirect("leads:thanks")
        context["prompt"] = {"form": form, "title": title, "dismissible": not force,
                             "text": experiments.prompt_wording(request.user_session)}
        return TemplateResponse(request, template, context, status=400)
    context["prompt"] = contact_prompt(request, interaction=interaction, title=title, force=force)
    if context["prompt"] and message:
        context["prompt"]["form"].initial["message"] = message
    return TemplateResponse(request, template, context)


def _own_interaction(request, pk) -> UserInteraction | None:
    if not pk:
        return None
    return UserInteraction.objects.filter(pk=pk, session=request.user_session).first()


@limit_posts(FORMS)
def contact(request):
    form = contact_form(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            lead = contact_form_submit(
                session=visitor_session(request),
                interaction=_own_interaction(request, form.cleaned_data.get("interaction")),
                data=enquiry_fill(request, form.cleaned_data),
                submission_key=form.submission_key,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            contact_given(request, lead=lead, data=enquiry_fill(request, form.cleaned_data))
            return redirect("leads:thanks")
    status = 400 if request.method == "POST" else 200
    return TemplateResponse(request, "leads/contact.html", {"form": form}, status=status)


def contact_given(request, *, lead, data) -> None:
    """After any accepted contact form, whoever's lead it went to: the browser gets a
    new cookie (a copy of the old one no longer opens the session) and the thank-you
    pages remember what was typed."""
    session_cookie_issue(session=request.user_session)
    enquiry_remember(request, lead=lead, data=data)


@require_POST
@limit_posts(FORMS)
def dismiss(request):
    if request.user_session is not None:
        contact_prompt_dismissed(request.user_session)
    return HttpResponseRedirect(safe_next(request))


@limit_posts(FORMS)
def thanks(request):
    lead = enquiry_lead(request)
    if lead is None:
        return redirect("leads:contact")
    visitor = enquiry_summary(request, lead)
    form = ContactDetailsForm(request.POST or None, has_email=visitor.email, has_phone=visitor.phone)
    if request.method == "POST" and form.is_valid():
        try:
            lead_add_contact_details(lead=lead, data=form.cleaned_data, session=request.user_session,
                                     submission_key=form.submission_key)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            enquiry_details_given(request, lead=lead, data=form.cleaned_data)
            return TemplateResponse(request, "leads/thanks.html", {"visitor": visitor, "form": None, "updated": True})
    status = 400 if request.method == "POST" and form.errors else 200
    ask_more = bool(form.fields) and (not visitor.email or not visitor.phone)
    return TemplateResponse(
        request, "leads/thanks.html", {"visitor": visitor, "form": form if ask_more else None}, status=status
    )
