"""How long an appointment lasts, as staff write it: ``30``, ``30 min``, ``45 mins``, ``1 hr``,
``1.5 hours``, ``1h30``, ``1 hr 30 min``, and ``1:30`` or ``0:45`` (hours and minutes, as Excel
shows a duration). The answer is whole minutes; anything else (``30ish``, ``1.33 hours``, which is
no whole number of minutes) is no length. Worked out once per distinct cell.

A bare number is minutes, unless the template reads the column with ``|hours``
(``{Duration (hrs)|hours}``): a column of hours, where ``1.5`` is 90 minutes."""

from __future__ import annotations

import math
import re

import pandas as pd

from importer.values.distinct import map_distinct

_NUMBER = r"[0-9]{1,6}(?:\.[0-9]+)?"
_HOURS = rf"(?P<hours>{_NUMBER})\s*(?:h|hr|hrs|hour|hours)\.?"
_MINUTES = rf"(?P<minutes>{_NUMBER})\s*(?:m|min|mins|minute|minutes)?\.?"
_LENGTH = re.compile(
    rf"(?:{_HOURS}\s*(?:(?P<and>{_NUMBER})\s*(?:m|min|mins|minute|minutes)?\.?)?|{_MINUTES})",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"(?P<hours>[0-9]{1,2}):(?P<minutes>[0-5][0-9])(?::00)?")


_BARE = re.compile(_NUMBER)


# Shorter than this, a bare number is more likely hours than minutes (a 2-minute appointment).
BRIEFEST_MINUTES = 5


def is_bare_number(text: str) -> bool:
    """True for a length written as a number alone (``2``, ``1.5``): no unit says what it counts."""
    return _BARE.fullmatch(text.strip()) is not None


def reads_as_hours(text: str) -> bool:
    """True for a bare number that is a length when read as hours (``2``, ``1.5``; not ``0``)."""
    return is_bare_number(text) and length_in_minutes(in_hours(text)) > 0


def in_hours(text: str) -> str:
    """The ``|hours`` filter: a bare number (``1.5``, in a column headed ``Duration (hrs)``) as
    that many hours (``1.5 h``); a length written with its unit (``30 min``, ``1:30``) as is."""
    return f"{text.strip()} h" if is_bare_number(text) else text


DURATION_FILTERS = {"hours": in_hours}


def length_in_minutes(text: str) -> float:
    """The minutes ``text`` says an appointment lasts; NaN when it says no whole number."""
    written = text.strip()
    clock = _CLOCK.fullmatch(written)
    if clock is not None:
        return float(int(clock["hours"]) * 60 + int(clock["minutes"]))
    found = _LENGTH.fullmatch(written)
    if found is None:
        return math.nan
    if found["hours"] is not None:
        minutes = float(found["hours"]) * 60 + float(found["and"] or 0)
    else:
        minutes = float(found["minutes"])
    return minutes if minutes == int(minutes) else math.nan


def lengths_in_minutes(text: pd.Series) -> pd.Series:
    """:func:`length_in_minutes` of each cell (text, "" for blank: NaN)."""
    return map_distinct(
        text,
        lambda distinct: pd.Series(
            [length_in_minutes(t) if t else math.nan for t in distinct], dtype="float64"
        ),
    )
