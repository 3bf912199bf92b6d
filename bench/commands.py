"""Work outside the web requests: the management commands rescore_leads and
import_interactions, face analysis of a 12-megapixel photo and a text
recommendation. The commands and the face analysis run in a child process whose
peak memory is read from the kernel; a command that outlives its time limit is
stopped, and what it stored by then is counted.

`python -m bench.commands face PHOTO REPEATS` is that child for the face analysis."""

import csv
import datetime
import json
import re
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHOTO_SIZE = (4000, 3000)
QUERIES = (
    "lines on my forehead before my wedding next month",
    "thin lips, budget around £400, no rush",
    "acne scars and large pores but no needles",
    "red veins on my nose",
)


@dataclass(frozen=True)
class ChildRun:
    seconds: float
    peak_mb: float
    finished: bool
    output: str


def high_water_mb(pid: int | str = "self") -> float:
    """A process's peak resident memory so far (VmHWM). Not ru_maxrss: a child
    started by this (large) process inherits our size as its ru_maxrss at exec."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def run_child(args: list[str], *, env: dict[str, str], limit_seconds: float) -> ChildRun:
    """Run a child process to its end or to the time limit (then kill it), reading
    its peak memory as it runs (the last reading is at most 0.1 s before its end)."""
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.append(process.stdout.read()), daemon=True)
    reader.start()
    start, peak_mb, killed = time.perf_counter(), 0.0, False
    try:
        while process.poll() is None:
            try:
                peak_mb = max(peak_mb, high_water_mb(process.pid))
            except (FileNotFoundError, ProcessLookupError, AttributeError):
                pass  # it ended between poll() and the reading
            if time.perf_counter() - start > limit_seconds:
                killed = True
                process.kill()
            time.sleep(0.1)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    seconds = time.perf_counter() - start
    reader.join(timeout=10)
    text = "".join(output)
    if process.returncode != 0 and not killed:
        raise RuntimeError(f"{' '.join(args)} failed ({process.returncode}):\n{text[-3000:]}")
    return ChildRun(seconds=seconds, peak_mb=peak_mb, finished=not killed, output=text)


def manage(*args: str) -> list[str]:
    return [sys.executable, "manage.py", *args]


def history_csv(path: Path, *, rows: int) -> None:
    """An old system's export: 5 rows a visitor over two years, legacy type names,
    campaigns and treatments, and 1 row in 200 a contact with consent (which makes a lead)."""
    kinds = ["page_view", "page_view", "search", "ai_rec", "skin_analysis", "price_calc", "booking"]
    sources = ["google", "facebook", "instagram", ""]
    start = datetime.datetime(2023, 1, 1, tzinfo=datetime.UTC)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "session_id", "timestamp", "type", "utm_source", "utm_campaign", "procedures",
                         "urgency", "budget_level", "email", "consent"])
        for number in range(rows):
            visitor, contact = number // 5, number % 200 == 199
            writer.writerow([
                f"h{number}", f"v{visitor}", (start + datetime.timedelta(minutes=number)).isoformat(),
                "contact" if contact else kinds[number % len(kinds)], sources[visitor % 4], "spring" if visitor % 3 else "",
                "botox;lip-filler" if number % 7 == 0 else "botox", ["immediate", "soon", "flexible"][number % 3],
                ["low", "medium", "high"][visitor % 3], f"history{visitor}@example.com" if contact else "",
                "true" if contact else "",
            ])


def portrait_12mp(path: Path) -> None:
    """scikit-image's astronaut portrait (the tests' photo), enlarged to fill the
    height of a 4000x3000 frame, as a phone's JPEG."""
    from PIL import Image
    from skimage import data as skimage_data

    portrait = Image.fromarray(skimage_data.astronaut())
    width, height = PHOTO_SIZE
    frame = Image.new("RGB", PHOTO_SIZE, portrait.getpixel((0, 0)))
    frame.paste(portrait.resize((height, height), Image.Resampling.LANCZOS), ((width - height) // 2, 0))
    frame.save(path, "JPEG", quality=90)


def face_child(photo: Path, repeats: int) -> dict:
    """In the child: the median time of analyse_face on the photo, the process's
    peak memory, and how much of it the analysis added to the libraries loaded."""
    from calculators.face import analyse_face

    data = photo.read_bytes()
    libraries_loaded = high_water_mb()
    times = []
    # The first analysis also loads the face cascades, like a worker's first photo: not timed.
    for _ in range(repeats + 1):
        start = time.perf_counter()
        analyse_face(data)
        times.append(time.perf_counter() - start)
    peak = high_water_mb()
    return {"seconds": statistics.median(times[1:]), "peak_mb": peak, "analysis_mb": peak - libraries_loaded}

def recommendation_seconds(*, repeats: int) -> float:
    """Median time of the treatment finder's work for a text (analysis and ranking,
    the catalog read as each request reads it), tracking left out."""
    from calculators.catalog import catalog_entries
    from calculators.recommender import analyse_query, recommend

    times = []
    for number in range(repeats):
        start = time.perf_counter()
        analysis = analyse_query(QUERIES[number % len(QUERIES)], catalog_entries())
        recommend(analysis, catalog_entries())
        times.append(time.perf_counter() - start)
    return statistics.median(times)


if __name__ == "__main__" and sys.argv[1:2] == ["face"]:
    print(json.dumps(face_child(Path(sys.argv[2]), int(sys.argv[3]))))
