"""The treatment recommender: read what a patient wrote (or said), find their
concerns, areas, urgency and budget, and rank the catalog's treatments.

Pure Python over plain data: the catalog arrives as CatalogEntry tuples. Ranking
combines TF-IDF similarity between the patient's words and each treatment's text
(name, other names, the concerns it treats with their synonyms, description) with
exact concern matches from the vocabulary, which carry most of the weight: a
patient who says "crow's feet" means one concern, whatever else the words share.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import linear_kernel

from calculators.vocabulary import (
    AREAS,
    BUDGET_PHRASES,
    CONCERNS,
    URGENCY_PHRASES,
    Term,
    budget_level_for,
)

MAX_QUERY_CHARS = 2000
CONCERN_WEIGHT = 1.0
MENTION_WEIGHT = 1.5
AREA_WEIGHT = 0.15
# A clinic leads with non-surgical options unless the patient asks for surgery,
# and then leads with surgery.
SURGERY_PREFERENCE = 0.35
MIN_RELEVANCE = 0.08
SURGERY_WORDS = ("surgery", "surgical", "surgeon", "operation", "permanent", "under the knife")
NEGATED_URGENCY = ("not urgent", "no rush", "no hurry", "not in a hurry", "not urgently", "not in a rush")
MONEY_CONTEXT = ("budget", "spend", "afford", "up to", "around", "about", "under", "max", "maximum", "cost", "pay")


@dataclass(frozen=True)
class CatalogEntry:
    slug: str
    name: str
    category: str
    concerns: tuple[str, ...]
    areas: tuple[str, ...]
    keywords: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class QueryAnalysis:
    text: str
    concerns: tuple[str, ...]
    areas: tuple[str, ...]
    procedures: tuple[str, ...]  # catalog slugs the patient named
    urgency: str | None
    budget_level: str | None
    budget_amount: float | None
    wants_surgery: bool

    def as_data(self) -> dict:
        """The signals as interaction data, in the names the scoring rules use."""
        data = {
            "query": self.text,
            "concerns": list(self.concerns),
            "areas": list(self.areas),
            "procedures": list(self.procedures),
        }
        if self.urgency:
            data["urgency"] = self.urgency
        if self.budget_level:
            data["budget_level"] = self.budget_level
        if self.budget_amount is not None:
            data["budget_amount"] = self.budget_amount
        return data


@dataclass(frozen=True)
class Recommendation:
    slug: str
    name: str
    relevance: float
    matched_concerns: tuple[str, ...]  # concern labels, e.g. "crow's feet"
    reason: str


def normalise(text: str) -> str:
    text = (text or "")[:MAX_QUERY_CHARS].lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"[^a-z0-9'£$€.,\- ]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _pattern(phrase: str) -> re.Pattern:
    return re.compile(rf"(?<![a-z0-9']){re.escape(phrase)}(?![a-z0-9])")


@lru_cache(maxsize=1024)
def _compiled(phrase: str) -> re.Pattern:
    return _pattern(phrase)


def _find_terms(text: str, table: dict[str, Term]) -> list[str]:
    """Keys whose phrases occur in the text; longer phrases claim their words first,
    so 'fine lines' is not also read as 'lines' (wrinkles)."""
    phrases = sorted(
        ((phrase, key) for key, term in table.items() for phrase in term.phrases),
        key=lambda item: -len(item[0]),
    )
    taken = [False] * len(text)
    found: list[str] = []
    for phrase, key in phrases:
        for match in _compiled(phrase).finditer(text):
            start, end = match.span()
            if any(taken[start:end]):
                continue
            taken[start:end] = [True] * (end - start)
            if key not in found:
                found.append(key)
    return found


def _mentioned_procedures(text: str, catalog: Sequence[CatalogEntry]) -> list[str]:
    found = []
    for entry in catalog:
        names = (entry.name.lower(), *(keyword.lower() for keyword in entry.keywords))
        if any(_compiled(name).search(text) for name in names if name):
            found.append(entry.slug)
    return found


def _urgency(text: str) -> str | None:
    stripped = text
    for phrase in NEGATED_URGENCY:
        stripped = stripped.replace(phrase, " ")
    for level in ("immediate", "soon"):
        if any(_compiled(phrase).search(stripped) for phrase in URGENCY_PHRASES[level]):
            return level
    if stripped != text or any(_compiled(phrase).search(text) for phrase in URGENCY_PHRASES["flexible"]):
        return "flexible"
    return None


_AMOUNT = re.compile(
    r"(?P<before>[£$€]\s?)?(?P<number>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s?(?P<thousands>k\b|thousand)?"
    r"\s?(?P<after>pounds|pound|quid|gbp|dollars|usd|euros|eur)?"
)


_SMALL_NUMBERS = {
    word: value for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen".split()
    )
} | {word: (index + 2) * 10 for index, word in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
_SCALES = {"hundred": 100, "thousand": 1000}
_NUMBER_WORDS = re.compile(
    r"\b(?:(?:a|an|and|" + "|".join([*_SMALL_NUMBERS, *_SCALES]) + r")\s+)*"
    r"(?:" + "|".join([*_SMALL_NUMBERS, *_SCALES]) + r")\b"
)


def _spoken_number(words: str) -> int | None:
    """'two thousand five hundred' -> 2500, 'fifteen hundred' -> 1500, 'a thousand' -> 1000."""
    total, current, seen = 0, 0, False
    for word in words.split():
        if word in _SMALL_NUMBERS:
            current += _SMALL_NUMBERS[word]
            seen = True
        elif word == "hundred":
            current = (current or 1) * 100
            seen = True
        elif word == "thousand":
            total += (current or 1) * 1000
            current, seen = 0, True
    return total + current if seen else None


def _digits_for_spoken_numbers(text: str) -> str:
    """Voice notes arrive as words: 'five hundred pounds' becomes '500 pounds'."""
    def replace(match: re.Match) -> str:
        value = _spoken_number(match.group(0))
        if value is None or value < 10:  # "one", "a": not an amount
            return match.group(0)
        return str(value)

    return _NUMBER_WORDS.sub(replace, text)


def _budget_amount(text: str) -> float | None:
    """The largest sum of money named: a figure with a currency sign or word, or
    one after words like 'budget' or 'spend'. Ages and '11 lines' do not count."""
    text = _digits_for_spoken_numbers(text)
    amounts = []
    for match in _AMOUNT.finditer(text):
        window = text[max(0, match.start() - 25):match.start()]
        if not (match["before"] or match["after"] or match["thousands"]
                or any(word in window for word in MONEY_CONTEXT)):
            continue
        amount = float(match["number"].replace(",", ""))
        if match["thousands"]:
            amount *= 1000
        amounts.append(amount)
    return max(amounts) if amounts else None


def analyse_query(text: str, catalog: Sequence[CatalogEntry]) -> QueryAnalysis:
    clean = normalise(text)
    amount = _budget_amount(clean)
    if amount is not None:
        budget_level = budget_level_for(amount)
    else:
        budget_level = next(
            (level for level, phrases in BUDGET_PHRASES.items()
             if any(_compiled(phrase).search(clean) for phrase in phrases)),
            None,
        )
    return QueryAnalysis(
        text=(text or "").strip()[:MAX_QUERY_CHARS],
        concerns=tuple(_find_terms(clean, CONCERNS)),
        areas=tuple(_find_terms(clean, AREAS)),
        procedures=tuple(_mentioned_procedures(clean, catalog)),
        urgency=_urgency(clean),
        budget_level=budget_level,
        budget_amount=amount,
        wants_surgery=any(_compiled(word).search(clean) for word in SURGERY_WORDS),
    )


def _document(entry: CatalogEntry) -> str:
    concern_words = " ".join(" ".join(CONCERNS[c].phrases) for c in entry.concerns if c in CONCERNS)
    area_words = " ".join(AREAS[a].label for a in entry.areas if a in AREAS)
    return " ".join([entry.name, " ".join(entry.keywords), concern_words, area_words, entry.description]).lower()


class _Index:
    def __init__(self, catalog: tuple[CatalogEntry, ...]):
        self.catalog = catalog
        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english")
        self.matrix = self.vectorizer.fit_transform([_document(entry) for entry in catalog])

    def similarity(self, text: str) -> np.ndarray:
        return linear_kernel(self.vectorizer.transform([text]), self.matrix).ravel()


@lru_cache(maxsize=4)
def _index(catalog: tuple[CatalogEntry, ...]) -> _Index:
    return _Index(catalog)


def recommend(
    analysis: QueryAnalysis, catalog: Iterable[CatalogEntry], *, limit: int = 3
) -> list[Recommendation]:
    """The best treatments for the analysed query, most relevant first."""
    catalog = tuple(catalog)
    if not catalog:
        return []
    expansion = " ".join(CONCERNS[c].label for c in analysis.concerns)
    similarity = _index(catalog).similarity(normalise(f"{analysis.text} {expansion}"))

    ranked = []
    for entry, text_score in zip(catalog, similarity):
        matched = [c for c in analysis.concerns if c in entry.concerns]
        relevance = float(text_score)
        if analysis.concerns:
            relevance += CONCERN_WEIGHT * len(matched) / len(analysis.concerns)
        mentioned = entry.slug in analysis.procedures
        if mentioned:
            relevance += MENTION_WEIGHT
        relevance += AREA_WEIGHT * len(set(analysis.areas) & set(entry.areas))
        if entry.category == "surgical" and not mentioned:
            relevance += SURGERY_PREFERENCE if analysis.wants_surgery else -SURGERY_PREFERENCE
        if relevance < MIN_RELEVANCE or (analysis.concerns and not matched and not mentioned and text_score < 0.2):
            continue
        ranked.append((relevance, entry, tuple(CONCERNS[c].label for c in matched), mentioned))

    ranked.sort(key=lambda item: -item[0])
    return [
        Recommendation(
            slug=entry.slug,
            name=entry.name,
            relevance=round(relevance, 3),
            matched_concerns=labels,
            reason=_reason(entry, labels, mentioned, analysis),
        )
        for relevance, entry, labels, mentioned in ranked[:limit]
    ]


def _reason(entry: CatalogEntry, labels: tuple[str, ...], mentioned: bool, analysis: QueryAnalysis) -> str:
    parts = []
    if mentioned:
        parts.append("You asked about it")
    if labels:
        parts.append("it treats " + _join(labels))
    areas = [AREAS[a].label for a in analysis.areas if a in entry.areas]
    if areas:
        parts.append("on your " + _join(areas))
    if not parts:
        return "Closest match to what you described."
    sentence = ", ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."


def _join(words: Sequence[str]) -> str:
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
