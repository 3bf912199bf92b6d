"""Public pages of the tools. Each view parses its form, calls one service, and
redirects to a result page that only the visitor who asked can see."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse

from calculators import services
from calculators.forms import (
    BookingForm,
    CostCalculatorForm,
    CostLineFormSet,
    FaceAnalysisForm,
    RecommendationForm,
)
from calculators.models import Procedure, ProcedureCategory
from calculators.services import CostChoice
from core.forms import SUBMISSION_FIELD
from core.ratelimits import FORMS, UPLOADS, limit_posts
from interactions.models import InteractionType, UserInteraction
from interactions.services import visitor_session
from leads.forms import ContactForm
from leads.models import Appointment
from leads.services import appointment_request
from core.views import add_service_errors
from leads.views import contact_prompt


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


def recommend_result(request, pk: int):
    interaction = _result(request, pk, InteractionType.AI_RECOMMENDATION)
    return TemplateResponse(request, "calculators/recommend_result.html", {
        "interaction": interaction,
        "data": interaction.data,
        "prompt": contact_prompt(request, interaction=interaction, title="Get your personal treatment plan"),
    })


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


def face_result(request, pk: int):
    interaction = _result(request, pk, InteractionType.FACE_ANALYSIS)
    return TemplateResponse(request, "calculators/face_result.html", {
        "interaction": interaction,
        "data": interaction.data,
        "prompt": contact_prompt(request, interaction=interaction, title="Talk your results through with our team"),
    })


@limit_posts(FORMS)
def cost(request):
    formset = CostLineFormSet(request.POST or None, prefix="line")
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
    return _invalid(request, "calculators/cost.html", {"formset": formset, "form": form})


def cost_result(request, pk: int):
    interaction = _result(request, pk, InteractionType.COST_CALCULATOR)
    # A detailed quote is what the patient asks for here: the form is always offered.
    prompt = contact_prompt(request, interaction=interaction, title="Get your detailed quote", force=True)
    if prompt:
        prompt["form"].initial["message"] = "Please send me a detailed quote."
    return TemplateResponse(request, "calculators/cost_result.html", {
        "interaction": interaction, "data": interaction.data, "prompt": prompt,
    })


@limit_posts(FORMS)
def book(request):
    session = request.user_session
    booking = BookingForm(request.POST or None, initial={"treatment": request.GET.get("treatment", "")})
    contact = ContactForm(request.POST or None, lead=session.lead if session else None)
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
                data=contact.cleaned_data,
                submission_key=booking.submission_key,
            )
        except ValidationError as error:
            add_service_errors(contact, error)
        else:
            return redirect("calculators:book_confirmed", pk=appointment.pk)
    return _invalid(request, "calculators/book.html", {"booking": booking, "contact": contact})


def book_confirmed(request, pk: int):
    appointment = get_object_or_404(Appointment, pk=pk, interaction__session=request.user_session)
    return TemplateResponse(request, "calculators/book_confirmed.html", {"appointment": appointment})


def treatments(request):
    query = (request.GET.get("q") or "").strip()[:200]
    if query:
        results = services.catalog_search(session=request.user_session, query=query)  # None: not tracked
    else:
        results = list(Procedure.objects.filter(is_active=True))
    return TemplateResponse(request, "calculators/treatments.html", {
        "query": query, "results": results, "categories": ProcedureCategory.choices,
    })
