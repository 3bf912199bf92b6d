"""Public views of the contact form: submit, dismiss, thank-you and its second step."""

from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from core.ratelimits import FORMS, limit_posts
from core.views import add_service_errors, safe_next
from interactions.models import UserInteraction
from interactions.services import visitor_session
from interactions.tracker import contact_prompt_dismissed, contact_prompt_shown, should_show_contact_form
from leads.forms import ContactDetailsForm, ContactForm
from leads.services import contact_form_submit, lead_add_contact_details


def contact_prompt(request, *, interaction: UserInteraction | None, title: str, force: bool = False) -> dict | None:
    """The contact form to offer on a result page, or None when this visitor should
    not be asked now. `force` offers it whatever the timing rules (the patient asked)."""
    session = request.user_session
    if session is None or (session.lead_id and not force):
        return None
    if not force and not should_show_contact_form(session):
        return None
    if not force:
        contact_prompt_shown(session)
    form = ContactForm(
        lead=session.lead,
        initial={"interaction": interaction.pk if interaction else None, "next": request.get_full_path()},
    )
    return {"form": form, "title": title, "dismissible": not force}


def _own_interaction(request, pk) -> UserInteraction | None:
    if not pk:
        return None
    return UserInteraction.objects.filter(pk=pk, session=request.user_session).first()


@limit_posts(FORMS)
def contact(request):
    session = request.user_session
    form = ContactForm(request.POST or None, lead=session.lead if session else None)
    if request.method == "POST" and form.is_valid():
        try:
            contact_form_submit(
                session=visitor_session(request),
                interaction=_own_interaction(request, form.cleaned_data.get("interaction")),
                data=form.cleaned_data,
                submission_key=form.submission_key,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("leads:thanks")
    status = 400 if request.method == "POST" else 200
    return TemplateResponse(request, "leads/contact.html", {"form": form}, status=status)


@require_POST
@limit_posts(FORMS)
def dismiss(request):
    if request.user_session is not None:
        contact_prompt_dismissed(request.user_session)
    return HttpResponseRedirect(safe_next(request))


@limit_posts(FORMS)
def thanks(request):
    session = request.user_session
    lead = session.lead if session else None
    if lead is None:
        return redirect("leads:contact")
    form = ContactDetailsForm(request.POST or None, lead=lead)
    if request.method == "POST" and form.is_valid():
        try:
            lead_add_contact_details(lead=lead, data=form.cleaned_data, session=session,
                                     submission_key=form.submission_key)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return TemplateResponse(request, "leads/thanks.html", {"lead": lead, "form": None, "updated": True})
    status = 400 if request.method == "POST" and form.errors else 200
    ask_more = bool(form.fields) and (not lead.email or not lead.phone)
    return TemplateResponse(request, "leads/thanks.html", {"lead": lead, "form": form if ask_more else None}, status=status)
