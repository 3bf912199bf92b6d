"""Public pages of the tools. Each view parses its form, calls one service, and
redirects to a result page that only the visitor who asked can see."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse

from calculators import personal, services
from calculators.forms import (
    BookingForm,
    CostCalculatorForm,
    CostLineFormSet,
    FaceAnalysisForm,
    RecommendationForm,
)
from calculators.models import Procedure, ProcedureCategory
from calculators.services import CostChoice
from calculators.vocabulary import AREAS, CONCERNS, KINDS
from core.forms import SUBMISSION_FIELD
from core.page_context import page_context_sign
from core.ratelimits import FORMS, UPLOADS, limit_posts
from core.views import add_service_errors
from interactions.models import InteractionType, UserInteraction
from interactions.selectors import visitor_history
from interactions.services import visitor_session
from leads.forms import ContactForm
from leads.models import Appointment
from leads.services import appointment_request
from leads.enquiry import enquiry_fill, enquiry_known, enquiry_summary
from leads.views import contact_given, result_page


def _result(request, pk: int, interaction_type: str) -> UserInteraction:
    return get_object_or_404(UserInteraction, pk=pk, session=request.user_session, interaction_type=interaction_type)


def _invalid(request, template: str, context: dict):
    return TemplateResponse(request, template, context, status=400 if request.method == "POST" else 200)


@limit_posts(FORMS)
@limit_posts(UPLOADS)
def recommend(request):
    form = RecommendationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        session, data = visitor_session(request), form.cleaned_data
        try:
            key = form.submission_key
            if data["audio"]:
                interaction = services.recommendation_from_voice(session=session, audio=data["audio"], submission_key=key)
            elif data["photo"]:
                interaction = services.recommendation_from_photo(session=session, image=data["photo"], submission_key=key)
            else:
                interaction = services.recommendation_from_text(session=session, text=data["query"], submission_key=key)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("calculators:recommend_result", pk=interaction.pk)
    return _invalid(request, "calculators/recommend.html", {"form": form})


@limit_posts(FORMS)
def recommend_result(request, pk: int):
    interaction = _result(request, pk, InteractionType.AI_RECOMMENDATION)
    data = interaction.data
    refused = Procedure.objects.filter(slug__in=data.get("excluded_procedures", [])).values_list("name", flat=True)
    recommendations = data.get("recommendations") or []
    context = {
        "left_out": [*(KINDS[k].label for k in data.get("excluded_kinds", []) if k in KINDS), *refused],
        "over_budget_only": bool(recommendations) and all(r.get("over_budget") for r in recommendations),
    }
    template = "calculators/recommend_result.html"
    if recommendations:
        return result_page(
            request, template, interaction=interaction, title="Get your personal treatment plan", context=context
        )
    # Nothing we offer fits: rather than an unrelated list, a practitioner's call.
    return result_page(
        request, template, interaction=interaction, title="Ask a practitioner to call you", force=True,
        message="Please call me to talk through what I described.", context=context,
    )


@limit_posts(FORMS)
@limit_posts(UPLOADS)
def face(request):
    form = FaceAnalysisForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            interaction = services.face_analysis_run(
                session=visitor_session(request), image=form.cleaned_data["photo"], submission_key=form.submission_key,
                keep_photo=form.cleaned_data["keep_photo"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("calculators:face_result", pk=interaction.pk)
    return _invalid(request, "calculators/face.html", {"form": form})


@limit_posts(FORMS)
def face_result(request, pk: int):
    interaction = _result(request, pk, InteractionType.FACE_ANALYSIS)
    return result_page(
        request, "calculators/face_result.html", interaction=interaction, title="Talk your results through with our team"
    )


@limit_posts(FORMS)
def cost(request):
    # "Work out the cost" on a treatment page starts the first line with that treatment;
    # otherwise the lines start with what the visitor's treatment finder suggested.
    chosen = request.GET.get("treatment", "")
    initial = None
    suggested = False
    if request.method == "GET":
        initial = [{"procedure": chosen}] if chosen else personal.cost_lines_suggested(
            visitor_history(request.user_session))
        suggested = bool(initial) and not chosen
    formset = CostLineFormSet(request.POST or None, prefix="line", initial=initial)
    form = CostCalculatorForm(request.POST or None)
    if request.method == "POST" and formset.is_valid() and form.is_valid():
        choices = [
            CostChoice(procedure=line["procedure"], quantity=line["quantity"], sessions=line.get("sessions"))
            for line in formset.cleaned_data
            if line.get("procedure")
        ]
        try:
            interaction, _ = services.cost_estimate_run(
                session=visitor_session(request), choices=choices, budget_range=form.cleaned_data["budget_range"],
                submission_key=form.submission_key,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("calculators:cost_result", pk=interaction.pk)
    return _invalid(request, "calculators/cost.html", {"formset": formset, "form": form, "suggested": suggested})


@limit_posts(FORMS)
def cost_result(request, pk: int):
    interaction = _result(request, pk, InteractionType.COST_CALCULATOR)
    # A detailed quote is what the patient asks for here: the form is always offered.
    return result_page(
        request, "calculators/cost_result.html", interaction=interaction, title="Get your detailed quote",
        force=True, message="Please send me a detailed quote.",
    )


@limit_posts(FORMS)
def book(request):
    booking = BookingForm(request.POST or None, initial={"treatment": request.GET.get("treatment", "")})
    contact = ContactForm(request.POST or None, known=enquiry_known(request))
    # One form on the page: the booking's one-time id is the submission's.
    for name in ("interaction", "next", SUBMISSION_FIELD):
        del contact.fields[name]
    if request.method == "POST" and booking.is_valid() and contact.is_valid():
        procedure = booking.cleaned_data["treatment"]
        try:
            appointment = appointment_request(
                session=visitor_session(request),
                treatment=procedure.name if procedure else "Consultation",
                treatment_slug=procedure.slug if procedure else "",
                treatment_category=procedure.category if procedure else "",
                preferred_date=booking.cleaned_data["preferred_date"],
                time_window=booking.cleaned_data["time_window"],
                data=enquiry_fill(request, contact.cleaned_data),
                submission_key=booking.submission_key,
            )
        except ValidationError as error:
            add_service_errors(contact, error)
        else:
            contact_given(request, lead=appointment.lead, data=enquiry_fill(request, contact.cleaned_data))
            if getattr(appointment, "already_requested", False):
                messages.info(request, "You had already asked for this appointment: we have it, there is no need to send it again.")
            return redirect("calculators:book_confirmed", pk=appointment.pk)
    return _invalid(request, "calculators/book.html", {"booking": booking, "contact": contact})


def book_confirmed(request, pk: int):
    session = request.user_session
    if session is None:
        raise Http404
    # The visitor's own booking, or (sent again from another device) their lead's.
    visitor = Q(interaction__session=session)
    if session.lead_id:
        visitor |= Q(lead_id=session.lead_id)
    appointment = get_object_or_404(Appointment, visitor, pk=pk)
    return TemplateResponse(request, "calculators/book_confirmed.html", {
        "appointment": appointment, "visitor": enquiry_summary(request, appointment.lead),
    })


def treatment(request, slug: str):
    """A treatment's own page: what it treats, where, from what price, how many
    sessions and how much downtime; engagement here is tracked with the treatment."""
    procedure = get_object_or_404(Procedure, slug=slug, is_active=True)
    return TemplateResponse(request, "calculators/treatment.html", {
        "procedure": procedure,
        "concerns": [CONCERNS[c].label for c in procedure.concerns if c in CONCERNS],
        "areas": [AREAS[a].label for a in procedure.areas if a in AREAS],
        "track_context": page_context_sign(procedures=[procedure.slug], categories=[procedure.category]),
    })


def treatments(request):
    query = (request.GET.get("q") or "").strip()[:200]
    if query:
        results = services.catalog_search(session=request.user_session, query=query)  # None: not tracked
    else:
        results = list(Procedure.objects.filter(is_active=True))
    return TemplateResponse(request, "calculators/treatments.html", {
        "query": query, "results": results, "categories": ProcedureCategory.choices,
    })
