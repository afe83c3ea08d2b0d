"""A date written inside a longer text: ``{@title|date}`` reads the date of a day's sheet from its
title ("Riverside Family Dental - Monday, December 14, 2026"), ``{@file|date}`` from a daily
export's file name ("appointments_2026-12-14"). The filter gives the date as written there; the
mapping's date format then reads it like any date cell, its day of the week checked.

Only a text with exactly one date gives it. A text with two dates, none, one that speaks of a
week ("Week of December 14, 2026"), of a span of days ("from 12/14/2026") or of when the sheet
was made ("Printed 12/13/2026") gives none, and :func:`date_in_reason` says why: every row
would otherwise get one day that is not theirs.
"""

from __future__ import annotations

import re

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?,?\s+)?"
_DAY = r"[0-9]{1,2}(?:st|nd|rd|th)?"
_YEAR = r"[0-9]{4}"
_NUMBERS = (
    r"[0-9]{4}[/.\-][0-9]{1,2}[/.\-][0-9]{1,2}"
    r"|[0-9]{1,2}[/.\-][0-9]{1,2}[/.\-](?:[0-9]{4}|[0-9]{2})"
)
_DATE = re.compile(
    rf"(?<![^\W_]|[/.\-]){_WEEKDAY}"
    rf"(?:{_MONTH}\s+{_DAY},?\s+{_YEAR}|{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}|{_NUMBERS})"
    r"(?![^\W_]|[/\-]|\.[0-9])",
    re.IGNORECASE,
)
_WEEK = re.compile(r"(?i)\bweek")
# A day and month without a year: "Monday 14th December", "Dec 14", "Mon 12-14" (a sheet's name).
_NO_YEAR = re.compile(
    rf"(?<![^\W_]){_WEEKDAY}(?:{_MONTH}\s+{_DAY}|{_DAY}\s+(?:of\s+)?{_MONTH})(?![^\W_])"
    r"|(?<![^\W_])(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?,?\s+"
    r"[0-9]{1,2}[/\-][0-9]{1,2}(?![^\W_]|[/\-])",
    re.IGNORECASE,
)

YEARLESS = "has a date without its year"
NO_DATE = "has no date in it (like December 14, 2026): the rows' date is not known"


def _found(text: str) -> list[str]:
    return list(dict.fromkeys(m.group(0).rstrip(".") for m in _DATE.finditer(text)))


# A date that says when the sheet was made, not which day its rows are on: "Printed 12/13/2026",
# "Exported on ...", "Report date ...", "As of ...".
_MADE = re.compile(
    r"(?i)\b(?:printed|print date|generated|exported|export date|created|run (?:on|date)"
    r"|report date|as of|updated|saved)\b"
)


# A date that starts or ends a span of days: "Appointments from 12/14/2026", "... until ...".
_SPAN = re.compile(
    r"(?i)\b(?:from|since|starting|beginning|through|thru|until|till|onwards?|between)\b"
)


def date_in(text: str) -> str:
    """The one date written in ``text``, as written; "" when there is none, several, or the
    text speaks of a week, of a span of days or of when it was made (printed, exported)."""
    found = _found(text)
    if len(found) != 1 or any(p.search(text) is not None for p in (_WEEK, _SPAN, _MADE)):
        return ""
    return found[0]


def date_in_reason(text: str) -> str:
    """Why ``text`` gives no date to its rows ("" when it gives one)."""
    found = _found(text)
    if len(found) > 1:
        shown = " and ".join(repr(f) for f in found[:2])
        return f"holds {len(found)} dates ({shown}): which one the rows are on is not known"
    if not found:
        yearless = _NO_YEAR.search(text)
        if yearless is not None:
            return (
                f"{YEARLESS} ({yearless.group(0)!r}): the year is not guessed; write the date in "
                "full, like December 14, 2026"
            )
        return NO_DATE
    if (made := _MADE.search(text)) is not None:
        return (
            f"says when it was {made.group(0).lower()} ({found[0]!r}), which need not be the "
            "rows' day: the rows' date is not known; add a column of dates"
        )
    if (span := _SPAN.search(text)) is not None:
        return (
            f"speaks of days {span.group(0).lower()} {found[0]!r}, not of one day: each row's "
            "own day is not known; add a column of dates"
        )
    if _WEEK.search(text) is not None:
        return (
            f"speaks of a week ({found[0]!r}): each row's own day is not known; add a column of "
            "dates"
        )
    return ""


DATE_FILTERS = {"date": date_in}
