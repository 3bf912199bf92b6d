"""Run the public tools: compute the result, track it as an interaction."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from calculators import face, speech
from calculators.catalog import catalog_entries
from calculators.models import PriceUnit, Procedure
from calculators.pricing import PriceItem, Quote, build_quote
from calculators.recommender import QueryAnalysis, Recommendation, analyse_query, recommend
from calculators.vocabulary import CONCERNS, budget_level_for, speech_phrases
from interactions.models import InteractionType, UserInteraction, UserSession
from interactions.photos import photo_keep
from interactions.tracker import track_user_interaction
from leads.consent_texts import consent_text
from leads.models import ConsentPurpose

BUDGET_RANGES = {
    # choice: (label, lower amount, upper amount); the level is budget_level_for(lower).
    "under_500": ("Under £500", 0, 500),
    "500_1500": ("£500 - £1,500", 500, 1500),
    "1500_5000": ("£1,500 - £5,000", 1500, 5000),
    "over_5000": ("Over £5,000", 5000, None),
    "not_sure": ("Not sure yet", None, None),
}


def budget_range_level(budget_range: str) -> str | None:
    """The budget level of a calculator range: the level of any amount in it."""
    _, lower, _ = BUDGET_RANGES[budget_range]
    return None if lower is None else budget_level_for(lower)


def categories_of(slugs) -> list[str]:
    """Treatment categories of the given procedures: what the lead page sums up as
    the patient's interest (injectables, skin, laser, body, surgical)."""
    return sorted(set(Procedure.objects.filter(slug__in=list(slugs)).values_list("category", flat=True)))


def _with_categories(data: dict) -> dict:
    slugs = {*data.get("procedures", []), *(r["procedure"] for r in data.get("recommendations", []))}
    return {**data, "categories": categories_of(slugs)}


def _recommendations_data(recommendations: Sequence[Recommendation]) -> list[dict]:
    return [
        {"procedure": r.slug, "name": r.name, "reason": r.reason, "matched_concerns": list(r.matched_concerns),
         "price_from": r.price_from, "price_unit": r.price_unit, "over_budget": r.over_budget}
        for r in recommendations
    ]


def text_recommendations(*, text: str) -> tuple[QueryAnalysis, list[Recommendation]]:
    """The treatment finder's answer to what a patient wrote: what it read in the words,
    and up to three treatments. Nothing is tracked (the benchmark times this).

    The catalog is read once for both steps; the TF-IDF index and the phrase tables
    built from it are kept per process by the recommender, keyed by the catalog's
    content, so an edited catalog gets new ones on the next request."""
    catalog = catalog_entries()
    analysis = analyse_query(text, catalog)
    return analysis, recommend(analysis, catalog)


def recommendation_from_text(
    *, session: UserSession, text: str, input_kind: str = "text", extra: dict | None = None,
    submission_key: str | None = None,
) -> UserInteraction:
    """Analyse what the patient wrote (or said) and track the recommendation."""
    analysis, recommendations = text_recommendations(text=text)
    data = {**analysis.as_data(), "input": input_kind, "recommendations": _recommendations_data(recommendations)}
    return track_user_interaction(
        session, InteractionType.AI_RECOMMENDATION, _with_categories({**data, **(extra or {})}),
        page_url="/enhanced-ai/", submission_key=submission_key,
    )


def recommendation_from_voice(
    *, session: UserSession, audio: bytes, submission_key: str | None = None
) -> UserInteraction:
    """Transcribe a recording offline with the catalog's vocabulary, then as text."""
    words = [name for entry in catalog_entries() for name in (entry.name, *entry.keywords)]
    try:
        transcript = speech.transcribe(audio, phrases=speech_phrases(words))
    except speech.SpeechError as error:
        raise ValidationError({"audio": str(error)}) from error
    if not transcript.text:
        raise ValidationError({"audio": "We could not make out any words; please try again somewhere quieter."})
    return recommendation_from_text(
        session=session, text=transcript.text, input_kind="voice",
        extra={"transcript": transcript.text, "audio_seconds": round(transcript.duration_seconds, 1)},
        submission_key=submission_key,
    )


def _photo_consent() -> dict:
    version, _ = consent_text(ConsentPurpose.PHOTO_ANALYSIS)
    return {"photo_consent": version}


def _analyse_photo(image: bytes, field: str) -> face.FaceAnalysis:
    # The photo is analysed in memory and never written anywhere: nothing to delete later.
    try:
        return face.analyse_face(image)
    except face.FaceAnalysisError as error:
        raise ValidationError({field: str(error)}) from error


def _analysis_from_concerns(concerns: Sequence[str]) -> QueryAnalysis:
    return QueryAnalysis(
        text=" ".join(CONCERNS[c].label for c in concerns if c in CONCERNS),
        concerns=tuple(c for c in concerns if c in CONCERNS),
        areas=("face",), procedures=(), urgency=None, budget_level=None, budget_amount=None,
        wants_surgery=False,
    )


def _recommendations_from_findings(analysis: face.FaceAnalysis) -> list[dict]:
    return _recommendations_data(recommend(_analysis_from_concerns(analysis.concerns), catalog_entries()))


def _findings_data(analysis: face.FaceAnalysis) -> dict:
    return {
        "concerns": list(analysis.concerns),
        "measures": [
            {"key": m.key, "label": m.label, "score": m.score, "explanation": m.explanation}
            for m in analysis.measures
        ],
    }


def recommendation_from_photo(
    *, session: UserSession, image: bytes, submission_key: str | None = None
) -> UserInteraction:
    """The AI recommender's photo mode: recommend from the face analysis's findings."""
    analysis = _analyse_photo(image, "photo")
    data = {
        **_findings_data(analysis),
        "input": "photo",
        "recommendations": _recommendations_from_findings(analysis),
        **_photo_consent(),
    }
    return track_user_interaction(
        session, InteractionType.AI_RECOMMENDATION, _with_categories(data), page_url="/enhanced-ai/",
        submission_key=submission_key,
    )


def face_analysis_run(
    *, session: UserSession, image: bytes, submission_key: str | None = None, keep_photo: bool = False
) -> UserInteraction:
    """Analyse the photo and track it; keep the photo only if the patient asked."""
    analysis = _analyse_photo(image, "photo")
    data = {
        **_findings_data(analysis),
        "recommendations": _recommendations_from_findings(analysis),
        **_photo_consent(),
    }
    interaction = track_user_interaction(
        session, InteractionType.FACE_ANALYSIS, _with_categories({**data, "photo_kept": keep_photo}),
        page_url="/enhanced-face/", submission_key=submission_key,
    )
    if keep_photo and not hasattr(interaction, "photo"):
        photo_keep(interaction=interaction, image=face.load_image(image))
    return interaction


def amount_label(unit: str, quantity: int) -> str:
    if unit == PriceUnit.AREA:
        return f"{quantity} area" + ("s" if quantity != 1 else "")
    if unit == PriceUnit.ML:
        return f"{quantity} ml"
    return str(quantity)


@dataclass(frozen=True)
class CostChoice:
    procedure: Procedure
    quantity: int
    sessions: int | None = None


def cost_quote(choices: Sequence[CostChoice]) -> Quote:
    """Price a basket with the clinic's discounts and financing terms."""
    items = []
    for choice in choices:
        procedure = choice.procedure
        if not 1 <= choice.quantity <= procedure.max_quantity:
            raise ValidationError(f"{procedure.name}: choose between 1 and {procedure.max_quantity}.")
        sessions = choice.sessions or procedure.sessions_min
        if not procedure.sessions_min <= sessions <= max(procedure.sessions_max, procedure.sessions_min):
            raise ValidationError(
                f"{procedure.name}: a course is {procedure.sessions} sessions; choose within that."
            )
        items.append(
            PriceItem(
                slug=procedure.slug, name=procedure.name, unit_label=procedure.get_price_unit_display(),
                price_min=procedure.price_min, price_max=procedure.price_max,
                quantity=choice.quantity, sessions=sessions,
                amount_label=amount_label(procedure.price_unit, choice.quantity),
            )
        )
    try:
        return build_quote(
            items,
            discount_tiers=[(n, Decimal(p)) for n, p in settings.CLINIC_PACKAGE_DISCOUNTS],
            financing_months=settings.CLINIC_FINANCING_MONTHS,
            financing_apr_percent=Decimal(settings.CLINIC_FINANCING_APR),
            financing_minimum=Decimal(settings.CLINIC_FINANCING_MINIMUM),
        )
    except ValueError as error:
        raise ValidationError(str(error)) from error


@transaction.atomic
def cost_estimate_run(
    *, session: UserSession, choices: Sequence[CostChoice], budget_range: str, submission_key: str | None = None
) -> tuple[UserInteraction, Quote]:
    if budget_range not in BUDGET_RANGES:
        raise ValidationError({"budget_range": "Please choose a budget range."})
    quote = cost_quote(choices)
    data = {**quote.as_data(), "budget_range": budget_range}
    level = budget_range_level(budget_range)
    if level:
        data["budget_level"] = level
    interaction = track_user_interaction(
        session, InteractionType.COST_CALCULATOR, _with_categories(data), page_url="/enhanced-cost/",
        submission_key=submission_key,
    )
    return interaction, quote


def catalog_search(*, session: UserSession | None, query: str) -> list[Procedure]:
    """Treatments matching a search, best first; the search is tracked when there is a
    visitor session (without tracking consent in strict mode there is none)."""
    catalog = catalog_entries()
    analysis = analyse_query(query, catalog)
    slugs = [r.slug for r in recommend(analysis, catalog, limit=10, text_matches=True)]
    by_slug = Procedure.objects.in_bulk(slugs, field_name="slug")
    results = [by_slug[slug] for slug in slugs if slug in by_slug]
    if session is None:
        return results
    track_user_interaction(
        session, InteractionType.SEARCH,
        {"query": analysis.text, "concerns": list(analysis.concerns), "results": slugs,
         "categories": categories_of(slugs[:3])},
        page_url="/treatments/",
    )
    return results
