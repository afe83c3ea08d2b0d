"""How people write the words around a date's and a time's numbers: a day of the week in front
of a date (``Monday, December 14, 2026``), a day as an ordinal (``14th``), AM and PM dotted, as
one letter or as noon (``9:30 a.m.``, ``2:15p``, ``noon``), and a date Excel wrote as its serial
number (``46370``) or a moment in UTC (``2026-12-14T00:00:00Z``). :mod:`importer.values.dates`
takes the words off, or spells them out, before a value is read with its strptime format; a
serial number and a moment are named in a reason, never read as a date."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

# A day of the week in front of a date: "Monday, ", "Tue ", "Thurs. ". The word is looked up in
# _WEEKDAYS, so a month in front ("December 14, 2026") is left as it is.
_WEEKDAY_FIRST = re.compile(r"^(?P<day>[A-Za-z]{3,9})\.?,?\s+(?=[0-9A-Za-z])")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEKDAYS = {
    name: day
    for day, full in enumerate(DAY_NAMES)
    for name in (full.casefold(), full[:3].casefold())
} | {"tues": 1, "thur": 3, "thurs": 3}
NO_DAY = -1


def weekday_first(text: str) -> tuple[str, int]:
    """``text`` without a day of the week in front, and that day (0 = Monday; -1: none)."""
    if not text[:1].isalpha():
        return text, NO_DAY
    found = _WEEKDAY_FIRST.match(text)
    day = _WEEKDAYS.get(found["day"].casefold(), NO_DAY) if found else NO_DAY
    return (text, NO_DAY) if found is None or day == NO_DAY else (text[found.end() :], day)


# A day written as an ordinal, as people type dates out: "December 14th, 2026", "1st May 2026".
_ORDINAL = re.compile(r"(?<![0-9])([0-9]{1,2})(?:st|nd|rd|th)\b", re.IGNORECASE)


def without_ordinal(text: str) -> str:
    """``text`` with a day's ordinal ending taken off ("14th" -> "14")."""
    return _ORDINAL.sub(r"\1", text)


def weekdays_of(parsed: np.ndarray) -> np.ndarray:
    """The day of the week of each wall clock (0 = Monday); 1970-01-01 was a Thursday."""
    return (parsed.astype("datetime64[D]").astype(np.int64) + 3) % 7


# AM and PM as newspapers write them: "9:30 a.m." is read as "9:30 am"; as practice systems
# print them, one letter: "2:15p" is read as "2:15 pm"; and "noon" or "12 noon" as "12:00 pm".
_DOTTED = re.compile(r"(?<=[0-9\s])([aApP])\.\s?([mM])\.?$")
_ONE_LETTER = re.compile(r"(?<=[0-9])\s?([aApP])\.?$")
_NOON = re.compile(r"(?i)^(?:12(?:[:.]00)?\s*)?noon$")


def meridiem_spelt_out(values: pd.Series) -> pd.Series:
    """``values`` with AM and PM as the 12-hour formats read them (see above)."""
    values = values.str.replace(_DOTTED, r"\1\2", regex=True)
    values = values.str.replace(_ONE_LETTER, r" \1m", regex=True)
    return values.str.replace(_NOON, "12:00 pm", regex=True)


# A date Excel shows as a number (the column's format is General): days since 1899-12-30, from
# 1954 to 2119; a fraction is the time of day. Only named in a reason, never read as a date: the
# file does not say whether its workbook counted from 1900 or (old Macs) from 1904.
_SERIAL = re.compile(r"(?P<days>[2-7][0-9]{4})(?:[.,](?P<fraction>[0-9]+))?")
_SERIAL_EPOCH = dt.datetime(1899, 12, 30)


def serial_date_reason(value: str) -> str:
    """Why ``value`` is not a date when it is Excel's number for one, else ""."""
    found = _SERIAL.fullmatch(value.strip())
    if found is None:
        return ""
    minutes = round(float(f"0.{found.group('fraction') or 0}") * 24 * 60)
    when = _SERIAL_EPOCH + dt.timedelta(days=int(found.group("days")), minutes=minutes)
    shown = f"{when.day} {when:%B %Y}" + (f" at {when:%H:%M}" if found.group("fraction") else "")
    return (
        f"is a number, not a date: Excel shows dates as numbers like this when the column's "
        f"format is General ({value.strip()} would be {shown}); format the column as a date in "
        "Excel and save the file again"
    )


_DAY_FRACTION = re.compile(r"0?[.,][0-9]+")  # a comma where Excel writes decimal commas


def day_fraction_reason(value: str) -> str:
    """Why ``value`` is not a time when it is Excel's number for one (a fraction of a day:
    0.375 is 9:00), else ""."""
    if _DAY_FRACTION.fullmatch(value.strip()) is None:
        return ""
    minutes = round(float(value.strip().replace(",", ".")) * 24 * 60)
    if minutes >= 24 * 60:
        return ""
    when = dt.time(minutes // 60, minutes % 60)
    return (
        f"is a number, not a time: Excel shows times as fractions of a day like this when the "
        f"column's format is General ({value.strip()} would be {when:%H:%M}); format the column "
        "as a time in Excel and save the file again"
    )


# A moment with its offset, as web systems export a date (2026-12-14T00:00:00Z, JavaScript's
# 2026-12-14T00:00:00.000Z): the day it falls on depends on the zone, so it is not read as one.
_MOMENT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?"
    r"\s*(?:Z|[+-][0-9]{2}:?[0-9]{2})"
)


def is_moment(value: str) -> bool:
    """True for a moment with its offset (see _MOMENT): a day only in one zone."""
    return _MOMENT.fullmatch(value.strip()) is not None


def moment_reason(value: str, example: str) -> str:
    """Why a moment with its offset is not a date (see _MOMENT), else ""; ``example``: a date
    as the column should hold it."""
    if _MOMENT.fullmatch(value) is None:
        return ""
    return (
        "is a moment in UTC time (Z) or at an offset, not a day: which day it is depends on the "
        f"time zone, so it is not guessed; export the date alone, like {example}"
    )
