"""`make bench`: speed and memory targets, measured on a throwaway SQLite database.

Each line prints the measurement, the target and ok/MISSED; results also go to
bench/results/latest.json. Exit status 1 if a target is missed. Targets are for the
project's machines (2 cores); timings are medians of a few runs where cheap.
"""

import csv
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(tempfile.mkdtemp(prefix="clinic-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
os.environ["DATABASE_URL"] = f"sqlite:///{WORK / 'bench.sqlite3'}"
os.environ["TASKS_BACKEND"] = "django.tasks.backends.dummy.DummyBackend"
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

from io import StringIO  # noqa: E402

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

results = []


def record(name: str, value: float, unit: str, target: float, higher_is_better: bool) -> None:
    ok = value >= target if higher_is_better else value <= target
    results.append({"name": name, "value": round(value, 2), "unit": unit, "target": target, "ok": ok})
    sign = ">=" if higher_is_better else "<="
    print(f"{name:<48} {value:>10.2f} {unit:<12} target {sign} {target:<8} {'ok' if ok else 'MISSED'}")


def bench_engine() -> None:
    from scoring import engine
    from scoring.services import rules_active, scoring_settings_get

    rules, thresholds = rules_active(), scoring_settings_get().thresholds()
    steps = [engine.Step(kind, data) for kind, data in [
        ("search", {}), ("ai_recommendation", {"urgency": "immediate", "procedures": ["botox", "lip-filler"]}),
        ("cost_calculator", {"budget_level": "high"}), ("page_engagement", {}), ("face_analysis", {}),
    ]]
    session_facts = engine.SessionFacts(engagement_seconds=200, visit_count=2)
    runs = 5000
    start = time.perf_counter()
    for _ in range(runs):
        # What the tracker pays per event: the journey's facts gathered and scored.
        engine.score_journey(steps, session_facts=session_facts, rules=rules, thresholds=thresholds)
    record("scoring engine: 5-step journeys scored", runs / (time.perf_counter() - start), "per second", 5000, True)


def bench_tracker() -> None:
    from interactions.services import session_start
    from interactions.tracker import track_user_interaction

    sessions = [session_start(landing_page="/") for _ in range(100)]
    start = time.perf_counter()
    for index in range(500):
        track_user_interaction(sessions[index % 100], "ai_recommendation", {"urgency": "soon"})
    record("tracker: interactions recorded and scored", 500 / (time.perf_counter() - start), "per second", 100, True)


def bench_import() -> None:
    rows = 20_000
    path = WORK / "history.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "session_id", "timestamp", "type", "utm_source", "procedures", "urgency"])
        base = timezone.now() - timezone.timedelta(days=60)
        kinds = ["ai_rec", "face_analysis", "price_calc", "search", "page_view"]
        for n in range(rows):
            writer.writerow([f"b{n}", f"s{n // 4}", (base + timezone.timedelta(minutes=n)).isoformat(), kinds[n % 5],
                             ["google", "facebook", ""][n % 3], "botox;lip-filler" if n % 7 == 0 else "", "soon"])
    start = time.perf_counter()
    call_command("import_interactions", str(path), stdout=StringIO(), stderr=StringIO())
    elapsed = time.perf_counter() - start
    record("import_interactions: 20,000 rows", rows / elapsed, "rows/second", 800, True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    record("peak memory of the whole benchmark", peak_mb, "MB", 400, False)


def bench_pages() -> None:
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("bench", "bench@example.com", "pw-12345-x")
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    today = timezone.localdate()
    period = f"?start={today - timezone.timedelta(days=89)}&end={today}"
    for url, target in [(f"/admin/comprehensive/dashboard/{period}", 1.5),
                        ("/admin/interactions/userinteraction/", 1.0), ("/admin/leads/lead/", 1.0)]:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            assert client.get(url).status_code == 200
            times.append(time.perf_counter() - start)
        record(f"page {url.split('?')[0]}", statistics.median(times), "seconds", target, False)
    public = Client()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        assert public.post("/enhanced-ai/", {"query": "lip filler before my wedding next month"}).status_code == 302
        times.append(time.perf_counter() - start)
    record("treatment finder: a text query answered", statistics.median(times), "seconds", 0.5, False)


def main() -> int:
    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=StringIO())
    print(f"Benchmark database: {WORK} (about 20,000 interactions once the import has run)\n")
    bench_engine()
    bench_tracker()
    bench_import()
    bench_pages()
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps({"when": timezone.now().isoformat(), "results": results}, indent=2))
    missed = [r["name"] for r in results if not r["ok"]]
    print(f"\n{len(results) - len(missed)} of {len(results)} targets met; results in bench/results/latest.json")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
