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

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
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
    rss_before_bytes: int
    hwm_after_bytes: int
    to_send: int


def _review(base_url: str, path: Path, pid: int) -> _Reviewed:
    """One upload and its review: the times, the server's memory, the events to send."""
    with httpx.Client(base_url=base_url, timeout=REVIEW_TIMEOUT_SECONDS) as page:
        form = page.get("/")
        form.raise_for_status()
        token = _CSRF.search(form.text)
        if token is None:
            raise RuntimeError("the upload form has no CSRF field")
        before = _status_bytes(pid, "VmRSS")
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
        after = _status_bytes(pid, "VmHWM")
    to_send = _TO_SEND.search(review.text)
    if review.status_code != 200 or 'id="counts-title"' not in review.text or to_send is None:
        raise RuntimeError(f"no review for {path.name} ({review.status_code}): {review.text[:800]}")
    return _Reviewed(round(seconds, 4), round(uploaded, 4), before, after, int(to_send.group(1)))


def measure_review(path: Path, rows: int, *, out: Path) -> ReviewFigures:
    """Start the page, upload ``path`` with the clinic mapping, wait for the review; stop it."""
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
                reviewed = _review(f"http://127.0.0.1:{port}", path, server.pid)
            finally:
                server.terminate()
                server.wait(timeout=60)
    return ReviewFigures(path.name, rows, **asdict(reviewed))
