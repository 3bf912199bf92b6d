"""Public pages that follow the visitor's own history (their browser's session, so only
once they accepted tracking where the clinic asks first): the home page leads with the
treatments they looked at and greets a returning visitor with their last result, the
cost calculator starts from the treatments the finder suggested, and the contact
offer speaks of the tool they used. What is shown is what the visitor themselves did
in this browser, never anything from another device or their lead."""

from dataclasses import dataclass

from django.urls import reverse

from calculators.models import Procedure
from interactions.experiments import prompt_wording
from interactions.models import InteractionType, UserSession
from interactions.selectors import VisitorHistory, last_result_type

LOOKED_AT_SHOWN = 6
COST_LINES_SUGGESTED = 3

RESULT_PAGES = {
    InteractionType.AI_RECOMMENDATION: ("treatment finder", "calculators:recommend_result"),
    InteractionType.FACE_ANALYSIS: ("skin analysis", "calculators:face_result"),
    InteractionType.COST_CALCULATOR: ("cost calculator", "calculators:cost_result"),
}

# The floating contact offer (static/js/track.js), by the tool the visitor used last.
PROMPT_TEXTS = {
    InteractionType.AI_RECOMMENDATION: "Would you like to talk through the treatments the finder suggested? "
                                       "Leave your details and a practitioner will get back to you.",
    InteractionType.FACE_ANALYSIS: "Would you like a practitioner to go through your skin analysis with you? "
                                   "Leave your details and we will get back to you.",
    InteractionType.COST_CALCULATOR: "Would you like a detailed quote for the treatments you priced? "
                                     "Leave your details and a practitioner will get back to you.",
}
PROMPT_TEXT = ("Would you like a personal treatment plan? Leave your details and a practitioner will get back "
               "to you.")


@dataclass(frozen=True)
class Greeting:
    """"Welcome back": the visitor's last result, and the treatments in it."""

    tool: str
    url: str
    treatments: list[Procedure]


def _procedures(slugs: list[str], limit: int) -> list[Procedure]:
    """The active treatments of these slugs, in their order."""
    found = Procedure.objects.filter(slug__in=slugs, is_active=True).in_bulk(field_name="slug")
    return [found[slug] for slug in slugs if slug in found][:limit]


def treatments_looked_at(history: VisitorHistory) -> list[Procedure]:
    return _procedures(history.looked_at, LOOKED_AT_SHOWN)


def greeting(session: UserSession | None, history: VisitorHistory) -> Greeting | None:
    """For a visitor back on a later visit with a result to come back to."""
    result = history.last_result
    if session is None or session.visit_count < 2 or result is None:
        return None
    tool, url_name = RESULT_PAGES[result.interaction_type]
    slugs = [r["procedure"] for r in result.data.get("recommendations", [])] or result.data.get("procedures", [])
    return Greeting(tool, reverse(url_name, args=[result.pk]), _procedures(slugs, COST_LINES_SUGGESTED))


def cost_lines_suggested(history: VisitorHistory) -> list[dict]:
    """The cost calculator's first lines: the treatments the finder (or the skin
    analysis) suggested last."""
    return [{"procedure": procedure.slug} for procedure in _procedures(history.suggested, COST_LINES_SUGGESTED)]


def prompt_text(session: UserSession | None) -> str:
    """The floating contact offer's words: the visitor's variant's in a wording
    experiment, else about the tool the visitor used last. Every
    public page asks, so one indexed read of the type alone (not visitor_history)."""
    if session is None:
        return PROMPT_TEXT
    tested = prompt_wording(session)
    if tested:
        return tested
    if not session.interaction_count:
        return PROMPT_TEXT
    last_tool = last_result_type(session)
    return PROMPT_TEXTS.get(last_tool, PROMPT_TEXT)
