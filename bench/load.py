"""HTTP load: the site under gunicorn on loopback (bench.settings: the site's own
settings, the bare view added, rate limits lifted), visitors with real cookies,
and wrk sending bench/load.lua's requests."""

import json
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SCRIPT = BENCH / "load.lua"
CONNECTIONS, THREADS = 32, 2
# How issue 11 measured its 209 requests/s: 2 sync workers, whatever clinic/gunicorn.py says.
ISSUE_CONDITIONS = ("--workers", "2", "--worker-class", "sync")
TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class LoadError(RuntimeError):
    """The load test itself broke (server down, wrk missing, every request refused)."""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    accepted: int
    refused: int
    socket_errors: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_result(output: str) -> WrkResult:
    """Read the line bench/load.lua's done() prints among wrk's own output."""
    for line in output.splitlines():
        if line.startswith("BENCH "):
            figures = json.loads(line.removeprefix("BENCH "))
            return WrkResult(
                requests=figures["requests"], seconds=figures["duration_us"] / 1e6,
                p50_ms=figures["p50_us"] / 1000, p95_ms=figures["p95_us"] / 1000, p99_ms=figures["p99_us"] / 1000,
                accepted=figures["accepted"], refused=figures["refused"], socket_errors=figures["socket_errors"],
            )
    raise LoadError(f"wrk printed no BENCH line (is bench/load.lua in use?):\n{output[-2000:]}")


@dataclass(frozen=True)
class Visitor:
    cookie: str
    csrf_cookie: str
    token: str


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen

    def worker_rss_mb(self) -> list[float]:
        """Resident memory of each gunicorn worker (the master's children)."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        sizes = []
        for child in children:
            status = Path(f"/proc/{child}/status").read_text()
            sizes.append(int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024)
        return sizes


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_answering(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LoadError(f"gunicorn stopped at start-up:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url + "/bench/bare/", timeout=5).read()
            return
        except OSError:
            time.sleep(0.3)
    raise LoadError(f"gunicorn did not answer in 60 s:\n{log.read_text()[-3000:]}")


@contextmanager
def gunicorn(*, env: dict[str, str], options: tuple[str, ...] = ()) -> Iterator[Server]:
    """The site under gunicorn with clinic/gunicorn.py's settings (production's:
    workers and worker class included) and `options` on top, stopped when the block
    ends, whatever happens in it."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkstemp(prefix="bench-gunicorn-", suffix=".log")[1])
    command = [
        sys.executable, "-m", "gunicorn", "-c", "python:clinic.gunicorn", *options, "--bind", f"127.0.0.1:{port}", "--error-logfile", str(log), "clinic.wsgi",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        _wait_answering(url, process, log)
        yield Server(url=url, process=process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.unlink(missing_ok=True)


def visitors(url: str, count: int, *, cookie_name: str) -> list[Visitor]:
    """`count` browsers, each given its visitor cookie and CSRF token by the home page."""
    found = []
    for _ in range(count):
        with urllib.request.urlopen(url + "/", timeout=30) as response:
            jar = SimpleCookie()
            for header in response.headers.get_all("Set-Cookie") or []:
                jar.load(header)
            page = response.read().decode()
        token = TOKEN.search(page)
        if cookie_name not in jar or "csrftoken" not in jar or token is None:
            raise LoadError("The home page gave no visitor cookie, CSRF cookie or CSRF token.")
        found.append(Visitor(jar[cookie_name].value, jar["csrftoken"].value, token.group(1)))
    return found


def visitors_file(found: list[Visitor], directory: Path) -> Path:
    path = directory / f"visitors-{len(found)}-{random.randrange(1 << 30)}.txt"
    path.write_text("".join(f"{v.cookie} {v.csrf_cookie} {v.token}\n" for v in found))
    return path


def wrk(url: str, *, kind: str, visitors_path: Path, cookie_name: str, seconds: int,
        connections: int = CONNECTIONS, threads: int = THREADS) -> WrkResult:
    """Load `url` with bench/load.lua's `kind` of request for `seconds`."""
    command = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(SCRIPT), url,
        "--", kind, str(visitors_path), cookie_name, str(random.randrange(1, 1 << 31)),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    if done.returncode != 0:
        raise LoadError(f"wrk failed ({done.returncode}):\n{done.stderr[-2000:]}")
    result = wrk_result(done.stdout)
    if result.accepted == 0:
        raise LoadError(f"Every {kind} request to {url} was refused: the benchmark measured only the error path.")
    return result
