"""Offline transcription of patients' voice notes: decode what a phone or browser
recorded with PyAV, then recognise it with pocketsphinx using a language model
built from the clinic's own vocabulary, so that "botox for my forehead wrinkles"
is heard as such rather than as the nearest general English."""

import io
import re
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, cycle
from pathlib import Path

import av
import numpy as np
import pocketsphinx
from pocketsphinx.lm import ArpaBoLM

from calculators.vocabulary import AREAS, BUDGET_PHRASES, CONCERNS, URGENCY_PHRASES

MAX_AUDIO_SECONDS = 60
# Encoders pad a recording stopped right at the limit by a few frames.
LIMIT_SLACK_SECONDS = 0.5
SAMPLE_RATE = 16_000
# How far under the recording's own level the comfort noise sits (see
# _with_comfort_noise); tuned on the labelled set's tune half.
COMFORT_NOISE_DB = 25

# Only the containers phones and browsers record into are let through to FFmpeg:
# an upload is untrusted, and FFmpeg's other demuxers (playlists, concatenation,
# images) have no business parsing it.
AUDIO_FORMATS = "wav,mov,mp4,m4a,3gp,3g2,matroska,webm,ogg,mp3,aac,amr,flac,caf"

# Why a small n-gram model and not a grammar: on 81 espeak-ng recordings (27
# patient sentences, 3 voices) with a 33-phrase vocabulary, a JSGF/FSG loop
# that lets any vocabulary word follow any other got 51% of words wrong and
# found 64% of the clinic's words, at ~0.9 s a clip; this model gets 26% wrong
# and finds 82%, at ~0.2 s. A loop gives no word any context, so short carrier
# words creep in everywhere; the model knows that "forehead" comes after "my".
# A grammar of whole sentences would be exact but refuse anything else said.

# What patients say around the clinic's terms. The language model is built from
# these frames with every domain phrase in the slots, so it expects the domain
# words in the places people put them, yet its back-off still lets any
# vocabulary word follow any other.
FRAMES = (
    "i want {}",
    "i would like {}",
    "i'd like {}",
    "i need {}",
    "i'm looking for {}",
    "i am interested in {}",
    "can i get {}",
    "can i have {}",
    "do you do {}",
    "do you offer {}",
    "how much is {}",
    "how much does {} cost",
    "what can you do for {}",
    "what can i do about {}",
    "something for {}",
    "something for my {}",
    "help with my {}",
    "i have {}",
    "i've got {}",
    "i don't like my {}",
    "i want to get rid of my {}",
    "{} please",
    "{}",
)
PAIR_FRAMES = (
    "i want {} for my {}",
    "i would like {} for my {}",
    "i'd like {} on my {}",
    "{} for my {}",
    "{} on my {}",
    "{} and {}",
    "{} with {}",
    "{} before my {}",
    "{} {}",
)
# Each phrase meets this many partners in each pair frame: enough for the model
# to learn what follows a phrase, far fewer sentences than every pair.
PARTNERS = 2
AMOUNTS = (
    "fifty", "one hundred", "two hundred", "three hundred", "four hundred", "five hundred",
    "six hundred", "seven hundred", "eight hundred", "a thousand", "one thousand",
    "fifteen hundred", "two thousand", "three thousand", "five thousand", "ten thousand",
)
BUDGET_FRAMES = (
    "my budget is {} pounds",
    "my budget is about {} pounds",
    "i can spend up to {} pounds",
    "around {} pounds",
)
# The frames above put any phrase in any slot ("something for my botox"). These
# put each kind of phrase where it belongs, in whole clauses as patients say them
# ("i have {concern} on my {area}" ... "and want {procedure}" ... "before my
# wedding next month"), so the model also learns the small words between the
# clinic's words: without them "i have wrinkles ... and want botox before my
# wedding next month" was heard as "i wrinkles ... on botox ... next on".
CONCERN_CLAUSES = (
    "i have {concern}", "i have {concern} on my {area}", "i've got {concern} on my {area}",
    "i have some {concern}", "i have a lot of {concern}", "my {area} has {concern}",
    "i don't like the {concern} on my {area}", "i want to get rid of my {concern}", "i hate my {concern}",
    "what can you do for {concern}", "what can i do about my {concern}", "something for {concern} on my {area}",
    "help with {concern}", "i'm worried about {concern}", "i keep getting {concern}", "my {area} looks {concern}",
    "my skin is {concern}", "my skin looks {concern}",
)
PROCEDURE_CLAUSES = (
    "i want {procedure}", "i would like {procedure}", "i'd like {procedure}", "i need {procedure}",
    "i'm interested in {procedure}", "i am interested in {procedure}", "i'm looking for {procedure}",
    "i'm thinking about {procedure}", "can i get {procedure}", "can i have {procedure}", "do you do {procedure}",
    "do you offer {procedure}", "how much is {procedure}", "how much does {procedure} cost",
    "how many sessions of {procedure} do i need", "i want {procedure} for my {concern}",
    "i'd like {procedure} for my {area}", "i want {procedure} on my {area}", "is there a treatment for {concern}",
    "i want {procedure} for {concern}", "{procedure} for my {area}",
)
# Each clause also appears once with a join and once with a tail (taken in turn).
JOINS = (
    "{clause} and want {procedure}", "{clause} and i want {procedure}", "{clause} and would like {procedure}",
    "{clause} and i'd like {procedure}", "{clause} and {other}",
)
TAILS = (
    "{clause} before my {event} {urgency}", "{clause} {urgency}", "{clause} before my {event}",
    "{clause} my budget is {amount} pounds", "{clause} i can spend {amount} pounds",
)
EVENTS = ("wedding", "holiday", "party", "birthday")
# Every word a patient may plausibly use beyond the frames, each in the CMU
# dictionary; the model knows them as single words.
CARRIER_WORDS = """
    a about after again all also am an and any anything are around as at away be been before
    best better but by can can't could day days do does don't done each early eight eleven
    even ever every excessive eyes face feel fifteen fifty find five for forty four from get getting
    give go going good got had has have having hello help hi hoping how hundred i i'd i'll
    i'm i've if in interested is it it's just keep know last late less like little look looking
    looks lot love make many maybe me more most much my need next nine no not now of off offer on
    one only or other our out over pay please pounds price quite really rid right see seven
    sessions should six skin so some something soon sort spend start still summer than thank thanks
    that the their them then there these they thing things think thirty this those three
    time to today too treatment treatments try twenty two under up us very want wanted was
    way we week weeks well were what when which while will with would year years yes you
    your
""".split()

# Pronunciations (CMU ARPAbet, as the en-us acoustic model expects) for clinic
# words the CMU dictionary lacks and the rules in _pronunciation would get wrong.
PRONUNCIATIONS = {
    "ageing": "EY JH IH NG",
    "alopecia": "AE L AH P IY SH AH",
    "aqualyx": "AE K W AH L IH K S",
    "bleph": "B L EH F",
    "blepharoplasty": "B L EH F ER OW P L AE S T IY",
    "bruxism": "B R AH K S IH Z AH M",
    "cellulite": "S EH L Y AH L AY T",
    "clenching": "K L EH N CH IH NG",
    "co2": "S IY OW T UW",
    "contouring": "K AA N T UH R IH NG",
    "crepey": "K R EY P IY",
    "cryo": "K R AY OW",
    "cryolipolysis": "K R AY OW L IH P AA L AH S IH S",
    "decolletage": "D EY K AA L AH T AA ZH",
    "dermapen": "D ER M AH P EH N",
    "dermaplane": "D ER M AH P L EY N",
    "dermaplaning": "D ER M AH P L EY N IH NG",
    "dermaroller": "D ER M AH R OW L ER",
    "discolouration": "D IH S K AH L ER EY SH AH N",
    "dysport": "D IH S P AO R T",
    "endermologie": "EH N D ER M AA L AH JH IY",
    "erbium": "ER B IY AH M",
    "fraxel": "F R AE K S AH L",
    "hifu": "HH AY F UW",
    "hyperhidrosis": "HH AY P ER HH AY D R OW S IH S",
    "ingrown": "IH N G R OW N",
    "ipl": "AY P IY EH L",
    "juvederm": "JH UW V AH D ER M",
    "kybella": "K AY B EH L AH",
    "lacklustre": "L AE K L AH S T ER",
    "lipo": "L IH P OW",
    "marionette": "M EH R IY AH N EH T",
    "masseter": "M AH S IY T ER",
    "melasma": "M AH L AE Z M AH",
    "moisturiser": "M OY S CH ER AY Z ER",
    "morpheus": "M AO R F IY AH S",
    "nasolabial": "N EY Z OW L EY B IY AH L",
    "pdo": "P IY D IY OW",
    "picosure": "P IY K OW SH UH R",
    "plumper": "P L AH M P ER",
    "polynucleotides": "P AA L IY N UW K L IY AH T AY D Z",
    "profhilo": "P R OW F IY L OW",
    "restylane": "R EH S T AH L EY N",
    "rosacea": "R OW Z EY SH AH",
    "saggy": "S AE G IY",
    "salicylic": "S AE L AH S IH L IH K",
    "striae": "S T R AY IY",
    "tca": "T IY S IY EY",
    "ultherapy": "AH L TH EH R AH P IY",
    "vaser": "V EY Z ER",
    "wrinkly": "R IH NG K L IY",
    "zits": "Z IH T S",
}
# British ways of saying clinic words that the American CMU dictionary knows one
# way only: patients here say "BOT-ox", the one word most worth catching.
BRITISH_PRONUNCIATIONS = {
    "botox": "B AA T AA K S",
    "forehead": "F AO R IH D",
}
LETTERS = {
    "a": "EY", "b": "B IY", "c": "S IY", "d": "D IY", "e": "IY", "f": "EH F", "g": "JH IY",
    "h": "EY CH", "i": "AY", "j": "JH EY", "k": "K EY", "l": "EH L", "m": "EH M", "n": "EH N",
    "o": "OW", "p": "P IY", "q": "K Y UW", "r": "AA R", "s": "EH S", "t": "T IY", "u": "Y UW",
    "v": "V IY", "w": "D AH B AH L Y UW", "x": "EH K S", "y": "W AY", "z": "Z IY",
}
NUMBERS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
    " fifteen sixteen seventeen eighteen nineteen"
).split()
TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()

WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")


class SpeechError(ValueError):
    """Audio we cannot transcribe; str(error) is a message fit to show a patient."""


@dataclass(frozen=True)
class Transcript:
    text: str  # lower-case words separated by single spaces, "" if nothing recognised
    duration_seconds: float


@dataclass(frozen=True)
class _Recogniser:
    decoder: pocketsphinx.Decoder
    # A Decoder holds one utterance at a time; web server threads take turns.
    lock: threading.Lock


def decode_audio(data: bytes) -> tuple[bytes, float]:
    """PCM 16 kHz mono s16le and its duration in seconds; raises SpeechError."""
    if not data:
        raise SpeechError("The recording is empty.")
    max_samples = (MAX_AUDIO_SECONDS + LIMIT_SLACK_SECONDS) * SAMPLE_RATE
    chunks: list[bytes] = []
    samples = 0
    try:
        with av.open(io.BytesIO(data), container_options={"format_whitelist": AUDIO_FORMATS}) as container:
            if not container.streams.audio:
                raise SpeechError("We could not find any sound in this recording.")
            # The header refuses an hour-long upload before decoding it; counting
            # the samples catches files without a duration, as Chrome records them.
            if container.duration and container.duration / av.time_base * SAMPLE_RATE > max_samples:
                raise _too_long()
            resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            for frame in chain(container.decode(audio=0), [None]):
                for resampled in resampler.resample(frame):
                    chunks.append(resampled.to_ndarray().tobytes())
                    samples += resampled.samples
                if samples > max_samples:
                    raise _too_long()
    except av.FFmpegError as error:
        raise SpeechError("We could not read this recording; please try again or type your question.") from error
    if not samples:
        raise SpeechError("We could not find any sound in this recording.")
    return b"".join(chunks), samples / SAMPLE_RATE


def transcribe(data: bytes, *, phrases: Iterable[str]) -> Transcript:
    """Transcribe a recording with a recogniser built from the domain phrases
    (procedure names, concern words, body areas, urgency words; each may be several words)."""
    pcm, duration = decode_audio(data)
    recogniser = _recogniser(_vocabulary(phrases))
    with recogniser.lock:
        decoder = recogniser.decoder
        decoder.start_utt()
        # The whole recording at once lets pocketsphinx normalise the loudness
        # over all of it rather than guess from the first second.
        decoder.process_raw(_with_comfort_noise(pcm), full_utt=True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
    text = hypothesis.hypstr if hypothesis else ""
    return Transcript(text=" ".join(text.lower().split()), duration_seconds=duration)


def _too_long() -> SpeechError:
    return SpeechError(f"Please keep the recording under {MAX_AUDIO_SECONDS} seconds.")


def _with_comfort_noise(pcm: bytes) -> bytes:
    """The audio with faint white noise, COMFORT_NOISE_DB under its own level.

    The acoustic model learnt from real recordings, which always carry some
    noise; stretches of exact zeros (synthesised or digitally muted audio) and a
    telephone line's empty band above 3.4 kHz derail its features. On the tune
    half of the labelled set (tests/calculators/voice_set.py) this noise took
    word errors from 65% to 54% (clean recordings 54% to 34%, telephone 79% to
    70%); 20 and 30 dB under did worse. The noise is seeded, so the same
    recording always gives the same text."""
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    level = np.sqrt(np.mean(samples**2)) * 10 ** (-COMFORT_NOISE_DB / 20) if samples.size else 0.0
    noise = np.random.default_rng(0).normal(0, max(level, 1.0), samples.size)
    return np.clip(samples + noise, -32768, 32767).astype(np.int16).tobytes()


def _words(phrase: str) -> list[str]:
    return WORD.findall(phrase.lower().replace("\u2019", "'"))


def _vocabulary(phrases: Iterable[str]) -> tuple[str, ...]:
    # Sorted and normalised so that the same vocabulary in any order or case
    # shares one cached recogniser.
    return tuple(sorted({" ".join(words) for phrase in phrases if (words := _words(phrase))}))


# Each recogniser holds its own copy of the acoustic model (about 50 MB): room
# for the catalog's vocabulary and the one before an edit, not more.
@lru_cache(maxsize=2)
def _recogniser(vocabulary: tuple[str, ...]) -> _Recogniser:
    decoder = pocketsphinx.Decoder(
        hmm=pocketsphinx.get_model_path("en-us/en-us"),
        dict=pocketsphinx.get_model_path("en-us/cmudict-en-us.dict"),
        lm=None,
        # Score each frame against 8 of the closest Gaussians rather than 4: on
        # the tune half, with the clause frames, a few points fewer word errors.
        topn=8,
        loglevel="FATAL",
    )
    pronounceable = [phrase for phrase in vocabulary if _add_words(decoder, phrase.split())]
    # pocketsphinx reads language models from files only.
    with tempfile.TemporaryDirectory() as directory:
        carrier_words = Path(directory) / "carrier.txt"
        carrier_words.write_text("\n".join(CARRIER_WORDS))
        model = ArpaBoLM(text=_corpus(pronounceable), add_start=True, word_file=str(carrier_words))
        model.compute()
        arpa = Path(directory) / "domain.arpa"
        model.write_file(str(arpa))
        decoder.add_lm_file("domain", str(arpa))
    decoder.activate_search("domain")
    return _Recogniser(decoder=decoder, lock=threading.Lock())


def _add_words(decoder: pocketsphinx.Decoder, words: list[str]) -> bool:
    """Teach the decoder the phrase's words; False if one cannot be pronounced,
    since a phrase with a hole in it would teach the model a wrong sentence."""
    missing = [word for word in words if decoder.lookup_word(word) is None]
    phones = {word: _pronunciation(word, decoder) for word in missing}
    if None in phones.values():
        return False
    for word in missing:
        decoder.add_word(word, phones[word], True)
    for word in set(words) & BRITISH_PRONUNCIATIONS.keys():
        if decoder.lookup_word(f"{word}(2)") is None:
            decoder.add_word(f"{word}(2)", BRITISH_PRONUNCIATIONS[word], True)
    return True


def _pronunciation(word: str, decoder: pocketsphinx.Decoder) -> str | None:
    """Phones for a word outside the CMU dictionary, or None if we cannot tell.

    In order: the hand-written table; a hyphenated or letters-and-digits word
    as its parts ("anti-wrinkle", "morpheus8"); a number up to 99; a short word
    without vowels as its letters ("prp", "tmj"); two dictionary words run
    together ("microneedling", "jawline")."""
    known = PRONUNCIATIONS.get(word) or decoder.lookup_word(word)
    if known:
        return known
    parts = re.findall(r"[a-z']+|[0-9]+", word.replace("-", " "))
    if len(parts) > 1:
        phones = [_pronunciation(part, decoder) for part in parts]
        return None if None in phones else " ".join(phones)
    if word.isdigit():
        spoken = _spoken_number(int(word))
        return " ".join(decoder.lookup_word(part) for part in spoken.split()) if spoken else None
    if re.fullmatch(r"[b-df-hj-np-tv-xz]{1,5}", word):
        return " ".join(LETTERS[letter] for letter in word)
    for split in range(len(word) - 3, 2, -1):
        head = PRONUNCIATIONS.get(word[:split]) or decoder.lookup_word(word[:split])
        tail = PRONUNCIATIONS.get(word[split:]) or decoder.lookup_word(word[split:])
        if head and tail:
            return f"{head} {tail}"
    return None


def _spoken_number(number: int) -> str | None:
    if number < 20:
        return NUMBERS[number]
    if number < 100:
        tens, units = divmod(number, 10)
        return TENS[tens - 2] + (f" {NUMBERS[units]}" if units else "")
    return None


def _corpus(phrases: list[str]) -> str:
    sentences = [frame.format(phrase) for frame in FRAMES for phrase in phrases]
    for offset in range(1, PARTNERS + 1):
        partners = phrases[offset:] + phrases[:offset]
        sentences += [frame.format(a, b) for frame in PAIR_FRAMES for a, b in zip(phrases, partners)]
    sentences += [frame.format(amount) for frame in BUDGET_FRAMES for amount in AMOUNTS]
    sentences += _clauses(phrases)
    return "\n".join(sentences) + "\n"


def _clauses(phrases: list[str]) -> list[str]:
    """The clause frames filled with phrases of the right kind, each clause on its
    own, with a join and with a tail; the other slots take phrases in turn."""
    given = set(phrases)
    concerns = sorted(given & {phrase for term in CONCERNS.values() for phrase in term.phrases})
    areas = sorted(given & {phrase for term in AREAS.values() for phrase in term.phrases})
    urgencies = sorted(given & {phrase for words in URGENCY_PHRASES.values() for phrase in words})
    budgets = {phrase for words in BUDGET_PHRASES.values() for phrase in words}
    # What the vocabulary does not know as a concern, area, urgency or budget
    # phrase is a treatment's name or other name.
    procedures = sorted(given - set(concerns) - set(areas) - set(urgencies) - budgets)
    if not (concerns and areas and urgencies and procedures):
        return []
    turns = {name: cycle(values) for name, values in (
        ("concern", concerns), ("area", areas), ("procedure", procedures), ("urgency", urgencies),
        ("event", EVENTS), ("amount", AMOUNTS),
    )}

    def fill(frame: str, **given_slots: str) -> str:
        slots = {
            name: next(values) for name, values in turns.items()
            if name not in given_slots and "{" + name + "}" in frame
        }
        return frame.format(**{**slots, **given_slots})

    clauses = [fill(frame, concern=concern) for concern in concerns for frame in CONCERN_CLAUSES]
    clauses += [fill(frame, procedure=procedure) for procedure in procedures for frame in PROCEDURE_CLAUSES]
    sentences = list(clauses)
    for index, clause in enumerate(clauses):
        other = clauses[index * 7919 % len(clauses)]  # a far-off clause, by a prime stride
        sentences.append(fill(JOINS[index % len(JOINS)], clause=clause, other=other))
        sentences.append(fill(TAILS[index % len(TAILS)], clause=clause))
    return sentences
