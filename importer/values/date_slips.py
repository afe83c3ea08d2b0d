"""A date written in another order than the mapping reads: ``12/15/2026`` in a column of ISO dates.

Excel writes an ISO date (``2026-12-15``) in the computer's own order when it saves a CSV file:
``12/15/2026`` in the US, ``15/12/2026`` in the UK. A mapping that reads ISO dates only refuses
such a row; :func:`saved_other_way` says so, with the ``date_format`` that reads it (both orders
when day and month are 12 or less). :mod:`importer.values.dates` gives the reason.
"""

from __future__ import annotations

import re

from importer.values.format_words import shape_in_words

_SLASHED = re.compile(r"(?P<a>[0-9]{1,2})/(?P<b>[0-9]{1,2})/[0-9]{4}")
_ISO = "%Y-%m-%d"


def saved_other_way(value: str, date_format: str | None) -> str:
    """Why ``value``, a date written day and month with slashes, is refused where the mapping
    reads ISO dates only, with the format that would read it; "" for any other value or
    mapping."""
    if date_format not in (None, _ISO):
        return ""
    found = _SLASHED.fullmatch(value.strip())
    if found is None:
        return ""
    first, second = int(found.group("a")), int(found.group("b"))
    if first > 12 >= second:
        formats = ["%d/%m/%Y"]
    elif second > 12 >= first:
        formats = ["%m/%d/%Y"]
    elif first <= 12 and second <= 12:
        formats = ["%m/%d/%Y", "%d/%m/%Y"]
    else:
        return ""
    shapes = " or ".join(shape_in_words(f) for f in formats)
    keys = " or ".join(f'date_format: "{f}"' for f in formats)
    return (
        f"is written {shapes} (Excel writes dates so when it saves a file), but the mapping "
        f"reads only {shape_in_words(_ISO)} dates: choose {shapes} as its date format, "
        f"whichever the file uses ({keys})"
    )
