"""The terminal side of the commands: progress bar, logging with secrets masked, messages."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import typer

from importer.exit_codes import EXIT_NOTHING
from importer.outcomes import PlanAction, RowResult, RowStatus, SkipReason
from importer.progress import NullProgress, Progress

MAX_ISSUES_PRINTED = 200
RUN_AGAIN = "run the same command again to finish (rows already confirmed are not sent twice)"


class TqdmProgress:
    """A tqdm bar on stderr."""

    def __init__(self) -> None:
        self._bar: Any = None

    def start(self, total: int, label: str) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=total, desc=label, unit="event", file=sys.stderr, leave=False)

    def advance(self, done: int) -> None:
        if self._bar is not None:
            self._bar.update(done)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def progress_for(quiet: bool) -> Progress:
    """A bar on a terminal, nothing when quiet or when stderr is a file or pipe."""
    return NullProgress() if quiet or not sys.stderr.isatty() else TqdmProgress()


def setup_logging(verbose: bool) -> None:
    """Log to stderr (every request with ``verbose``), the API key masked in every line."""
    from importer.client import RedactSecrets

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets_in_env()))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)


def secrets_in_env() -> list[str]:
    """Every shape of the API key in the environment: as set, and stripped as the client uses it.

    With the user, base64 of ``user:key`` (the Basic auth header) is among them.
    """
    from importer.client import secret_forms

    key, user = os.environ.get("APPTOTO_API_KEY", ""), os.environ.get("APPTOTO_USER")
    forms = set(secret_forms(key, user)) | set(
        secret_forms(key.strip(), None if user is None else user.strip())
    )
    return sorted(forms, key=len, reverse=True)


def fail(exc: BaseException) -> typer.Exit:
    """Print ``error: ...`` and give the exit (code 2) to raise."""
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(EXIT_NOTHING)


def state_file_for(given: Path | None) -> Path:
    """``--state``, else the shared default; says once when an old place or a network drive is
    used (on stderr, so reports and summaries piped from stdout stay as they were)."""
    from importer.paths import network_drive_warning, state_file

    chosen = given
    if chosen is None:
        place = state_file()
        chosen = place.path
        if place.note:
            typer.echo(f"note: {place.note}", err=True)
    warning = network_drive_warning(chosen)
    if warning:
        typer.echo(f"warning: {warning}", err=True)
    return chosen


def print_issues(
    results: list[RowResult],
    file: Path,
    *,
    report: bool = True,
    more_invalid: int = 0,
    more_warnings: int = 0,
) -> None:
    """The invalid rows, one line each, the rows that failed, then the warnings; at most
    ``MAX_ISSUES_PRINTED`` lines each. ``report``: a report lists every row (else the lines left
    out say how to get one). ``more_invalid``, ``more_warnings``: invalid rows and warnings
    whose results were not kept (a file in parts), counted in the lines that say how many more.
    A plan's results (``PlanAction``) are read as a run's."""
    where = "see the report" if report else "--report FILE lists every row"
    invalid = [r for r in results if r.status == RowStatus.INVALID]
    for r in invalid[:MAX_ISSUES_PRINTED]:
        typer.echo(f"{file.name} {r.line()}")
    left = len(invalid) - len(invalid[:MAX_ISSUES_PRINTED]) + more_invalid
    if left:
        typer.echo(f"... and {left} more invalid rows: {where}")
    print_failed(results, file)
    warnings = [(r, w) for r in results if r.status != RowStatus.INVALID for w in r.warnings]
    for r, w in warnings[:MAX_ISSUES_PRINTED]:
        outcome = "" if r.status in _NOT_ATTEMPTED else f" ({r.status})"
        typer.echo(f"warning: {file.name} {w}{outcome}")
    left = len(warnings) - len(warnings[:MAX_ISSUES_PRINTED]) + more_warnings
    if left:
        typer.echo(f"... and {left} more warnings: {where}")


_NOT_ATTEMPTED = {RowStatus.SKIPPED.value, PlanAction.SKIP.value}
_FAILED = {RowStatus.FAILED.value, PlanAction.FAIL.value}
_ROWS_NAMED = 10  # rows named on the line of a reason many rows failed for


def print_failed(results: list[RowResult], file: Path) -> None:
    """The rows that failed (or, in a plan, would), a line per reason: a reason shared by many
    rows (Apptoto out of reach for a whole run) is said once, naming the first rows."""
    rows_by_reason: dict[tuple[str, str], list[int]] = {}
    for r in results:
        if r.status in _FAILED and r.row is not None:
            rows_by_reason.setdefault((r.sheet, r.message), []).append(r.row)
    for (sheet, message), rows in list(rows_by_reason.items())[:MAX_ISSUES_PRINTED]:
        named = ", ".join(str(row) for row in rows[:_ROWS_NAMED])
        more = f" and {len(rows) - _ROWS_NAMED} more" if len(rows) > _ROWS_NAMED else ""
        where = f"sheet {sheet!r}, " if sheet else ""
        where += f"row {named}" if len(rows) == 1 else f"rows {named}{more}"
        typer.echo(f"{file.name} {where}: {message}")
    if len(rows_by_reason) > MAX_ISSUES_PRINTED:
        left = len(rows_by_reason) - MAX_ISSUES_PRINTED
        typer.echo(f"... and rows that failed for {left} more reasons: see the report")


def print_held_back(results: list[RowResult], file: Path) -> None:
    """The rows held back as an appointment already sent, or as another person's appointment
    under the same id, and how to send them anyway."""
    held = [r for r in results if r.reason is SkipReason.SAME_APPOINTMENT]
    shared = [r for r in results if r.reason is SkipReason.OTHER_PERSON]
    for r in (held + shared)[:MAX_ISSUES_PRINTED]:
        typer.echo(f"{file.name} {r.line()}")
    if held:
        typer.echo(
            f"{len(held)} rows not sent because they look like appointments already in Apptoto "
            "(see the report); --allow-same-time-duplicates sends them anyway"
        )
    if shared:
        typer.echo(
            f"{len(shared)} rows not sent because another file sent their ids for other people "
            "(see the report); --allow-shared-ids sends them anyway"
        )


def on_sigterm(signum: int, frame: FrameType | None) -> None:
    """SIGTERM (systemd, ``kill``) stops a run like Ctrl-C does."""
    # While sending, asyncio's Ctrl-C handler is in place: it cancels the run, which then still
    # writes its report. Before that, the default handler raises KeyboardInterrupt.
    on_sigint = signal.getsignal(signal.SIGINT)
    if callable(on_sigint):
        on_sigint(signal.SIGINT, frame)
    else:  # SIGINT ignored (a background job): stop all the same
        raise KeyboardInterrupt


def write_summary(path: Path | None, content: dict[str, Any]) -> None:
    """``--summary-json``: write ``content`` to ``path`` (atomically), when one is given."""
    if path is None:
        return
    from importer.files import atomic_write_text

    atomic_write_text(path, json.dumps(content, indent=2) + "\n")
