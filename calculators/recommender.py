"""The treatment recommender: read what a patient wrote (or said), find their
concerns, areas, urgency and budget, and rank the catalog's treatments.

Pure Python over plain data: the catalog arrives as CatalogEntry tuples. Ranking
combines TF-IDF similarity between the patient's words and each treatment's text
(name, other names, the concerns it treats with their synonyms, description) with
exact concern matches from the vocabulary, which carry most of the weight: a
patient who says "crow's feet" means one concern, whatever else the words share.

What a patient refuses ("no needles", "nothing with lasers", "without surgery", "not
botox") removes those treatments; surgery is offered only when asked for, named, or
the only treatment for a concern; every suggestion treats a concern the patient named
(or is the treatment they named), so an empty list means "nothing fits": the page then
offers a practitioner's call instead. A budget never reorders silently: suggestions
whose "from" price is above it are flagged and ranked after those within it.
"""

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import linear_kernel

from calculators.vocabulary import (
    AREAS,
    BODY_PART_CONCERN_WORDS,
    BROADER_CONCERNS,
    BUDGET_PHRASES,
    CONCERNS,
    KINDS,
    MISSPELLINGS,
    NOT_OFFERED,
    URGENCY_PHRASES,
    Term,
    budget_level_for,
)

MAX_QUERY_CHARS = 2000
CONCERN_WEIGHT = 1.0
MENTION_WEIGHT = 2.0
AREA_WEIGHT = 0.15
# A treatment's first concern in the catalog is what it is for: botox for wrinkles
# before a laser that also softens them.
PRIMARY_WEIGHT = 0.2
MIN_TEXT_SCORE = 0.08
BROADER_SHARE = 0.5
# A clinic leads with non-surgical options unless the patient asks for surgery,
# and then leads with surgery.
SURGERY_PREFERENCE = 0.35
SURGERY_WORDS = ("surgery", "surgical", "surgeon", "operation", "under the knife")
NEGATED_URGENCY = ("not urgent", "no rush", "no hurry", "not in a hurry", "not urgently", "not in a rush")
MONEY_CONTEXT = (
    "budget", "spend", "afford", "up to", "around", "about", "under", "max", "maximum", "cost", "pay",
    "less than", "no more than", "below", "within", "got", "have", "roughly", "upto",
)
# Words that refuse what follows ("no needles", "I'm terrified of needles and surgery")
# and words that may stand between the refusal and the thing refused.
NEGATION_CUES = (
    "no", "not", "without", "non", "nothing with", "nothing involving", "nothing that involves", "don't want",
    "do not want", "dont want", "don't like", "dont like", "hate", "scared of", "afraid of", "terrified of",
    "frightened of", "phobia of", "petrified of", "avoid", "rather not", "not keen on", "never", "won't have",
    "wont have", "will not have", "won't do", "rather avoid", "against", "instead of", "other than",
    "apart from", "except", "free of", "can't stand", "cant stand", "can't do", "cant do", "not into",
    "not a fan of", "no more",
)
NEGATION_AFTER = ("free", "phobic", "phobia", "is a no", "are a no", "is out", "are out", "scare me", "scares me")
NEGATION_FILLERS = frozenset(
    "any a an the more of with using involving kind kinds type types sort sorts form forms and or nor to have "
    "having get getting go going through for me do doing really other major big invasive anything".split()
)
MIN_CORRECTABLE_LENGTH = 4


@dataclass(frozen=True)
class CatalogEntry:
    slug: str
    name: str
    category: str
    concerns: tuple[str, ...]
    areas: tuple[str, ...]
    keywords: tuple[str, ...]
    description: str
    kinds: tuple[str, ...] = ()  # needles, injection, laser, surgery
    price_from: float | None = None
    price_unit: str = ""

    @property
    def is_surgery(self) -> bool:
        return "surgery" in self.kinds or self.category == "surgical"


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
    excluded_kinds: tuple[str, ...] = ()  # kinds of treatment the patient refused
    excluded_procedures: tuple[str, ...] = ()  # catalog slugs the patient refused

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
        if self.excluded_kinds:
            data["excluded_kinds"] = list(self.excluded_kinds)
        if self.excluded_procedures:
            data["excluded_procedures"] = list(self.excluded_procedures)
        return data


@dataclass(frozen=True)
class Recommendation:
    slug: str
    name: str
    relevance: float
    matched_concerns: tuple[str, ...]  # concern labels, e.g. "crow's feet"
    reason: str
    price_from: float | None = None
    price_unit: str = ""
    over_budget: bool = False


def normalise(text: str) -> str:
    text = (text or "")[:MAX_QUERY_CHARS].lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"[^a-z0-9'£$€.,\- ]+", " ", text)
    text = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", text)  # "non-surgical", "anti-wrinkle", "needle-free"
    return re.sub(r"\s+", " ", text).strip()


def _pattern(phrase: str) -> re.Pattern:
    return re.compile(rf"(?<![a-z0-9']){re.escape(phrase)}(?![a-z0-9])")


@lru_cache(maxsize=1024)
def _compiled(phrase: str) -> re.Pattern:
    return _pattern(phrase)


def _phrase_spans(text: str, phrases: Iterable[tuple[str, str]]) -> list[tuple[str, int, int]]:
    """(key, start, end) for each phrase found; longer phrases claim their words first,
    so 'fine lines' is not also read as 'lines' (wrinkles)."""
    taken = [False] * len(text)
    found = []
    for phrase, key in sorted(phrases, key=lambda item: -len(item[0])):
        for match in _compiled(phrase).finditer(text):
            start, end = match.span()
            if any(taken[start:end]):
                continue
            taken[start:end] = [True] * (end - start)
            found.append((key, start, end))
    return sorted(found, key=lambda item: item[1])


def _keys(spans: Iterable[tuple[str, int, int]]) -> list[str]:
    return list(dict.fromkeys(key for key, _, _ in spans))


def _find_terms(text: str, table: dict[str, Term]) -> list[str]:
    """Keys whose phrases occur in the text, in order of appearance."""
    return _keys(_phrase_spans(text, ((phrase, key) for key, term in table.items() for phrase in term.phrases)))


def _concerns_and_procedures(
    text: str, catalog: tuple[CatalogEntry, ...], negated: Sequence[tuple[int, int]] = ()
) -> tuple[list[str], list[str], list[str]]:
    """Concerns named, treatments asked about, treatments refused ('not botox').

    Concern phrases, treatment names and treatments the clinic does not offer compete
    for the words, longest first and concerns first on a tie: 'non surgical facelift'
    is HIFU, not a facelift; 'orange peel skin' is cellulite, not a chemical peel;
    'thread veins' is a concern, not a named treatment; 'tummy tuck' names no concern.
    A bare body part that is also a concern's word ('nose', 'lips', 'chin', 'tummy')
    counts only when nothing else is named: in 'red veins on my nose' the nose is
    where the veins are, not a wish for a new nose."""
    phrases = [(phrase, ("concern", key)) for key, term in CONCERNS.items() for phrase in term.phrases]
    phrases += [(phrase, ("procedure", slug)) for phrase, slug in _procedure_phrases(catalog)]
    phrases += [(phrase, ("not_offered", phrase)) for phrase in NOT_OFFERED]
    spans = _phrase_spans(text, phrases)
    concern_spans = [(key[1], start, end) for key, start, end in spans if key[0] == "concern"]
    strong = [span for span in concern_spans if text[span[1]:span[2]] not in BODY_PART_CONCERN_WORDS]
    procedure_spans = [(key[1], start, end) for key, start, end in spans if key[0] == "procedure"]
    refused = _keys(span for span in procedure_spans if _inside(span, negated))
    asked = [slug for slug in _keys(procedure_spans) if slug not in refused]
    return _keys(strong or concern_spans), asked, refused


def _inside(span: tuple[str, int, int], ranges: Sequence[tuple[int, int]]) -> bool:
    """Whether the phrase starts in one of the ranges ('no laser hair removal' refuses
    the whole treatment, though the refusal's scan stops after 'laser')."""
    return any(start <= span[1] < end for start, end in ranges)


@lru_cache(maxsize=4)
def _procedure_phrases(catalog: tuple[CatalogEntry, ...]) -> list[tuple[str, str]]:
    return [
        (normalise(name), entry.slug)
        for entry in catalog
        for name in (entry.name, *entry.keywords)
        if normalise(name)
    ]


def _negated_ranges(text: str) -> list[tuple[int, int]]:
    """Stretches of text the patient refuses: from a cue ('no', 'without', 'scared of')
    over the words that may follow it ('any', 'kind of', 'needles and') to the end of
    the refused phrase; and phrases followed by 'free' or 'phobic'. A comma, 'but' or
    any other word ends the refusal."""
    ranges = []
    words = list(re.finditer(r"[a-z0-9'£$€.]+|[,.;:!?]|-", text))
    tokens = [w.group(0) for w in words]
    cues = sorted((cue.split() for cue in NEGATION_CUES), key=len, reverse=True)
    index = 0
    while index < len(tokens):
        cue = next((c for c in cues if tokens[index:index + len(c)] == c), None)
        if cue is None:
            index += 1
            continue
        end = index + len(cue)
        if end < len(tokens) and tokens[end] == "-":  # non-surgical
            end += 1
        last = end
        scan = end
        while scan < len(tokens) and (tokens[scan] in NEGATION_FILLERS or tokens[scan][0].isalpha()):
            if tokens[scan] not in NEGATION_FILLERS:
                last = scan + 1
                # Content words end the refusal after the first one, unless an 'and'/'or'
                # carries it on to the next thing refused.
                if not (scan + 1 < len(tokens) and tokens[scan + 1] in ("and", "or", "nor")):
                    break
            scan += 1
        if last > end:
            ranges.append((words[end].start(), words[last - 1].end()))
        index = max(end, index + 1)
    for after in NEGATION_AFTER:
        for match in _compiled(after).finditer(text):
            before = re.search(r"([a-z]+)[\s-]*$", text[:match.start()])
            if before:
                ranges.append((before.start(1), match.end()))
    return ranges


def _refused(text: str, negated: Sequence[tuple[int, int]], phrases: Iterable[tuple[str, str]]) -> list[str]:
    spans = _phrase_spans(text, phrases)
    return _keys(span for span in spans if _inside(span, negated))


@lru_cache(maxsize=1)
def _dictionary() -> frozenset[str]:
    """English words, so that spelling correction leaves real words alone ('check' is
    not 'cheek'). The CMU dictionary ships with pocketsphinx, which voice input needs."""
    try:
        import pocketsphinx
    except ImportError:  # pragma: no cover - pocketsphinx is a requirement
        return frozenset()
    words = set()
    with open(pocketsphinx.get_model_path("en-us/cmudict-en-us.dict"), encoding="utf-8") as file:
        for line in file:
            word = line.split(" ", 1)[0]
            if "(" not in word:
                words.add(word)
    return frozenset(words)


@lru_cache(maxsize=4)
def _domain_words(catalog: tuple[CatalogEntry, ...]) -> tuple[str, ...]:
    phrases = [phrase for table in (CONCERNS, AREAS, KINDS) for term in table.values() for phrase in term.phrases]
    phrases += [phrase for phrase, _ in _procedure_phrases(catalog)]
    return tuple(sorted({word for phrase in phrases for word in re.findall(r"[a-z0-9']+", phrase)
                         if len(word) >= MIN_CORRECTABLE_LENGTH}))


def _corrected(text: str, catalog: tuple[CatalogEntry, ...]) -> str:
    """Fix misspelt treatment and concern words ('botex', 'wrinkels', 'pigmintation'):
    a word that is neither English nor ours becomes the closest word of ours."""
    domain = _domain_words(catalog)
    known = set(domain)
    dictionary = _dictionary()

    def fix(match: re.Match) -> str:
        word = match.group(0)
        if word in MISSPELLINGS:
            return MISSPELLINGS[word]
        if len(word) < MIN_CORRECTABLE_LENGTH or word in known or word in dictionary or not word.isalpha():
            return word
        close = difflib.get_close_matches(word, domain, n=1, cutoff=0.8)
        return close[0] if close else word

    return re.sub(r"[a-z][a-z']*", fix, text)


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
    r"(?P<before>[£$€]\s?)?(?P<number>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s?(?P<thousands>k\b|thousand|grand)?"
    r"\s?(?P<after>pounds|pound|quid|gbp|dollars|usd|euros|eur)?"
)


_SMALL_NUMBERS = {
    word: value for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen".split()
    )
} | {word: (index + 2) * 10 for index, word in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
_SCALES = {"hundred": 100, "thousand": 1000}
_GRAND = re.compile(r"\b(a|one|two|three|four|five|six|seven|eight|nine|ten) grand\b")
# A bare number after 'under' or 'about' is an age or a count more often than a budget
# below this; a sum with a currency sign or word always counts.
MIN_CONTEXT_AMOUNT = 40
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
    text = _GRAND.sub(lambda m: f"{_SMALL_NUMBERS.get(m.group(1), 1) * 1000} pounds", text)
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
        elif not (match["before"] or match["after"]) and amount < MIN_CONTEXT_AMOUNT:
            continue
        amounts.append(amount)
    return max(amounts) if amounts else None


def analyse_query(text: str, catalog: Sequence[CatalogEntry]) -> QueryAnalysis:
    catalog = tuple(catalog)
    clean = _corrected(normalise(text), catalog)
    amount = _budget_amount(clean)
    if amount is not None:
        budget_level = budget_level_for(amount)
    else:
        budget_level = next(
            (level for level, phrases in BUDGET_PHRASES.items()
             if any(_compiled(phrase).search(clean) for phrase in phrases)),
            None,
        )
    negated = _negated_ranges(clean)
    concerns, asked, refused = _concerns_and_procedures(clean, catalog, negated)
    kind_phrases = [(phrase, key) for key, term in KINDS.items() for phrase in term.phrases]
    excluded_kinds = _refused(clean, negated, kind_phrases)
    surgery_asked = [span for span in _phrase_spans(clean, ((word, "surgery") for word in SURGERY_WORDS))
                     if not _inside(span, negated)]
    return QueryAnalysis(
        text=(text or "").strip()[:MAX_QUERY_CHARS],
        concerns=tuple(concerns),
        areas=tuple(_find_terms(clean, AREAS)),
        procedures=tuple(asked),
        urgency=_urgency(clean),
        budget_level=budget_level,
        budget_amount=amount,
        wants_surgery=bool(surgery_asked) and "surgery" not in excluded_kinds,
        excluded_kinds=tuple(excluded_kinds),
        excluded_procedures=tuple(refused),
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


def _refused_by(entry: CatalogEntry, analysis: QueryAnalysis) -> bool:
    kinds = set(entry.kinds) | ({"surgery"} if entry.is_surgery else set())
    if "injection" in kinds:
        kinds.add("needles")
    return entry.slug in analysis.excluded_procedures or bool(kinds & set(analysis.excluded_kinds))


def recommend(
    analysis: QueryAnalysis, catalog: Iterable[CatalogEntry], *, limit: int = 3, text_matches: bool = False
) -> list[Recommendation]:
    """The best treatments for the analysed query: only ones that treat a concern the
    patient named (or that they named), none they refused; those within their budget
    first, then the rest flagged as over it; most relevant first within each.
    `text_matches` also admits treatments whose text merely resembles the words: right
    for a catalog search box ("laser"), not for advice."""
    catalog = tuple(catalog)
    if not catalog:
        return []
    expansion = " ".join(CONCERNS[c].label for c in analysis.concerns)
    similarity = _index(catalog).similarity(normalise(f"{analysis.text} {expansion}"))
    allowed = [entry for entry in catalog if not _refused_by(entry, analysis)]
    # Surgery answers a concern nothing else here treats (a new nose) without being asked for.
    treated_without_surgery = {c for entry in allowed if not entry.is_surgery for c in entry.concerns}
    allowed_slugs = {entry.slug for entry in allowed}
    # A broader concern (wrinkles for crow's feet) stands in only when nothing left treats
    # the concern itself, e.g. when the patient refused botox.
    untreated = {c for c in analysis.concerns if not any(c in entry.concerns for entry in allowed)}

    ranked = []
    for entry, text_score in zip(catalog, similarity):
        if entry.slug not in allowed_slugs:
            continue
        matched = [c for c in analysis.concerns if c in entry.concerns]
        broader = [c for c in untreated if BROADER_CONCERNS.get(c) in entry.concerns]
        mentioned = entry.slug in analysis.procedures
        if not (matched or broader or mentioned or (text_matches and text_score >= MIN_TEXT_SCORE)):
            continue
        if entry.is_surgery and not (
            analysis.wants_surgery or mentioned or any(c not in treated_without_surgery for c in matched)
        ):
            continue
        relevance = float(text_score)
        if analysis.concerns:
            relevance += CONCERN_WEIGHT * (len(matched) + BROADER_SHARE * len(broader)) / len(analysis.concerns)
        if entry.concerns and entry.concerns[0] in matched:
            relevance += PRIMARY_WEIGHT
        if mentioned:
            relevance += MENTION_WEIGHT
        relevance += AREA_WEIGHT * len(set(analysis.areas) & set(entry.areas))
        if entry.is_surgery and not mentioned:
            relevance += SURGERY_PREFERENCE if analysis.wants_surgery else -SURGERY_PREFERENCE
        over_budget = (
            analysis.budget_amount is not None and entry.price_from is not None
            and entry.price_from > analysis.budget_amount
        )
        labels = tuple(dict.fromkeys([CONCERNS[c].label for c in matched]
                                     + [CONCERNS[BROADER_CONCERNS[c]].label for c in broader]))
        ranked.append((over_budget, relevance, entry, labels, mentioned))

    ranked.sort(key=lambda item: (item[0], -item[1]))
    return [
        Recommendation(
            slug=entry.slug,
            name=entry.name,
            relevance=round(relevance, 3),
            matched_concerns=labels,
            reason=_reason(entry, labels, mentioned, analysis),
            price_from=entry.price_from,
            price_unit=entry.price_unit,
            over_budget=over_budget,
        )
        for over_budget, relevance, entry, labels, mentioned in ranked[:limit]
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
