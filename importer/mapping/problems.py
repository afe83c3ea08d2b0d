"""Reading a mapping file's values, with every mistake collected rather than raised.

Each section of the file (:mod:`importer.mapping.parse` for the top keys, ``defaults`` and
``columns``; :mod:`importer.mapping.event_section` for ``event``) reads its values with these, so
that one ``MappingError`` lists every problem at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from collections.abc import Mapping as AbstractMapping
from typing import Any

from importer.errors import MappingError
from importer.mapping.model import Template, parse_template


class Problems:
    """Collects every problem in a mapping file so the user sees them all at once."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, text: str) -> None:
        self.items.append(text)

    def unknown_keys(self, where: str, given: Iterable[str], allowed: set[str]) -> None:
        for key in given:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                suffix = f"; did you mean {hint[0]!r}?" if hint else ""
                self.add(
                    f"{where}: unknown key {key!r}{suffix} (allowed: {', '.join(sorted(allowed))})"
                )


def read_template(value: Any, where: str, problems: Problems) -> Template | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        problems.add(f'{where}: expected text like "{{Column}}", got {value!r}')
        return None
    try:
        return parse_template(str(value), where=where)
    except MappingError as exc:
        problems.add(str(exc))
        return None


def read_section(raw: Any, where: str, problems: Problems) -> AbstractMapping[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.add(f"{where}: expected a section of keys, got {raw!r}")
        return {}
    return raw


def read_bool(raw: Any, where: str, problems: Problems) -> bool:
    if isinstance(raw, bool):
        return raw
    problems.add(f"{where}: expected true or false, got {raw!r}")
    return False
