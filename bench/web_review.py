"""The web review of a big upload: how long staff wait for it, and what it costs the server.

The page is started as a user starts it (``apptoto-import serve``, its own process, a fresh
data folder whose mappings folder holds the clinic mapping, the sandbox's address and key in
its environment). The bench then makes the requests the page makes: ``GET /`` (the form and
its CSRF token), ``POST /upload`` with the file and the mapping, and the review page the upload
redirects to. Time = from the start of the upload to the review page received whole (the
upload's own share, until it is stored, is kept beside it). Memory =
the server's ``VmHWM`` after the review minus its ``VmRSS`` before the upload (``/proc``, Linux
only): the growth one review causes, the first one, with its imports.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.commands import sandbox_env
from bench.pipeline import MAPPING
from bench.processes import console_script
from bench.upload import sandbox_process
from importer.sandbox import SandboxSettings

START_SECONDS = 60.0
REVIEW_TIMEOUT_SECONDS = 600.0
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_TO_SEND = re.compile(r'id="send"[^>]*data-count="(\d+)"')


@dataclass(frozen=True)
class ReviewFigures:
    """One upload reviewed: seconds to the review page, the server's memory, what it counted."""

    file: str
    rows: int
    seconds: float  # from the start of the upload to the review page received
    upload_seconds: float  # of them, until the upload was stored (the rest is the review)
    rss_before_bytes: int
    hwm_after_bytes: int
    to_send: int  # the events the review's Send button would send

    @property
    def growth_mb(self) -> float:
        """Peak resident memory during the review above the idle server's, in MB (10^6 B)."""
        return (self.hwm_after_bytes - self.rss_before_bytes) / 1e6

    def as_json(self) -> dict[str, Any]:
        """The figures, JSON-ready."""
        return {**asdict(self), "growth_mb": round(self.growth_mb, 1)}


def _status_bytes(pid: int, key: str) -> int:
    """``VmRSS``/``VmHWM`` of process ``pid`` in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {key} in /proc/{pid}/status")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the page did not start: see {log}")


@dataclass(frozen=True)
class _Reviewed:
    seconds: float
    upload_seconds: float
    to_send: int


def _review(base_url: str, path: Path, before: Callable[[], object] = lambda: None) -> _Reviewed:
    """One upload and its review: the times and the events to send. ``before``: called once
    the form is loaded, just before the upload starts."""
    with httpx.Client(base_url=base_url, timeout=REVIEW_TIMEOUT_SECONDS) as page:
        form = page.get("/")
        form.raise_for_status()
        token = _CSRF.search(form.text)
        if token is None:
            raise RuntimeError("the upload form has no CSRF field")
        before()
        started = time.perf_counter()
        with path.open("rb") as sheet:
            stored = page.post(
                "/upload",
                data={"csrf_token": token.group(1), "mapping": MAPPING.name},
                files={"spreadsheet": (path.name, sheet)},
            )
        uploaded = time.perf_counter() - started
        if stored.status_code != 303:
            raise RuntimeError(f"upload of {path.name} refused: {stored.text[:800]}")
        review = page.get(stored.headers["location"], follow_redirects=True)
        seconds = time.perf_counter() - started
    to_send = _TO_SEND.search(review.text)
    if review.status_code != 200 or 'id="counts-title"' not in review.text or to_send is None:
        raise RuntimeError(f"no review for {path.name} ({review.status_code}): {review.text[:800]}")
    return _Reviewed(round(seconds, 4), round(uploaded, 4), int(to_send.group(1)))


@dataclass(frozen=True)
class TogetherFigures:
    """Several people upload the same file at once: when each review page came, the server's
    memory."""

    file: str
    rows: int
    people: int
    seconds: tuple[float, ...]  # each person's wait, upload to review page, shortest first
    rss_before_bytes: int
    hwm_after_bytes: int

    @property
    def growth_mb(self) -> float:
        """Peak resident memory during the reviews above the idle server's, in MB (10^6 B)."""
        return (self.hwm_after_bytes - self.rss_before_bytes) / 1e6

    def as_json(self) -> dict[str, Any]:
        """The figures, JSON-ready."""
        return {
            **asdict(self),
            "seconds": list(self.seconds),
            "growth_mb": round(self.growth_mb, 1),
        }


@contextlib.contextmanager
def _serving(path: Path, out: Path) -> Iterator[tuple[str, int]]:
    """The page started as a user starts it, beside a sandbox without limit: its address and
    process id; stopped afterwards."""
    settings = SandboxSettings(rate_limit_requests=0, latency_seconds=0.0)
    with sandbox_process(settings) as sandbox, tempfile.TemporaryDirectory() as home:
        mappings = Path(home) / "mappings"
        mappings.mkdir()
        shutil.copy(MAPPING, mappings / MAPPING.name)
        port = _free_port()
        upload_mb = max(20, 2 * path.stat().st_size // 10**6)  # the page's default, or room
        command = [
            console_script(), "serve", "--host", "127.0.0.1", "--port", str(port),
            "--mappings", str(mappings), "--max-upload-mb", str(upload_mb),
        ]  # fmt: skip
        env = {**os.environ, **sandbox_env(sandbox, home)}
        log = out / f"{path.name}.serve.txt"
        with log.open("wb") as said:
            server = subprocess.Popen(command, env=env, stdout=said, stderr=subprocess.STDOUT)
            try:
                _wait_until_listening(server, port, log)
                yield f"http://127.0.0.1:{port}", server.pid
            finally:
                server.terminate()
                server.wait(timeout=60)


def measure_review(path: Path, rows: int, *, out: Path) -> ReviewFigures:
    """Start the page, upload ``path`` with the clinic mapping, wait for the review; stop it."""
    with _serving(path, out) as (base_url, pid):
        before: list[int] = []
        reviewed = _review(base_url, path, lambda: before.append(_status_bytes(pid, "VmRSS")))
        after = _status_bytes(pid, "VmHWM")
    return ReviewFigures(
        path.name, rows, reviewed.seconds, reviewed.upload_seconds, before[0], after,
        reviewed.to_send,
    )  # fmt: skip


def measure_together(path: Path, rows: int, *, people: int, out: Path) -> TogetherFigures:
    """Start the page; ``people`` upload ``path`` at the same moment and wait for their reviews."""
    with _serving(path, out) as (base_url, pid):
        ready = threading.Barrier(people, timeout=START_SECONDS)  # one failing: no hang
        before = _status_bytes(pid, "VmRSS")
        with ThreadPoolExecutor(people) as pool:
            reviews = list(pool.map(lambda _: _review(base_url, path, ready.wait), range(people)))
        after = _status_bytes(pid, "VmHWM")
    if any(r.to_send != reviews[0].to_send for r in reviews):
        raise RuntimeError(f"the reviews of one file differ: {reviews}")
    waits = tuple(sorted(r.seconds for r in reviews))
    return TogetherFigures(path.name, rows, people, waits, before, after)
