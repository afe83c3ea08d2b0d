"""Runs started from the page: one worker thread, live progress, and a folder per run.

Runs go one at a time (a single worker thread), so two people sending at once queue instead of
fighting over the ledger. Each run has ``<runs folder>/<run id>/`` holding ``run.json`` (what the
list of past runs shows) and the report as CSV and XLSX. The uploaded file is deleted when the
run ends, however it ends. ``run.json`` holds no phone number or email address (the report
beside it has the rows whole), and a run's folder is deleted ``keep_days`` after the run started
(checked when the page starts and after every run).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from importer.errors import ImporterError
from importer.exit_codes import exit_code_for
from importer.files import atomic_write_text
from importer.ledger import utc_now
from importer.pipeline import RunRequest, run_import_async
from importer.several_sheets import run_sheets, sheets_to_read
from importer.web.words import for_the_page

log = logging.getLogger("importer.web")

RUN_JSON = "run.json"
REPORT_CSV = "report.csv"
REPORT_XLSX = "report.xlsx"
FINAL_STATES = frozenset({"done", "failed", "interrupted"})
_RUN_ID_SHAPE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
DEFAULT_KEEP_REPORTS_DAYS = 30
# What a problem message may quote from a row that identifies a patient.
_EMAIL = re.compile(r"[^\s'\"<>()@,;]+@[^\s'\"<>()@,;]+")
_PHONE = re.compile(r"\+?\d[\d ().\-]{5,}\d")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def without_contact_details(message: str) -> str:
    """``message`` with email addresses and phone-like numbers replaced by words saying so.

    Dates (``2026-12-14``) stay: they say which appointment, not who.
    """
    message = _EMAIL.sub("[an email address]", message)
    return _PHONE.sub(lambda m: m[0] if _ISO_DATE.fullmatch(m[0]) else "[a number]", message)


@dataclass(frozen=True)
class RunRecord:
    """What is kept about one run (``run.json``); no secrets, no patient details."""

    run_id: str
    file_name: str  # as uploaded: shown only
    mapping_file: str
    mapping_title: str
    sheet: str | None
    started_at: str  # UTC ISO 8601
    state: str = "waiting"  # waiting, preparing, sending, done, failed, interrupted
    finished_at: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    error: str = ""  # why the run stopped, in plain words
    exit_code: int | None = None
    duration_seconds: float = 0.0
    problems: list[tuple[int | None, str, str]] = field(default_factory=list)  # rows not OK
    # Rows sent with something to check: (row, status, the warnings).
    warnings: list[tuple[int | None, str, str]] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        """True once the run can change no more."""
        return self.state in FINAL_STATES


class RunProgress:
    """The live progress of one run: a :class:`importer.progress.Progress` read by the page."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.total = 0
        self.done = 0
        self.label = ""
        self.running = False

    def start(self, total: int, label: str) -> None:
        """A stage of ``total`` units begins."""
        with self._lock:
            self.total, self.done, self.label, self.running = total, 0, label, True

    def advance(self, done: int) -> None:
        """``done`` more units finished."""
        with self._lock:
            self.done = min(self.total, self.done + done)

    def finish(self) -> None:
        """The stage ended."""
        with self._lock:
            self.running = False

    def snapshot(self) -> tuple[int, int, str]:
        """``(done, total, label)`` at this moment."""
        with self._lock:
            return self.done, self.total, self.label


@dataclass
class LiveRun:
    """A run of this server process: what it runs, its record as it changes, and its progress."""

    record: RunRecord
    request: RunRequest  # its report goes to ``report_path`` and ``report_copies``
    cleanup: Callable[[], None]  # deletes the upload when the run ends
    progress: RunProgress = field(default_factory=RunProgress)


MAX_PROBLEMS_KEPT = 500


class RunBook:
    """Every run: live ones in memory, finished ones in their folders."""

    def __init__(self, runs_dir: Path, keep_days: float = DEFAULT_KEEP_REPORTS_DAYS) -> None:
        self.runs_dir = runs_dir
        self.keep_days = keep_days
        self._live: dict[str, LiveRun] = {}
        self._lock = threading.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="apptoto-web-run")
        self.purge()

    def purge(self) -> list[str]:
        """Delete the folders of finished runs started more than ``keep_days`` ago; their ids.

        A folder whose record cannot be read goes by its age on disk.
        """
        cutoff = datetime.now(UTC) - timedelta(days=self.keep_days)
        try:
            folders = [p for p in self.runs_dir.iterdir() if _RUN_ID_SHAPE.match(p.name)]
        except OSError:
            return []
        with self._lock:
            running = {run_id for run_id, live in self._live.items() if not live.record.finished}
        purged = []
        for folder in folders:
            if folder.name not in running and _started(folder) < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                purged.append(folder.name)
        with self._lock:
            for run_id in purged:
                self._live.pop(run_id, None)
        return purged

    @staticmethod
    def new_id() -> str:
        """A fresh run id: random, safe in a path and a URL."""
        return secrets.token_urlsafe(12)

    def folder(self, run_id: str) -> Path | None:
        """The folder of ``run_id``, or None for an id that is not one of ours."""
        if not _RUN_ID_SHAPE.match(run_id):
            return None
        return self.runs_dir / run_id

    def start(
        self,
        record: RunRecord,
        request: RunRequest,
        cleanup: Callable[[], None],
    ) -> None:
        """Queue the run; ``cleanup`` deletes the upload when the run ends."""
        self._save(record)  # first: a folder that cannot be written stops the run here
        live = LiveRun(record, request, cleanup)
        with self._lock:
            self._live[record.run_id] = live
        self._worker.submit(self._execute, live)

    def _set(self, live: LiveRun, **changes: Any) -> None:
        # Saved first: a run the page shows finished has its record on disk for later readers.
        record = replace(live.record, **changes)  # only the worker thread changes records
        self._save(record)
        with self._lock:
            live.record = record

    def _execute(self, live: LiveRun) -> None:
        request = live.request
        self._set(live, state="preparing")
        progress = _StateProgress(live.progress, lambda: self._set(live, state="sending"))
        outcome: dict[str, Any]
        try:
            if sheets_to_read(request) is not None:  # one report of every sheet, a sheet column
                copies = request.report_copies
                summary = run_sheets(request, progress=progress, report_copies=copies)
            else:  # the report written a part at a time, as CSV and XLSX
                summary = asyncio.run(run_import_async(request, progress=progress))
        except ImporterError as exc:
            # Name the file as the person knows it, never by its private path.
            outcome = {
                "state": "failed",
                "error": for_the_page(str(exc).replace(str(request.source), live.record.file_name)),
            }
        except Exception:  # a bug: the page says so plainly, the log has the details
            log.exception("the run %s stopped on an unexpected error", live.record.run_id)
            outcome = {
                "state": "failed",
                "error": "the import stopped on an unexpected error; the details are in the "
                "server's log",
            }
        else:
            outcome = {
                "state": "done",
                "counts": dict(summary.counts),
                "error": summary.error or summary.stopped,
                "exit_code": exit_code_for(summary),  # what the CLI would exit with
                "duration_seconds": round(summary.duration_seconds, 1),
                "problems": [
                    (r.row, str(r.status), without_contact_details(r.sheet_message))
                    for r in summary.results
                    if str(r.status) in ("invalid", "failed", "skipped")
                ][:MAX_PROBLEMS_KEPT],
                "warnings": [
                    (r.row, str(r.status), without_contact_details(r.warning_text))
                    for r in summary.results
                    if r.warnings and str(r.status) not in ("invalid", "failed", "skipped")
                ][:MAX_PROBLEMS_KEPT],
            }
        finally:
            try:
                live.cleanup()  # before the run reads as finished: the upload is gone by then
            except OSError:
                log.exception("could not delete the upload of run %s", live.record.run_id)
        self._set(live, finished_at=utc_now(), **outcome)
        self.purge()

    def _save(self, record: RunRecord) -> None:
        folder = self.runs_dir / record.run_id
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write_text(folder / RUN_JSON, json.dumps(asdict(record), indent=2) + "\n")

    def get(self, run_id: str) -> tuple[RunRecord, RunProgress | None] | None:
        """The run's record and, while this process runs it, its progress; None if unknown."""
        with self._lock:
            live = self._live.get(run_id)
            if live is not None:
                return live.record, live.progress
        folder = self.folder(run_id)
        if folder is None:
            return None
        record = _read_record(folder / RUN_JSON)
        return None if record is None else (record, None)

    def past(self, limit: int) -> list[RunRecord]:
        """The latest ``limit`` runs, newest first (runs of earlier server processes too)."""
        try:
            folders = [p for p in self.runs_dir.iterdir() if _RUN_ID_SHAPE.match(p.name)]
        except OSError:
            return []
        records = []
        for folder in folders:
            found = self.get(folder.name)
            if found is not None:
                records.append(found[0])
        records.sort(key=lambda r: r.started_at, reverse=True)
        return records[:limit]

    def close(self) -> None:
        """Stop taking runs; a run in progress finishes, waiting ones are dropped."""
        self._worker.shutdown(wait=True, cancel_futures=True)


def xlsx_of(report_csv: Path) -> Path:
    """Where a run's XLSX report goes, beside its CSV report."""
    return report_csv.with_name(REPORT_XLSX)


class _StateProgress:
    """Passes progress on, and says once when the sending begins."""

    def __init__(self, progress: RunProgress, on_first_start: Callable[[], None]) -> None:
        self._progress = progress
        self._on_first_start: Callable[[], None] | None = on_first_start

    def start(self, total: int, label: str) -> None:
        self._progress.start(total, label)
        if self._on_first_start is not None:
            self._on_first_start()
            self._on_first_start = None

    def advance(self, done: int) -> None:
        self._progress.advance(done)

    def finish(self) -> None:
        self._progress.finish()


def _started(folder: Path) -> datetime:
    """When the run of ``folder`` started (its record, else the folder's last change), in UTC."""
    try:
        started = json.loads((folder / RUN_JSON).read_text(encoding="utf-8"))["started_at"]
        moment = datetime.fromisoformat(started)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (OSError, ValueError, TypeError, KeyError):
        pass
    try:
        return datetime.fromtimestamp(folder.stat().st_mtime, UTC)
    except OSError:
        return datetime.now(UTC)


def _read_record(path: Path) -> RunRecord | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        raw["problems"] = [tuple(p) for p in raw.get("problems", [])]
        raw["warnings"] = [tuple(w) for w in raw.get("warnings", [])]
        record = RunRecord(**raw)
    except (OSError, ValueError, TypeError):
        return None
    if not record.finished:  # the process that ran it is gone
        record = replace(
            record,
            state="interrupted",
            error="the server stopped during this run: upload the file again and send it; rows "
            "already sent are recognised and not sent twice",
        )
    return record
