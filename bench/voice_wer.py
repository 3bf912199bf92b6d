"""`make voice-wer`: how well the voice recogniser hears patients.

Synthesises the labelled set (tests/calculators/voice_set.py: espeak-ng voices and
speeds, clean, noisy and telephone) and prints, for each half, the word error rate
over all words and over the clinic's words alone, the recommender's top-1 agreement
(the transcript's first suggestion equals the one for the sentence as written) and
the transcription time. Tune the recogniser on `--half tune`; the README quotes
`--half test`, which tuning never looks at. Needs espeak-ng and sox.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(tempfile.mkdtemp(prefix="clinic-voice-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
os.environ["DATABASE_URL"] = f"sqlite:///{WORK / 'voice.sqlite3'}"
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # noqa: E402

from calculators.catalog import catalog_entries  # noqa: E402
from calculators.recommender import analyse_query, recommend  # noqa: E402
from calculators.speech import transcribe  # noqa: E402
from calculators.vocabulary import speech_phrases  # noqa: E402
from tests.calculators.voice_set import TEST, TUNE, edit_distance, recordings, render, words  # noqa: E402


def domain_words(phrases) -> set[str]:
    """The clinic's words: every word of the vocabulary's phrases (procedure names,
    concerns, areas, urgency and budget words) but English function words."""
    return {word for phrase in phrases for word in words(phrase)} - ENGLISH_STOP_WORDS


def top_choice(text: str, catalog) -> str | None:
    recommendations = recommend(analyse_query(text, catalog), catalog)
    return recommendations[0].slug if recommendations else None


def measure(name: str, sentences, catalog, phrases, verbose: bool) -> dict:
    domain = domain_words(phrases)
    errors = reference_words = domain_errors = domain_reference = agreed = 0
    by_effect: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    seconds, cpu_seconds, audio_seconds = [], [], []
    expected = {sentence: top_choice(sentence, catalog) for sentence in sentences}
    items = recordings(sentences)
    for recording in items:
        audio = render(recording)
        start, cpu_start = time.perf_counter(), time.process_time()
        transcript = transcribe(audio, phrases=phrases)
        seconds.append(time.perf_counter() - start)
        cpu_seconds.append(time.process_time() - cpu_start)
        audio_seconds.append(transcript.duration_seconds)
        reference, hypothesis = words(recording.sentence), words(transcript.text)
        edits = edit_distance(reference, hypothesis)
        errors += edits
        reference_words += len(reference)
        by_effect[recording.effect][0] += edits
        by_effect[recording.effect][1] += len(reference)
        in_domain = [w for w in reference if w in domain]
        domain_errors += edit_distance(in_domain, [w for w in hypothesis if w in domain])
        domain_reference += len(in_domain)
        agree = top_choice(transcript.text, catalog) == expected[recording.sentence]
        agreed += agree
        if verbose and (edits or not agree):
            print(f"  {recording.name:<34} {recording.sentence!r}\n  {'':<34} {transcript.text!r}"
                  f"{'' if agree else '  (recommendation differs)'}")
    result = {
        "recordings": len(items),
        "wer": errors / reference_words,
        "domain_wer": domain_errors / domain_reference,
        "top1": agreed / len(items),
        "median_seconds": statistics.median(seconds),
        "max_seconds": max(seconds),
        "per_5s_clip": statistics.median(s / a * 5 for s, a in zip(seconds, audio_seconds)),
        "cpu_per_5s_clip": statistics.median(s / a * 5 for s, a in zip(cpu_seconds, audio_seconds)),
    }
    print(f"{name}: {len(sentences)} sentences, {len(items)} recordings")
    print(f"  word error rate          {result['wer']:6.1%}")
    print(f"  ... on the clinic's words {result['domain_wer']:6.1%}  ({domain_reference} such words)")
    print(f"  recommender top-1 agrees {result['top1']:6.1%}")
    print("  by condition             " + ", ".join(f"{e} {a / b:.1%}" for e, (a, b) in by_effect.items()))
    print(f"  transcription            median {result['median_seconds']:.2f} s, max {result['max_seconds']:.2f} s,"
          f" {result['per_5s_clip']:.2f} s per 5 s of audio ({result['cpu_per_5s_clip']:.2f} s of CPU)")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=("tune", "test", "both"), default="test")
    parser.add_argument("--verbose", "-v", action="store_true", help="print each recording heard wrong")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    catalog = catalog_entries()
    phrases = speech_phrases([name for entry in catalog for name in (entry.name, *entry.keywords)])
    transcribe(render(recordings(TUNE[:1])[0]), phrases=phrases)  # build the recogniser outside the timings
    if args.half in ("tune", "both"):
        measure("tune half", TUNE, catalog, phrases, args.verbose)
    if args.half in ("test", "both"):
        measure("test half", TEST, catalog, phrases, args.verbose)


if __name__ == "__main__":
    main()
