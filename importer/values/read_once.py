"""What each date or time text was read as, remembered for the rest of the process.

A big file is checked 25,000 rows at a time, and its parts repeat the same few hundred dates and
times (the start's and the end's date, "{Date}" both, are even read twice a part): read once in
a process, each costs a lookup after (:func:`importer.values.dates._parse`). Remembered by how
it was read (the formats and options) and then by text. Bounded: emptied when a column's new
texts would not fit, and a column of more distinct texts than the bound (a date and time on each
row) is read without it. At most ~0.6 MB a way of reading, ~10 MB in all (a web server's).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import numpy as np
import pandas as pd

_PARSED: dict[Hashable, dict[str, int]] = {}
PARSED_MEMO_SIZE = 5_000  # a part of 25,000 rows holds a few hundred dates, a few hundred times
_PARSED_KINDS = 16  # ways of reading remembered (a mapping has a few; a web server, its mappings')


def read_once(
    how: Hashable, values: pd.Series, read: Callable[[pd.Series], np.ndarray]
) -> np.ndarray:
    """``read(values)`` (a ``datetime64`` array, one per distinct text) as int64 ticks: each
    text read ``how`` before taken from the memory, the others read now and remembered."""
    if len(values) > PARSED_MEMO_SIZE:
        return read(values).view(np.int64)
    memo = _memo(how)
    texts = values.to_numpy(dtype=object).tolist()
    # The answers of this call are gathered apart from the memo, which another thread (the
    # web page's) may empty meanwhile.
    known = {t: tick for t in texts if (tick := memo.get(t)) is not None}
    todo = [t for t in texts if t not in known]
    if todo:
        read_now = read(pd.Series(todo, dtype=values.dtype)).view(np.int64)
        found = dict(zip(todo, read_now.tolist(), strict=True))
        if len(memo) + len(todo) > PARSED_MEMO_SIZE:
            memo.clear()
        memo.update(found)
        known.update(found)
    return np.fromiter((known[t] for t in texts), np.int64, len(texts))


def _memo(how: Hashable) -> dict[str, int]:
    """The texts read ``how`` so far -> what was read (int64 ticks, NaT's too)."""
    memo = _PARSED.get(how)
    if memo is None:
        if len(_PARSED) >= _PARSED_KINDS:
            _PARSED.clear()
        memo = _PARSED[how] = {}
    return memo
