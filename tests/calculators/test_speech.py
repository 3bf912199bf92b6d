"""Voice notes become text offline, with the clinic's own words heard as such."""

import io
import shutil
import subprocess
import wave

import av
import numpy as np
import pytest

from calculators.catalog import catalog_entries
from calculators.speech import MAX_AUDIO_SECONDS, SpeechError, decode_audio, transcribe
from calculators.vocabulary import speech_phrases
from tests.calculators.voice_set import TEST, edit_distance, recordings, render, words

PHRASES = [
    "botox", "anti-wrinkle injections", "dermal filler", "lip filler", "cheek filler", "chemical peel",
    "microneedling", "laser hair removal", "laser resurfacing", "hydrafacial", "prp", "thread lift",
    "forehead", "frown lines", "crow's feet", "wrinkles", "fine lines", "lips", "cheeks", "jawline",
    "under eyes", "dark circles", "acne scars", "pigmentation", "redness", "sagging skin", "double chin",
    "hair removal", "wedding", "next month", "next week", "as soon as possible", "budget",
]
BOTOX = "I want botox for my forehead wrinkles"
# The sentence of issue 9, once heard as "i wrinkles on my forehead on botox before
# my wedding next on".
WEDDING = "I have wrinkles on my forehead and want botox before my wedding next month"
# Eight recordings of the held-out half, two in each condition (clean, noise,
# telephone, both): quick enough for every run.
HELD_OUT = recordings(TEST)[::17]
# Word errors measured on HELD_OUT with the catalog's vocabulary: 32 in 57 words
# (56%; 38% on the whole test half, 61% before the clause frames and comfort
# noise). The margin allows for other espeak-ng and sox versions.
HELD_OUT_WER_FLOOR = 0.65

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is needed to synthesise speech (apt-get install espeak-ng)"
)


@pytest.fixture
def speak(tmp_path):
    """A sentence as espeak-ng's WAV (22.05 kHz, so decoding resamples it too)."""

    def speak(sentence: str) -> bytes:
        path = tmp_path / "speech.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(path), sentence], check=True)
        return path.read_bytes()

    return speak


@pytest.fixture
def catalog_phrases(db):
    """The vocabulary the site gives the recogniser: the catalog's names and keywords
    with the concern, area, urgency and budget phrases."""
    return speech_phrases([name for entry in catalog_entries() for name in (entry.name, *entry.keywords)])


class _Unseekable(io.BytesIO):
    """A stream the muxer cannot go back into, so the file has no duration in its
    header, like the WebM that Chrome's MediaRecorder uploads."""

    def seekable(self) -> bool:
        return False


def _wav(samples: np.ndarray, rate: int) -> bytes:
    output = io.BytesIO()
    with wave.open(output, "wb") as file:
        file.setnchannels(samples.shape[1] if samples.ndim == 2 else 1)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes(samples.astype("<i2").tobytes())
    return output.getvalue()


def _encode(audio: bytes, container: str, codec: str, rate: int, output: io.BytesIO | None = None) -> bytes:
    output = output or io.BytesIO()
    with av.open(io.BytesIO(audio)) as source, av.open(output, "w", format=container) as target:
        stream = target.add_stream(codec, rate=rate, layout="mono")
        for frame in source.decode(audio=0):
            frame.pts = None
            target.mux(stream.encode(frame))
        target.mux(stream.encode(None))
    return output.getvalue()


@needs_espeak
@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (BOTOX, {"botox", "forehead", "wrinkles"}),
        ("I want lip filler before my wedding", {"lip", "filler", "wedding"}),
        ("microneedling for acne scars please", {"microneedling", "acne", "scars"}),
        ("a thread lift for sagging skin on my jawline", {"thread", "lift", "sagging", "skin", "jawline"}),
        ("I need laser hair removal as soon as possible", {"laser", "hair", "removal", "soon", "possible"}),
    ],
)
def test_the_clinics_words_are_heard(speak, sentence, expected):
    transcript = transcribe(speak(sentence), phrases=PHRASES)

    assert expected <= set(transcript.text.split()), transcript.text
    assert transcript.text == " ".join(transcript.text.lower().split())
    assert 1.5 < transcript.duration_seconds < 5


@needs_espeak
def test_the_small_words_between_the_clinics_words_are_heard(speak, catalog_phrases):
    transcript = transcribe(speak(WEDDING), phrases=catalog_phrases)

    assert {"have", "want", "month", "wrinkles", "forehead", "botox", "wedding"} <= set(transcript.text.split()), (
        transcript.text
    )


@pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("sox") is None, reason="needs espeak-ng and sox")
def test_held_out_recordings_keep_their_word_error_rate(catalog_phrases):
    errors = reference_words = 0
    for recording in HELD_OUT:
        heard = transcribe(render(recording), phrases=catalog_phrases).text
        errors += edit_distance(words(recording.sentence), words(heard))
        reference_words += len(words(recording.sentence))

    assert errors / reference_words <= HELD_OUT_WER_FLOOR


@needs_espeak
@pytest.mark.parametrize(
    ("container", "codec", "rate"),
    [("ipod", "aac", 44100), ("webm", "libopus", 48000), ("ogg", "libopus", 48000), ("mp3", "libmp3lame", 44100)],
    ids=["iphone-m4a-aac", "chrome-webm-opus", "firefox-ogg-opus", "mp3"],
)
def test_phone_and_browser_recordings_are_transcribed(speak, container, codec, rate):
    recording = _encode(speak(BOTOX), container, codec, rate)

    transcript = transcribe(recording, phrases=PHRASES)

    assert {"botox", "forehead", "wrinkles"} <= set(transcript.text.split()), transcript.text


@needs_espeak
def test_phrases_it_cannot_pronounce_are_left_out(speak):
    phrases = [*PHRASES, "xzqkvb", "qqzx peel"]

    transcript = transcribe(speak(BOTOX), phrases=phrases)

    assert {"botox", "forehead", "wrinkles"} <= set(transcript.text.split()), transcript.text


def test_decoding_gives_16khz_mono_16bit_pcm():
    rate = 44100
    tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(int(1.5 * rate)) / rate)).astype(np.int16)

    pcm, duration = decode_audio(_wav(np.column_stack([tone, tone]), rate))

    assert duration == pytest.approx(1.5, abs=0.01)
    assert len(pcm) == pytest.approx(2 * 16000 * 1.5, abs=2 * 160)
    assert np.abs(np.frombuffer(pcm, dtype="<i2")).max() > 4000


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (np.random.default_rng(0).bytes(20_000), "could not read"),
        (b"I want botox for my forehead wrinkles before my wedding.\n" * 20, "could not read"),
    ],
    ids=["empty", "random-bytes", "text-file"],
)
def test_what_is_not_audio_is_refused(data, message):
    with pytest.raises(SpeechError, match=message):
        transcribe(data, phrases=PHRASES)


def test_a_recording_over_a_minute_is_refused():
    silence = _wav(np.zeros(8000 * (MAX_AUDIO_SECONDS + 1), dtype=np.int16), 8000)

    with pytest.raises(SpeechError, match=f"under {MAX_AUDIO_SECONDS} seconds"):
        transcribe(silence, phrases=PHRASES)


def test_a_long_recording_without_a_duration_in_its_header_is_refused():
    silence = _wav(np.zeros(16000 * (MAX_AUDIO_SECONDS + 1), dtype=np.int16), 16000)
    webm = _encode(silence, "webm", "libopus", 48000, _Unseekable())

    with pytest.raises(SpeechError, match=f"under {MAX_AUDIO_SECONDS} seconds"):
        decode_audio(webm)
