"""Dates and times from text cells, for a whole column at once.

A point in time travels as two aligned Series: the local **wall clock** (``datetime64[s]``, no
zone) and the **offset** from UTC that the row's zone has at that moment (``timedelta64[s]``).
The API wants exactly that pair, ``2026-07-01T09:00:00-07:00``, and ``wall - offset`` is UTC.
This module reads the wall clock; :mod:`importer.values.offsets` finds the offset.

Parsing never guesses: every value must match one of a fixed list of strptime formats, tried in
order with ``pd.to_datetime(..., format=..., errors="coerce")`` over the distinct values of a
column. The mapping's ``date_format``/``time_format`` come first, then ISO (``2026-12-01``,
``14:30``, ``14:30:15``), which is how the loader writes Excel date and time cells. Day and month
are never swapped: ``13/04/2026`` with ``%m/%d/%Y`` is invalid, not 4 April. A date whose month
is a name (``Dec 15, 2026``, ``15 December 2026``, Excel's ``15-Dec-26``) is read whatever the
format: the name leaves no doubt about the day.

AM/PM is matched case-insensitively (``9:30 AM``, ``09:30 am``, ``9:30 pm``), and with a 12-hour
``time_format`` like ``%I:%M %p`` the space may be left out (``9:30am``), the minutes too when
AM or PM is there (``9 AM``, ``9am``), the seconds may be there (``9:30:00 AM``), and AM/PM may be
dotted (``9:30 a.m.``). An ISO time needs
a two-digit hour (``09:30``, ``14:30``): in a sheet of 12-hour times, ``2:30`` without AM/PM
could mean 2:30 PM, so it is rejected rather than read as 2:30 in the night.

Minutes and seconds are two digits: ``9:5`` may be 9:05 or 9:50, so it is not a time. Where the
mapping's 12-hour format separates hours and minutes with a dot (``%I.%M %p``, as in the UK:
``9.30am``), a two-digit hour with a dot (``14.30``) is read as a 24-hour time, as ``14:30`` is.

A day may be written as an ordinal (``December 14th, 2026``), and a date may have its day of the
week in front, as Excel's Long Date writes it (``Monday, December 14, 2026``) and schedules show
it (``Tue 12/15/2026``): the day is left out to read the date, then checked against it. A day
that is not the date's (``Monday, December 15, 2026``) makes the cell no date: which of the two
did the clinic mean? With a 12-hour format, AM and PM may be one letter (``2:15p``, ``9a``) and
noon a word (``noon``, ``12 noon``).

A cell of a date column that also shows midnight (``12/14/2026 0:00``: a date-and-time cell of
Excel saved to CSV) is that date; one showing another time is not a date.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

import numpy as np
import pandas as pd

from importer.values.date_slips import saved_other_way
from importer.values.date_words import (
    DAY_NAMES,
    NO_DAY,
    day_fraction_reason,
    meridiem_spelt_out,
    moment_reason,
    serial_date_reason,
    weekday_first,
    weekdays_of,
    without_ordinal,
)
from importer.values.distinct import map_distinct
from importer.values.format_words import EXAMPLE, format_in_words
from importer.values.read_once import read_once
from importer.values.time_slips import (
    ONE_DIGIT_IN_DATETIME,
    ONE_DIGIT_TIME,
    no_colon_reason,
    one_digit_reason,
)

ISO_DATE = "%Y-%m-%d"


ISO_TIMES = ("%H:%M", "%H:%M:%S")


_ISO_TIME_SHAPE = r"\d{2}:\d{2}(?::\d{2})?"


# An ISO datetime that carries its own offset: kept as written, never re-localised.
# Fractions of a second (JavaScript's 2026-12-14T17:00:00.000Z) are dropped: reminders keep
# the minute.
_OWN_OFFSET = re.compile(
    r"^(?P<body>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)(?:\.\d{1,9})?\s*"
    r"(?P<offset>Z|[+-]\d{2}:?\d{2})$"
)


WALL: Final = "datetime64[s]"


SPAN: Final = "timedelta64[s]"


@dataclass(frozen=True, slots=True)
class _Format:
    """A strptime format, and the shape a value must have before it is tried (None: any)."""

    strptime: str
    shape: re.Pattern[str] | None = None
    midnight: bool = False  # only a value at midnight is read (a date with a time after it)


def _date_formats(date_format: str | None) -> list[_Format]:
    formats = [date_format] if date_format and date_format != ISO_DATE else []
    return [_Format(f) for f in [*formats, ISO_DATE]]


# Dates whose month is a name leave no doubt about which number is the day: a column of
# 12/14/2026 may hold a "Dec 15, 2026" or a "15-Dec-26" (Excel's dd-mmm-yy) typed by hand, and
# each is read whatever the mapping's format. A two-digit year only in Excel's own shape.
_MONTH_NAMED = tuple(
    _Format(f, re.compile(r"[A-Za-z]{3}"))
    for f in (
        *(f"%d{sep}%b{sep}%Y" for sep in (" ", "-")),
        "%d-%b-%y",
        "%d %B %Y",
        *(f"%{m} %d{comma} %Y" for m in "bB" for comma in ("", ",")),
    )
)


# The times a date-and-time cell shows at midnight, once saved to CSV ("12/14/2026 0:00",
# "2026-12-14 00:00:00"): such a cell in a column of dates is that date.
_MIDNIGHT_TIMES = (" %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p", "T%H:%M:%S")


def _dated_times(date_format: str | None) -> list[_Format]:
    """A date with a time after it, in each date format (the time is judged by the caller)."""
    dates = _date_formats(date_format)
    return [
        _Format(f"{d.strptime}{t}", _DATED_SHAPE, midnight=True)
        for d in dates
        for t in _MIDNIGHT_TIMES
    ]


# Only values of these shapes are tried with the formats that follow: a file read in parts pays
# every pandas call once per part, for each mistyped value (~0.5 s per 1,000,000 rows).
_DATED_SHAPE = re.compile(r"[0-9][ T][0-9]{1,2}:[0-9]{2}")
_MERIDIEM_SHAPE = re.compile(r"[0-9]\s*[AaPp]\.?\s?[Mm]\.?$")


def _twelve_hour(time_format: str | None) -> bool:
    return bool(time_format) and "%I" in str(time_format) and "%p" in str(time_format)


def _time_formats(time_format: str | None) -> list[_Format]:
    formats: list[_Format] = []
    if time_format:  # the sheet's own format, "%H:%M" too: there "9:30" means 09:30
        formats.append(_Format(time_format))
        if " %p" in time_format:  # "9:30am" as well as "9:30 am"
            formats.append(_Format(time_format.replace(" %p", "%p")))
    if _twelve_hour(time_format):
        # Any 12-hour time with its AM or PM, the minutes left out too: "9 AM", "9am", "12 PM"
        # (and "9:30 AM" where a mapping's format is the hour alone), or with seconds, as Excel
        # saves a time cell of format h:mm:ss AM/PM to CSV ("9:30:00 AM").
        twelve = ("%I:%M %p", "%I:%M%p", "%I:%M:%S %p", "%I:%M:%S%p", "%I %p", "%I%p")
        formats += [_Format(f, _MERIDIEM_SHAPE) for f in twelve]
        if "%I.%M" in str(time_format):  # "14.30" beside "9.30am", as "14:30" beside "9:30am"
            formats.append(_Format("%H.%M", _DOTTED_ISO_SHAPE))
    iso = re.compile(rf"^{_ISO_TIME_SHAPE}$")
    return formats + [_Format(f, iso) for f in ISO_TIMES]


_DOTTED_ISO_SHAPE = re.compile(r"^[0-9]{2}\.[0-9]{2}$")


def _datetime_formats(date_format: str | None, time_format: str | None) -> list[_Format]:
    formats = []
    for date in _date_formats(date_format):
        for time in _time_formats(time_format):
            formats.append(_Format(f"{date.strptime} {time.strptime}", _after_date(time.shape)))
    formats += [_Format(f"{ISO_DATE}T{t}") for t in ISO_TIMES]
    return formats


def _after_date(shape: re.Pattern[str] | None) -> re.Pattern[str] | None:
    """A time's shape where the time follows a date: a shape of the whole cell (``^14.30$``)
    then starts after a space; one searched at the end (AM or PM) is searched as it is."""
    if shape is None or not shape.pattern.startswith("^"):
        return shape
    return re.compile(rf"\s{shape.pattern[1:]}")


def date_problem(date_format: str | None) -> str:
    """The reason given for a date cell that matches no accepted format."""
    if date_format and date_format != ISO_DATE:
        return f"does not match the date format {format_in_words(date_format)} or YYYY-MM-DD"
    return f"is not a date in the form {format_in_words(ISO_DATE)}"


def time_problem(time_format: str | None) -> str:
    """The reason given for a time cell that matches no accepted format."""
    iso = "24-hour HH:mm (e.g. 14:30)"
    if time_format and time_format not in ISO_TIMES:
        return f"does not match the time format {format_in_words(time_format)} or {iso}"
    return f"is not a time in the form {iso}"


def time_reasons(text: pd.Series, time_format: str | None) -> pd.Series:
    """Why each time cell is not a time (one answer per distinct value)."""
    general = time_problem(time_format)

    def reason(value: str) -> str:
        return (  # "0.5" is half a day before it is 0:05 or 0:50
            day_fraction_reason(value)
            or one_digit_reason(value)
            or no_colon_reason(value, twelve_hour=_twelve_hour(time_format))
            or general
        )

    return map_distinct(
        text.fillna(""), lambda values: pd.Series([reason(v.strip()) for v in values], dtype="str")
    )


def datetime_problem(date_format: str | None, time_format: str | None) -> str:
    """The reason given for a date-and-time cell that matches no accepted format."""
    own = ""
    if date_format or time_format:
        both = f"{date_format or ISO_DATE} {time_format or ISO_TIMES[0]}"
        own = f"the format {format_in_words(both)} or "
    return (
        f"does not match {own}ISO YYYY-MM-DD HH:mm (e.g. 2026-12-31 14:30, "
        "or 2026-12-31T14:30:00-08:00 with its own offset)"
    )


_NUMBER_FIELDS = {"%d": r"(?P<day>\d{1,2})", "%m": r"(?P<month>\d{1,2})", "%Y": r"(?P<year>\d{4})"}


def _numeric_shape(fmt: str) -> re.Pattern[str] | None:
    """A regex reading day, month and year out of text written in ``fmt``; None when ``fmt``
    does not hold all three as numbers (``%d %b %Y``)."""
    if any(code not in fmt for code in _NUMBER_FIELDS):
        return None
    parts = re.split(r"(%.)", fmt)
    pattern = "".join(
        _NUMBER_FIELDS.get(p, ".+?" if p.startswith("%") else re.escape(p)) for p in parts
    )
    return re.compile(pattern)


def _impossible_date(value: str, date_format: str | None) -> str:
    """What makes ``value`` an impossible date in plain words ("there is no 32 December"), or
    "" when it is not a date with an impossible day or month."""
    for fmt in dict.fromkeys([date_format or ISO_DATE, ISO_DATE]):
        shape = _numeric_shape(fmt)
        found = shape.fullmatch(value.strip()) if shape else None
        if found is None:
            continue
        day, month, year = (int(found.group(k)) for k in ("day", "month", "year"))
        if not 1 <= month <= 12:
            other = "day" if fmt.index("%m") < fmt.index("%d") else "month"
            turned = f" was it typed {other} first?" if 1 <= day <= 12 else ""
            order = f"dates here are written {format_in_words(fmt)}"
            return f"there is no month {month}: {order};{turned}".rstrip(";")
        try:
            dt.date(year, month, day)
        except ValueError:
            name = dt.date(2000, month, 1).strftime("%B")
            leap = f" {year}: {year} is not a leap year" if month == 2 and day == 29 else ""
            return f"there is no {day} {name}{leap}"
        return ""
    return ""


_TIME_AFTER = re.compile(r"(?:\s+|T)[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?(?:\s*[AaPp][Mm])?$")


def _timed_date(moment: pd.Timestamp, date_format: str | None) -> str:
    """Why a date cell is not a date when it holds ``moment``, a date with a time other than
    midnight (NaT: it does not), else ""."""
    if pd.isna(moment):
        return ""
    example = EXAMPLE.strftime(date_format or ISO_DATE)
    return (
        f"holds a time ({moment:%H:%M}) as well as a date, in a column of dates: write the "
        f"date alone, like {example}"
    )


def date_reasons(text: pd.Series, date_format: str | None) -> pd.Series:
    """Why each date cell is not a date, as specific as the value allows (one per distinct)."""
    general = date_problem(date_format)

    timed = [replace(f, midnight=False) for f in _dated_times(date_format)]

    def reason(value: str, moment: pd.Timestamp) -> str:
        rest = weekday_first(value.strip())[0]
        return (
            _wrong_weekday(value, _date_formats(date_format) + timed)
            or serial_date_reason(rest)
            or moment_reason(rest, EXAMPLE.strftime(date_format or ISO_DATE))
            or _timed_date(moment, date_format)
            or _impossible_date(_TIME_AFTER.sub("", rest), date_format)
            or saved_other_way(_TIME_AFTER.sub("", rest), date_format)
            or general
        )

    def reasons(values: pd.Series) -> pd.Series:
        # The dates with a time, read in one pass over the distinct values: a parse per value
        # costs a dozen pandas calls each (~0.3 s for a part with 50 mistyped dates).
        moments = _parse(values.str.strip(), timed, weekday=True)
        return pd.Series([reason(v, m) for v, m in zip(values, moments, strict=True)], dtype="str")

    return map_distinct(text.fillna(""), reasons)


def datetime_reasons(
    text: pd.Series, date_format: str | None, time_format: str | None
) -> pd.Series:
    """Why each date-and-time cell is not one: the time is missing, the date impossible, or the
    form is not one of those accepted (one answer per distinct value)."""
    general = datetime_problem(date_format, time_format)
    example = EXAMPLE.strftime(f"{date_format or ISO_DATE} {time_format or ISO_TIMES[0]}")

    def reason(value: str) -> str:
        rest = weekday_first(value.strip())[0]
        date_part = re.split(r"[T\s]", rest, maxsplit=1)[0]
        # The date alone: not a date followed by a time (midnight or not), which has one.
        alone = _parse(pd.Series([rest], dtype="str"), _date_formats(date_format)).iloc[0]
        if not pd.isna(alone):
            return f"has a date but no time: write the time after the date, like {example}"
        formats = _datetime_formats(date_format, time_format)
        return (
            _wrong_weekday(value, formats, undot=_twelve_hour(time_format))
            or one_digit_reason(rest, in_datetime=True)
            or serial_date_reason(rest)
            or _impossible_date(date_part, date_format)
            or general
        )

    return map_distinct(
        text.fillna(""), lambda values: pd.Series([reason(v) for v in values], dtype="str")
    )


def _wrong_weekday(value: str, formats: Sequence[_Format], *, undot: bool = False) -> str:
    """Why ``value`` is not a date when the day of the week in front of it is not its date's
    (``Monday, December 15, 2026``), else ""."""
    rest, said = weekday_first(value.strip())
    if said == NO_DAY:
        return ""
    rest = without_ordinal(rest)
    when = _parse(pd.Series([rest], dtype="str"), formats, undot=undot).iloc[0]
    if pd.isna(when) or when.weekday() == said:
        return ""
    return (
        f"says {DAY_NAMES[said]}, but {when.day} {when:%B %Y} is a {when:%A}: check the day "
        "and the date"
    )


def _parse(
    text: pd.Series,
    formats: Sequence[_Format],
    *,
    undot: bool = False,
    refused: re.Pattern[str] | None = None,
    weekday: bool = False,
) -> pd.Series:
    """Parse each distinct value with the first format that matches; NaT where none does.
    ``undot``: AM and PM may be dotted (``9:30 a.m.``), one letter (``2:15p``), and noon a word.
    ``refused``: values where it is found are NaT whatever the formats say (a one-digit minute,
    which strptime would read). ``weekday``: a value may start with its day of the week, which
    must be its date's."""

    how = (tuple(formats), undot, refused, weekday)

    def parse_distinct(values: pd.Series) -> pd.Series:
        ticks = read_once(how, values, parse_texts)
        return pd.Series(ticks.view(WALL), index=values.index)

    def parse_texts(values: pd.Series) -> np.ndarray:
        if undot:
            values = meridiem_spelt_out(values)
        # numpy arrays between the formats, not Series: the same parsing at a third less fixed
        # cost per call, which a file read 25,000 rows at a time pays in every part.
        texts = values.to_numpy(dtype=object)
        said = None
        if weekday:
            split = [weekday_first(t) for t in texts.tolist()]
            said = np.fromiter((day for _, day in split), np.int64, len(split))
            if (said != NO_DAY).any():
                texts = np.array([rest for rest, _ in split], dtype=object)
            texts = np.array([without_ordinal(t) for t in texts.tolist()], dtype=object)
        parsed = np.full(len(texts), np.datetime64("NaT"), dtype=WALL)
        written = texts != ""
        if refused is not None:
            search = refused.search
            written &= np.fromiter((search(t) is None for t in texts), bool, len(texts))
        for fmt in formats:
            todo = written & np.isnat(parsed)
            if fmt.shape is not None and todo.any():
                # Only the values still unread are searched: most are read by the first format.
                search = fmt.shape.search
                at = np.flatnonzero(todo)
                shaped = np.fromiter((search(t) is not None for t in texts[at]), bool, len(at))
                todo[at[~shaped]] = False
            if todo.any():
                found = pd.to_datetime(texts[todo], format=fmt.strptime, errors="coerce")
                if fmt.midnight:
                    found = found.where(found == found.normalize())
                parsed[todo] = found.to_numpy().astype(WALL)
        if said is not None:
            named = (said != NO_DAY) & ~np.isnat(parsed)
            parsed[named & (weekdays_of(parsed) != said)] = np.datetime64("NaT")
        return parsed

    return map_distinct(text.fillna(""), parse_distinct)


def parse_dates(text: pd.Series, date_format: str | None, *, month_names: bool = True) -> pd.Series:
    """Local midnight of each date cell (``datetime64[s]``); NaT where blank or not a date.

    A date followed by midnight (``12/14/2026 0:00``, how a CSV shows a date-and-time cell) is
    that date; followed by any other time it is not a date (which time would the row mean?).
    ``month_names`` False: a date whose month is a name is read only by ``date_format`` (the
    assistant, guessing a column's format, asks what each format alone reads).
    """
    formats = _date_formats(date_format)
    if month_names:
        formats += [f for f in _MONTH_NAMED if f.strptime not in {g.strptime for g in formats}]
    return _parse(text, formats + _dated_times(date_format), weekday=True)


def parse_times(text: pd.Series, time_format: str | None) -> pd.Series:
    """Time of day of each time cell, as time since midnight; NaT where blank or not a time."""
    moments = _parse(
        text, _time_formats(time_format), undot=_twelve_hour(time_format), refused=ONE_DIGIT_TIME
    )
    return (moments - moments.dt.normalize()).astype(SPAN)


def parse_datetimes(
    text: pd.Series, date_format: str | None, time_format: str | None
) -> tuple[pd.Series, pd.Series]:
    """Wall clock and own offset of cells holding a date and a time.

    The offset is NaT unless the cell carries one (``2026-07-01T09:00:00-04:00``, ``...Z``):
    such a value keeps its offset and is not localised into the row's zone.
    """
    text = text.fillna("")
    parts = text.str.extract(_OWN_OFFSET)
    has_offset = parts["body"].notna()
    formats = _datetime_formats(date_format, time_format)
    wall = _parse(
        text.mask(has_offset, ""),
        formats,
        undot=_twelve_hour(time_format),
        refused=ONE_DIGIT_IN_DATETIME,
        weekday=True,
    )
    offset = pd.Series(pd.NaT, index=text.index, dtype=SPAN)
    if has_offset.any():
        body = parts["body"][has_offset].str.replace(" ", "T")
        iso = _parse(body, [_Format(f"{ISO_DATE}T{t}") for t in ISO_TIMES])
        suffix = parts["offset"][has_offset].str.replace(":", "").replace("Z", "+0000")
        hours, minutes = suffix.str[1:3].astype(int), suffix.str[3:5].astype(int)
        sign = np.where(suffix.str[0] == "-", -1, 1)
        own = pd.to_timedelta(sign * (hours * 60 + minutes), unit="min").astype(SPAN)
        sane = (hours <= 14) & (minutes < 60)  # real offsets run from -12:00 to +14:00
        wall[has_offset] = iso.where(sane)
        offset[has_offset] = own.where(sane & iso.notna())
    return wall, offset
