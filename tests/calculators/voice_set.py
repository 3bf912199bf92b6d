"""The labelled voice set: what patients say, and how we synthesise them saying it.

Each sentence is rendered by espeak-ng in four conditions (voices, speeds, added
noise, a telephone line), so one sentence gives four recordings. The set is split
in two once, by a hash of each sentence, before any tuning: the recogniser is tuned
on TUNE only, and the figures in the README are measured on TEST, which tuning
never looks at. Recordings are made at measurement time (espeak-ng and sox), never
stored. Used by bench/voice_wer.py and tests/calculators/test_speech.py.
"""

import hashlib
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SENTENCES = (
    "I want botox for my forehead wrinkles",
    "how much is lip filler",
    "I would like fuller lips before my holiday",
    "I have acne scars on my cheeks and want microneedling",
    "can you do something for the lines between my eyebrows",
    "I have crow's feet around my eyes",
    "my cheeks look hollow since I lost weight",
    "I need laser hair removal on my legs",
    "what can you do for dark circles under my eyes",
    "I'm looking for a chemical peel for pigmentation",
    "I have sun spots on my face",
    "my skin looks dull and tired",
    "I would like a hydrafacial before my wedding",
    "I want to get rid of my double chin",
    "I have stubborn fat on my tummy",
    "how much does fat freezing cost",
    "I'd like a thread lift for my sagging jowls",
    "I have thread veins on my legs",
    "my skin is red and I think I have rosacea",
    "I keep getting breakouts and blackheads",
    "I have oily skin and large pores",
    "I want a more defined jawline",
    "I grind my teeth at night and my jaw is sore",
    "I sweat a lot under my arms",
    "my hair is thinning on top",
    "I want to remove an old tattoo",
    "I'm interested in a nose job",
    "my eyelids are droopy and heavy",
    "I'd like a facelift",
    "I want liposuction on my thighs",
    "I'm thinking about breast augmentation",
    "I have cellulite on my thighs",
    "I have stretch marks on my tummy",
    "can I get skin boosters for my neck",
    "I'd like dermaplaning for smoother skin",
    "I want the vampire facial",
    "do you do morpheus8",
    "I'm interested in HIFU for loose skin",
    "I have melasma on my forehead",
    "I have deep smile lines",
    "I have some fine lines around my mouth",
    "I need something for my acne as soon as possible",
    "my budget is five hundred pounds",
    "I can spend up to two thousand pounds",
    "I want lip filler next week",
    "I would like botox this summer",
    "no rush, I am just looking",
    "I want something cheap for my wrinkles",
    "money is no object, I want the best treatment",
    "I have a party next month and want to look fresh",
    "my skin has an uneven tone and brown patches",
    "I have a rough texture on my cheeks",
    "I have bags under my eyes and I look tired",
    "I want to tighten the skin on my neck",
    "I have hairy arms and want them smooth",
    "I have love handles that will not go away",
    "I want cheek filler for more volume",
    "I want tear trough filler",
    "how many sessions of laser resurfacing do I need",
    "my nose has a bump on it",
    "I would like jaw slimming injections",
    "I have broken capillaries around my nose",
    "I want fat dissolving injections under my chin",
    "is there a treatment for excessive sweating",
    "I'd like an IPL photofacial for redness",
    "I want PRP for hair loss",
)

# Voices that espeak-ng ships (`espeak-ng --voices=en`, plus its +f/+m variants);
# mbrola voices are left out because they need extra packages.
VOICES = ("en-us", "en-gb", "en-us+f3", "en-gb-x-rp", "en+m3", "en-us+f2", "en-gb-scotland", "en-us-nyc")
SPEEDS = (130, 145, 160, 175, 180)
# Each sentence is heard clean, with background noise, over a telephone line and
# both at once.
EFFECTS = ("clean", "noise", "phone", "noisy-phone")
# White noise at this amplitude is about 17 dB under espeak-ng's speech (RMS over
# the whole clip, pauses included).
NOISE_VOLUME = 0.02


@dataclass(frozen=True)
class Recording:
    sentence: str
    voice: str
    speed: int
    effect: str

    @property
    def name(self) -> str:
        return f"{self.voice} {self.speed} wpm {self.effect}"


def _hash(sentence: str) -> str:
    return hashlib.sha256(sentence.encode()).hexdigest()


# Half the sentences by their hash: stable whatever order they are written in.
_ORDERED = sorted(SENTENCES, key=_hash)
TUNE = tuple(s for s in SENTENCES if s in _ORDERED[: len(_ORDERED) // 2])
TEST = tuple(s for s in SENTENCES if s not in TUNE)


def recordings(sentences) -> list[Recording]:
    """Four recordings of each sentence, voice and speed varying across the set."""
    result = []
    for sentence in sentences:
        index = SENTENCES.index(sentence)
        for step, effect in enumerate(EFFECTS):
            voice = VOICES[(index + 3 * step) % len(VOICES)]
            speed = SPEEDS[(index + 2 * step) % len(SPEEDS)]
            result.append(Recording(sentence, voice, speed, effect))
    return result


def render(recording: Recording) -> bytes:
    """The recording as a 16 kHz mono 16-bit WAV, made with espeak-ng and sox."""
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        raw, speech, out = folder / "raw.wav", folder / "speech.wav", folder / "out.wav"
        _run("espeak-ng", "-v", recording.voice, "-s", str(recording.speed), "-w", str(raw), recording.sentence)
        _run("sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(speech))
        if "noise" in recording.effect:
            noise, noisy = folder / "noise.wav", folder / "noisy.wav"
            # Seeded, so the same recording always gets the same noise.
            _run("sox", "-R", str(speech), str(noise), "synth", "whitenoise", "vol", str(NOISE_VOLUME))
            _run("sox", "-m", "-v", "1", str(speech), "-v", "1", str(noise), str(noisy))
            speech = noisy
        if "phone" in recording.effect:
            # A telephone passes 300-3400 Hz at 8 kHz; the phone app sends it on at 16 kHz.
            _run("sox", str(speech), "-r", "8000", str(folder / "phone.wav"), "sinc", "300-3400")
            _run("sox", str(folder / "phone.wav"), "-r", "16000", str(out))
        else:
            out = speech
        return out.read_bytes()


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True)


def words(text: str) -> list[str]:
    """Lower-case words without apostrophes, so that "crow's feet" and "crows feet",
    which the recogniser may write for the same sound, count as the same words."""
    text = text.lower().replace("\u2019", "").replace("'", "")
    return "".join(c if c.isalnum() else " " for c in text).split()


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    """Word substitutions, deletions and insertions (Levenshtein over words)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]
