"""The mapping held against a sheet's header: every column it names must be there."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from importer.errors import MappingError
from importer.mapping.model import SHEET_VALUES, Mapping


def _normalise(header: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", header.lower())


def closest_headers(name: str, headers: Iterable[str], n: int = 2) -> list[str]:
    """Header names that look like ``name`` (case, spacing and punctuation aside, or close)."""
    headers = list(headers)
    wanted = _normalise(name)
    exact = [h for h in headers if _normalise(h) == wanted]
    if exact:
        return exact[:n]
    contains = [
        h for h in headers if wanted and (wanted in _normalise(h) or _normalise(h) in wanted)
    ]
    by_norm = {_normalise(h): h for h in headers}
    close = [by_norm[m] for m in difflib.get_close_matches(wanted, list(by_norm), n=n, cutoff=0.6)]
    out: list[str] = []
    for h in contains + close:
        if h not in out and _normalise(h):
            out.append(h)
    return out[:n]


def check_columns(mapping: Mapping, headers: Iterable[str]) -> None:
    """Raise MappingError listing every column the mapping reads that the sheet does not have."""
    headers = list(headers)
    present = set(headers)
    problems = []
    for column in mapping.referenced_columns():
        if column in present or column in SHEET_VALUES:
            continue
        if column.startswith("@"):
            problems.append(
                f"no {{{column}}}: of the sheet itself a mapping can read "
                + ", ".join(f"{{{name}}} ({words})" for name, words in SHEET_VALUES.items())
            )
            continue
        if column.startswith("CHOOSE "):  # left by the mapping assistant (init)
            problems.append(
                f"the mapping still has a choice to make: replace {{{column}}} with a column of "
                "the sheet (the comment above it says why it was left)"
            )
            continue
        hints = closest_headers(column, headers)
        hint = f"; did you mean {' or '.join(repr(h) for h in hints)}?" if hints else ""
        problems.append(f"no column {column!r}{hint}")
    if problems:
        shown = ", ".join(repr(h) for h in headers[:30])
        raise MappingError(
            f"the sheet lacks columns the mapping reads (the sheet has: {shown})",
            file=mapping.path,
            problems=problems,
        )
