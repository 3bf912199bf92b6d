"""The words patients use: concerns with their synonyms, body areas, urgency and
budget phrases. Shared by the recommender, the voice grammar and the catalog."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    label: str
    phrases: tuple[str, ...]


CONCERNS: dict[str, Term] = {
    "wrinkles": Term("wrinkles", ("wrinkles", "wrinkle", "wrinkly", "lines", "creases", "ageing", "aging", "look older", "look old", "anti ageing", "anti aging", "look younger", "younger looking", "younger")),
    "fine_lines": Term("fine lines", ("fine lines", "fine line", "first lines", "early lines")),
    "forehead_lines": Term("forehead lines", ("forehead lines", "forehead wrinkles", "lines on my forehead", "worry lines", "forehead creases")),
    "frown_lines": Term("frown lines", ("frown lines", "frown line", "elevens", "11 lines", "between my eyebrows", "between my brows", "angry lines", "scowl", "11s", "the 11s")),
    "crows_feet": Term("crow's feet", ("crow's feet", "crows feet", "crowsfeet", "lines around my eyes", "squint lines", "laughter lines around my eyes")),
    "nasolabial_folds": Term("smile lines", ("smile lines", "laugh lines", "nasolabial", "nose to mouth lines", "marionette lines")),
    "volume_loss": Term("lost volume", ("volume loss", "lost volume", "hollow", "hollows", "sunken", "gaunt", "deflated", "flat cheeks", "cheekbones", "cheek volume", "fuller cheeks")),
    "thin_lips": Term("thin lips", ("thin lips", "fuller lips", "bigger lips", "plumper lips", "lip volume", "plump lips", "lips", "lip", "pout", "lip flip", "uneven lips")),
    "sagging_skin": Term("sagging skin", ("sagging", "saggy", "sag", "loose skin", "jowls", "jowl", "droopy", "drooping", "skin laxity", "lift", "lifting", "tighten", "tightening", "firmer skin", "crepey")),
    "jawline_definition": Term("jawline definition", ("jawline", "jaw line", "defined jaw", "chin", "weak chin", "receding chin", "contour", "contouring", "profile", "sharper jaw", "sharp jaw", "sharper jawline", "defined jawline", "chiselled jaw", "sculpted jaw")),
    "double_chin": Term("double chin", ("double chin", "chin fat", "fat under my chin", "submental", "turkey neck")),
    "teeth_grinding": Term("jaw clenching", ("clenching", "teeth grinding", "grinding", "bruxism", "square jaw", "wide jaw", "jaw slimming", "tmj")),
    "acne": Term("acne", ("acne", "spots", "breakouts", "break outs", "pimples", "blackheads", "whiteheads", "congested skin", "blemishes", "zits")),
    "acne_scars": Term("acne scars", ("acne scars", "acne scarring", "scars", "scarring", "pitted", "pock marks", "pockmarks", "ice pick", "scar")),
    "pigmentation": Term("pigmentation", ("pigmentation", "dark spots", "sun spots", "sunspots", "age spots", "liver spots", "melasma", "brown patches", "brown spots", "hyperpigmentation", "sun damage", "freckles", "dark patches")),
    "uneven_tone": Term("uneven skin tone", ("uneven skin tone", "uneven tone", "uneven", "blotchy", "patchy", "skin tone", "discolouration", "discoloration")),
    "redness": Term("redness", ("redness", "red skin", "rosacea", "flushing", "flushed", "red cheeks", "red face", "red")),
    "thread_veins": Term("thread veins", ("thread veins", "thread vein", "spider veins", "broken veins", "broken capillaries", "red veins", "veins", "capillaries")),
    "texture": Term("rough texture", ("texture", "rough skin", "rough", "bumpy", "uneven texture", "smoother skin", "smooth")),
    "enlarged_pores": Term("enlarged pores", ("pores", "large pores", "big pores", "open pores", "enlarged pores")),
    "oiliness": Term("oily skin", ("oily", "oily skin", "shiny", "greasy", "shine", "oil")),
    "dark_circles": Term("dark circles", ("dark circles", "under eye", "under eyes", "under my eyes", "tired eyes", "tear trough", "tear troughs", "eye hollows", "bags under my eyes", "look tired")),
    "dullness": Term("dull skin", ("dull", "dullness", "glow", "glowing", "radiance", "radiant", "lacklustre", "tired skin", "dehydrated", "hydration", "refresh", "fresh", "look less tired", "less tired", "tired looking")),
    "unwanted_hair": Term("unwanted hair", ("hair removal", "unwanted hair", "remove hair", "hairy", "facial hair", "body hair", "shaving", "waxing", "ingrown hairs", "ingrown", "moustache", "bikini line", "underarm hair", "leg hair", "hairs", "chin hairs", "stray hairs", "peach fuzz", "fuzz")),
    "stubborn_fat": Term("stubborn fat", ("stubborn fat", "fat", "love handles", "belly", "tummy", "muffin top", "bulge", "flanks", "saddlebags", "lose inches", "slimmer", "body shape", "bingo wings")),
    "cellulite": Term("cellulite", ("cellulite", "orange peel", "dimpled skin", "dimples on my thighs")),
    "stretch_marks": Term("stretch marks", ("stretch marks", "stretch mark", "striae")),
    "hair_loss": Term("hair loss", ("hair loss", "thinning hair", "losing my hair", "bald", "balding", "receding hairline", "hair thinning", "alopecia", "hair growth", "thinning", "hair is thinning", "hair is falling out", "thin hair", "hair falling out")),
    "excessive_sweating": Term("excessive sweating", ("sweating", "sweaty", "sweat", "hyperhidrosis", "sweat patches", "perspiration")),
    "nose_shape": Term("nose shape", ("nose", "nose job", "bump on my nose", "crooked nose", "big nose", "nose shape", "nasal hump")),
    "hooded_eyelids": Term("hooded eyelids", ("hooded eyelids", "droopy eyelids", "heavy eyelids", "eyelids", "eye bags", "puffy eyes", "eyelid", "hooded", "heavy lids", "droopy lids", "eyelids are heavy", "eyelids are so heavy")),
    "tattoo": Term("unwanted tattoo", ("tattoo", "tattoos", "tattoo removal", "ink")),
    "breast_shape": Term("breast shape", ("breast", "breasts", "boobs", "bust", "cup size", "breast enlargement", "implants")),
}

# Lines with a place of their own are wrinkles too: a treatment for wrinkles is a fair,
# lesser answer to crow's feet when the patient refuses the one made for them.
BROADER_CONCERNS: dict[str, str] = {
    "fine_lines": "wrinkles", "forehead_lines": "wrinkles", "frown_lines": "wrinkles", "crows_feet": "wrinkles",
    "nasolabial_folds": "wrinkles",
}

# Concern words that are also just a body part: "nose" is a concern (its shape) only
# when nothing else is named; in "red veins on my nose" it is where the veins are.
BODY_PART_CONCERN_WORDS: frozenset[str] = frozenset({
    "nose", "lips", "lip", "chin", "jawline", "jaw line", "eyelids", "eyelid", "breast", "breasts", "bust",
    "tummy", "belly", "flanks", "under eye", "under eyes",
})

# Treatments patients ask for that this clinic does not offer: their words name no
# concern ('tummy' in 'tummy tuck' is not a wish for fat freezing), so nothing fits.
NOT_OFFERED: tuple[str, ...] = (
    "tummy tuck", "abdominoplasty", "butt lift", "brazilian butt lift", "bbl", "hair transplant", "teeth whitening",
    "veneers", "gastric band", "gastric sleeve", "weight loss injections", "arm lift", "breast reduction",
    "breast lift", "brow lift surgery",
)

AREAS: dict[str, Term] = {
    "forehead": Term("forehead", ("forehead", "brow", "brows", "eyebrows")),
    "eyes": Term("eyes", ("eyes", "eye", "under eyes", "eyelids", "crow's feet")),
    "cheeks": Term("cheeks", ("cheeks", "cheek", "cheekbones")),
    "lips": Term("lips", ("lips", "lip", "mouth")),
    "nose": Term("nose", ("nose",)),
    "chin": Term("chin", ("chin", "under my chin")),
    "jawline": Term("jawline", ("jawline", "jaw", "jowls")),
    "face": Term("face", ("face", "skin", "complexion", "facial")),
    "neck": Term("neck", ("neck", "decolletage", "chest")),
    "scalp": Term("scalp", ("scalp", "hair", "hairline")),
    "underarms": Term("underarms", ("underarms", "underarm", "armpits", "armpit")),
    "arms": Term("arms", ("arms", "upper arms", "bingo wings")),
    "abdomen": Term("abdomen", ("abdomen", "tummy", "belly", "stomach", "waist", "flanks", "love handles")),
    "thighs": Term("thighs", ("thighs", "thigh", "saddlebags")),
    "legs": Term("legs", ("legs", "leg", "bikini line", "bikini")),
    "back": Term("back", ("back",)),
    "breasts": Term("breasts", ("breast", "breasts", "bust")),
}

# Kinds of treatment a patient may refuse ("no needles", "nothing with lasers", "without
# surgery"). Each catalog treatment lists its kinds; an injection also counts as needles.
KINDS: dict[str, Term] = {
    "needles": Term("needles", ("needles", "needle", "needling", "jabs", "jab", "pins")),
    "injection": Term("injections", (
        "injections", "injection", "injectables", "injectable", "injected", "fillers", "filler", "toxin",
    )),
    "laser": Term("lasers", ("lasers", "laser", "lazer", "lazers", "ipl", "light treatments", "light therapy")),
    "surgery": Term("surgery", (
        "surgery", "surgical", "surgeon", "operation", "operations", "under the knife", "going under",
        "the knife", "scalpel", "invasive", "general anaesthetic", "general anesthetic",
    )),
}


# Misspellings that are English words too, so the recommender's spelling correction
# (which leaves dictionary words alone) would not catch them.
MISSPELLINGS: dict[str, str] = {
    "filer": "filler", "filers": "fillers", "scaring": "scarring",
}


URGENCY_PHRASES: dict[str, tuple[str, ...]] = {
    # Checked in this order: the first level with a matching phrase wins.
    "immediate": (
        "asap", "as soon as possible", "urgent", "urgently", "right away", "straight away", "immediately",
        "this week", "next week", "this month", "next month", "in two weeks", "in 2 weeks", "in three weeks",
        "in 3 weeks", "in a few weeks", "in a couple of weeks", "tomorrow", "this weekend", "next weekend",
        "wedding next", "party next", "holiday next", "soon as i can", "right now",
    ),
    "soon": (
        "soon", "in a few months", "in a couple of months", "this summer", "this spring", "this year",
        "before summer", "before christmas", "wedding", "my holiday", "a holiday", "an event", "big day",
        "in the spring", "in the summer", "next few months",
    ),
    "flexible": (
        "no rush", "no hurry", "someday", "some day", "eventually", "just looking", "just browsing",
        "thinking about", "considering", "next year", "not sure when", "in the future", "one day",
    ),
}

BUDGET_PHRASES: dict[str, tuple[str, ...]] = {
    "high": (
        "money is no object", "money's no object", "money is not an issue", "money isn't an issue",
        "cost is not an issue", "price is not an issue", "whatever it costs", "whatever it takes",
        "best available", "the best", "premium", "luxury", "spare no expense", "high budget", "big budget",
    ),
    "low": (
        "cheap", "cheapest", "affordable", "on a budget", "tight budget", "low budget", "small budget",
        "not much money", "can't afford", "cannot afford", "inexpensive", "low cost", "budget friendly",
    ),
}

# A budget becomes a level for the scoring rules, the one way for both tools: a figure
# typed in the treatment finder, and the cost calculator's ranges (by their lower
# bound), so "around £400" and "Under £500" are both low.
BUDGET_LEVEL_FLOORS = (("high", 1500), ("medium", 500))


def budget_level_for(amount: float) -> str:
    for level, floor in BUDGET_LEVEL_FLOORS:
        if amount >= floor:
            return level
    return "low"


def speech_phrases(procedure_names_and_keywords: list[str]) -> list[str]:
    """Every domain phrase the voice recogniser should know."""
    phrases = set(procedure_names_and_keywords)
    for table in (CONCERNS, AREAS):
        for term in table.values():
            phrases.update(term.phrases)
    for words in (*URGENCY_PHRASES.values(), *BUDGET_PHRASES.values()):
        phrases.update(words)
    return sorted(phrases)
