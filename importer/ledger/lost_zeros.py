"""Leading zeros a spreadsheet program dropped, found again from the field hashes the ledger kept.

A file (or report) opened and saved in Excel comes back with ``02134`` as ``2134``. The ledger
keeps no payload, only a hash per field (:func:`importer.ledger.field_hashes`): a changed field
whose digits-only texts, with a few zeros put back in front, hash to the value sent last *is*
the value sent last, not a change.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

from importer.ledger.hashing import field_hashes

MAX_DROPPED = 6  # leading zeros tried in front of one text (a ZIP loses 1-2, an id up to 5)
MAX_TEXTS = 3  # digits-only texts in one field tried together (7 ** 3 = 343 tries at most)

_DIGITS = re.compile(r"[0-9]+")
Path = tuple[str | int, ...]


class TryBudget:
    """How many hashes a whole plan may try, so a file of changed rows stays fast."""

    def __init__(self, tries: int = 100_000) -> None:
        self.left = tries

    def spend(self) -> bool:
        """True (and one try fewer) while tries are left."""
        self.left -= 1
        return self.left >= 0


def _digit_texts(value: Any, path: Path = ()) -> Iterator[Path]:
    """Where ``value`` (walked through dicts and lists) holds a text made only of ASCII digits."""
    if isinstance(value, str):
        if _DIGITS.fullmatch(value):
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _digit_texts(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _digit_texts(item, (*path, index))


def _with_zeros(value: Any, zeros: dict[Path, int], path: Path = ()) -> Any:
    if path in zeros:
        return "0" * zeros[path] + value
    if isinstance(value, dict):
        return {k: _with_zeros(v, zeros, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_zeros(v, zeros, (*path, i)) for i, v in enumerate(value)]
    return value


def zeros_put_back(field: str, value: Any, sent_hash: str, budget: TryBudget) -> Any | None:
    """``value`` of ``field`` with the leading zeros that make its hash ``sent_hash``, else None.

    Tries up to :data:`MAX_DROPPED` zeros in front of each of at most :data:`MAX_TEXTS`
    digits-only texts of the value; None when no such value hashes as sent (a real change).
    """
    texts = list(_digit_texts(value))
    if not texts or len(texts) > MAX_TEXTS:
        return None
    for counts in itertools.product(range(MAX_DROPPED + 1), repeat=len(texts)):
        if not any(counts):
            continue
        if not budget.spend():
            return None
        candidate = _with_zeros(value, dict(zip(texts, counts, strict=True)))
        if field_hashes({field: candidate})[field] == sent_hash:
            return candidate
    return None
