"""Words the templates use for statuses, counts and times, and the order reports are offered in."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import PurePath

from importer.load import CSV_SUFFIXES

STATUS_WORDS = {
    "created": "created",
    "updated": "updated",
    "unchanged": "unchanged (not sent)",
    "invalid": "invalid (not sent)",
    "failed": "failed",
    "skipped": "not sent",
    "cancelled": "cancelled",
    "not an appointment": "not an appointment (not sent)",
}


def status_words(status: str) -> str:
    """A row status as the result page says it, e.g. ``invalid (not sent)``."""
    return STATUS_WORDS.get(status, status)


def count_words(counts: Mapping[str, int]) -> str:
    """``14 created, 8 invalid`` (statuses with a zero count left out)."""
    return ", ".join(f"{n} {status}" for status, n in counts.items() if n) or "no rows"


def local_time(iso_text: str) -> str:
    """A UTC ISO 8601 time as the server's local time, e.g. ``2026-04-13 14:03``."""
    try:
        moment = datetime.fromisoformat(iso_text)
    except (TypeError, ValueError):
        return str(iso_text)
    return f"{moment.astimezone():%Y-%m-%d %H:%M}"


def without_row(message: str, row: int | None) -> str:
    """A report message without its ``row N, `` prefixes, for a table that has a Row column."""
    if row is None:
        return message
    return re.sub(rf"(^|; )row {row}(?:, |: ?)", r"\1", message)


# What the command line calls things, as the page says them to office staff.
_PAGE_WORDS = (
    ("an importer state file", "a record of earlier imports"),
    ("the state file", "the record of earlier imports"),
    ("state file", "record of earlier imports"),
)


def for_the_page(message: str) -> str:
    """A stage's message in the page's words (no "state file": the page has no such thing)."""
    for said, meant in _PAGE_WORDS:
        message = message.replace(said, meant)
    return message


def report_kinds(file_name: str) -> list[str]:
    """The kinds a report of ``file_name`` is offered in, its own first: ``xlsx`` for a workbook
    (Excel keeps the zeros of ``000101`` only there), ``csv`` for a CSV file."""
    own_csv = PurePath(file_name).suffix.lower() in CSV_SUFFIXES
    return ["csv", "xlsx"] if own_csv else ["xlsx", "csv"]
