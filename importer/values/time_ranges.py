"""Time ranges in one cell, as schedules write them: ``9:00 AM - 9:30 AM``, ``10:00-10:45 AM``,
``14:00–14:30``, ``9am to 9.30am``.

The filters of a template placeholder ``{Time|start}`` and ``{Time|end}`` give each end of the
range as a time cell would hold it; the time format then reads it as it reads any time. A cell
that is no range is its own start, and has no end (``""``: the row's end is blank and says so).

AM or PM written once (``10:00-10:45 AM``) holds for both ends, unless that puts the start after
the end: ``11:30-12:15 PM`` is 11:30 AM to 12:15 PM, as anyone reading it takes it. An end with
neither, beside a start with one, is read the same way. Worked out once per distinct cell.
"""

from __future__ import annotations

import re

# The two ends, split at a dash (hyphen, en or em dash), "to" or "until"; each end must look like
# a clock time, so a date's dashes ("12-14-2026") never make a range.
_END = r"[0-9]{1,2}(?:[:.][0-9]{2}){0,2}\s*(?:[AaPp]\.?\s?(?:[Mm]\.?)?)?"
# A zone's short name after the range ("9:00-9:30 AM EST") is given to both ends.
_RANGE = re.compile(
    rf"(?P<start>{_END})\s*(?:-|–|—|\bto\b|\buntil\b)\s*(?P<end>{_END})"
    r"(?P<zone>\s+\(?[A-Za-z]{2,4}\)?)?",
    re.IGNORECASE,
)
_MERIDIEM = re.compile(r"\s*(?P<letter>[AaPp])\.?\s?(?:[Mm]\.?)?$")
_CLOCK = re.compile(r"(?P<hour>[0-9]{1,2})(?:[:.](?P<minutes>[0-9]{2}))?(?:[:.][0-9]{2})?")


def range_start(text: str) -> str:
    """The start of a time range (see the module); a cell that is no range, as it is."""
    halves = _halves(text)
    if halves is None:
        return text
    start, end, zone = halves
    return _with_meridiem(start, end, later=False) + zone


def range_end(text: str) -> str:
    """The end of a time range (see the module); ``""`` for a cell that is no range."""
    halves = _halves(text)
    if halves is None:
        return ""
    start, end, zone = halves
    return _with_meridiem(end, start, later=True) + zone


TIME_RANGE_FILTERS = {"start": range_start, "end": range_end}


def _halves(text: str) -> tuple[str, str, str] | None:
    """The start, the end and the zone's name after them ("" for none) of a time range."""
    found = _RANGE.fullmatch(text.strip())
    if found is None:
        return None
    return found["start"].strip(), found["end"].strip(), found["zone"] or ""


def _with_meridiem(time: str, other: str, *, later: bool) -> str:
    """``time`` with the AM or PM of ``other`` when it has none of its own: the one of the two
    that puts it before ``other`` (after it, when ``later``)."""
    if _MERIDIEM.search(time) or not (given := _MERIDIEM.search(other)):
        return time
    clock, other_clock = _CLOCK.fullmatch(time), _CLOCK.fullmatch(other[: given.start()].strip())
    if clock is None or other_clock is None or not 1 <= int(clock["hour"]) <= 12:
        return time  # not a 12-hour clock time: left for the time format to refuse
    pm = given["letter"].lower() == "p"
    other_minutes = _minutes(other_clock, pm=pm)
    same = _minutes(clock, pm=pm)
    if (same > other_minutes) if not later else (same < other_minutes):
        pm = not pm
    return f"{time} {'PM' if pm else 'AM'}"


def _minutes(clock: re.Match[str], *, pm: bool) -> int:
    """Minutes since midnight of a 12-hour clock time."""
    return (int(clock["hour"]) % 12 + (12 if pm else 0)) * 60 + int(clock["minutes"] or 0)
