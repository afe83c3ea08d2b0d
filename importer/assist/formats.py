"""Guessing the date and time formats of a sheet's columns, for the mapping assistant.

Each candidate strptime format is tried with the parser the import itself uses
(:func:`~importer.values.dates.parse_dates`, :func:`~importer.values.dates.parse_times`), so a
guessed format reads exactly the values it was judged on. ISO (``2026-12-14``, ``14:30``; what the
loader writes for Excel date and time cells) is always accepted and needs no format.

The guess is refused, never made, when the values cannot tell day from month (every day and month
is 12 or less: ``03/04/2026`` is 3 April or March 4) or a 24-hour clock from a 12-hour one without
AM/PM (``2:30`` is at night or in the afternoon). A wrong guess would import every appointment on
the wrong day; a refusal costs the user one choice.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from importer.values import format_in_words, parse_dates, parse_times
from importer.values.time_ranges import range_end, range_start
from importer.values.zone_names import split_zone_names

DATE_CANDIDATES = (
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%m/%d/%y",
    "%d/%m/%y",
    "%m-%d-%Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%m.%d.%Y",
    "%d.%m.%y",
    "%m.%d.%y",
    "%Y/%m/%d",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
)
# "%I.%M %p": the UK's "9.30am" (with "14.30" beside it: the import reads both).
TIME_CANDIDATES = ("%I:%M %p", "%I:%M:%S %p", "%I %p", "%I.%M %p", "%H:%M", "%H:%M:%S", "%H.%M")
_TWENTY_FOUR_HOUR = ("%H:%M", "%H:%M:%S", "%H.%M")
ISO_MAJORITY = 0.9  # this share of ISO dates: other forms are refused, not guessed
RANGE_MAJORITY = 0.5  # this share of a time column's cells are ranges: it is a column of ranges
CONTRADICTIONS_TOLERATED = 0.1  # day-first values among month-first ones (typos), as a share
EXAMPLES_SHOWN = 3
# A date, then a time: "12/14/2026 8:30 AM", "2026-12-14T08:30", "14.12.2026 14:30".
_DATE_THEN_TIME = re.compile(
    r"^(?P<date>.+?)[ T](?P<time>\d{1,2}(?:[:.]\d{2}){1,2}(?:\s*[AaPp]\.?(?:[Mm]\.?)?)?)$"
)


def time_range_halves(values: pd.Series) -> tuple[pd.Series, pd.Series] | None:
    """The starts and ends of a column of time ranges (``9:00 AM - 9:30 AM``: see
    :mod:`importer.values.time_ranges`), or None when most of its cells are no range."""
    text = values.dropna().astype("str").str.strip()
    text = text[text != ""]
    if text.empty:
        return None
    ends = text.map(range_end)
    if float((ends != "").mean()) < RANGE_MAJORITY:
        return None
    return text.map(range_start).astype("str"), ends[ends != ""].astype("str")


class Confidence(enum.StrEnum):
    """How sure the assistant is of a choice; written next to it in the mapping."""

    HIGH = "high"  # name and values agree
    MEDIUM = "medium"  # one of them, or the values only mostly
    LOW = "low"  # a guess: check it
    CHOSEN = "chosen"  # the user chose it


@dataclass(frozen=True, slots=True)
class FormatGuess:
    """A guessed strptime format, or a refusal naming the formats the user must choose from."""

    format: str | None  # None: ISO only (no format needed), or refused
    confidence: Confidence
    reason: str  # plain words, with examples and row numbers
    share: float = 0.0  # share of the non-blank rows the best candidate (or ISO) reads, 0..1
    choices: tuple[str, ...] = ()  # not empty: refused; the user must pick one of these

    @property
    def refused(self) -> bool:
        """True when the values cannot decide and the user has to choose."""
        return bool(self.choices)


_CODE_SHAPES = {
    "%d": r"\d{1,2}(?:st|nd|rd|th)?",
    "%m": r"\d{1,2}",
    "%Y": r"\d{4}",
    "%y": r"\d{2}",
    "%b": r"[^\W\d_]{3,4}\.?",
    "%B": r"[^\W\d_]+",
    "%H": r"\d{1,2}",
    "%I": r"\d{1,2}",
    "%M": r"\d{2}",
    "%S": r"\d{2}",
    "%p": r"[AaPp]\.?(?:[Mm]\.?)?",
}


# What the import reads beside a format's own shape: a date followed by a time (kept only when
# it is midnight, ``12/14/2026 0:00``); a 12-hour time with the hour alone (``9am``); beside
# dotted 12-hour times, a dotted 24-hour one (``14.30``).
_TIME_AFTER_DATE = r"(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?(?:\s*[AaPp]\.?(?:[Mm]\.?)?)?)?"
_HOUR_ALONE = r"|[0-9]{1,2}\s*[AaPp]\.?(?:\s?[Mm]\.?)?|(?:12(?:[:.]00)?\s*)?[Nn][Oo][Oo][Nn]"
# A day of the week in front of a date ("Monday, December 14, 2026", "Tue 12/15/2026").
_WEEKDAY_BEFORE = r"(?:[A-Za-z]{3,9}\.?,?\s+)?"
_DOTTED_TWENTY_FOUR = r"|[0-9]{2}\.[0-9]{2}"  # "14.30" beside "9.30am"


def _shape(fmt: str) -> re.Pattern[str]:
    """A loose regex of the text the import reads with ``fmt``: only formats whose shape some
    value has are parsed (each parse is a pandas call; most candidates fit no value at all)."""
    pattern = ""
    for token in re.findall(r"%.|.", fmt, flags=re.DOTALL):
        if token in _CODE_SHAPES:
            pattern += _CODE_SHAPES[token]
        elif token == " ":
            pattern += r"\s*"
        else:
            pattern += re.escape(token)
    if "%d" in fmt or "%b" in fmt or "%B" in fmt:  # a date format
        pattern = _WEEKDAY_BEFORE + pattern + _TIME_AFTER_DATE
    elif "%I" in fmt and "%p" in fmt:
        pattern = f"(?:{pattern}){_HOUR_ALONE}"
        if "%I.%M" in fmt:
            pattern += _DOTTED_TWENTY_FOUR
    return re.compile(pattern)


def _strict_dates(text: pd.Series, date_format: str | None) -> pd.Series:
    """What ``date_format`` (and ISO) alone reads: the import also reads any date whose month
    is a name, which would make every candidate format read those."""
    return parse_dates(text, date_format, month_names=False)


def _read_by(
    distinct: pd.Series,
    fmt: str,
    parse: Callable[[pd.Series, str], pd.Series],
    iso: pd.Series,
) -> pd.Series:
    """What ``fmt`` reads (ISO included, as in the import): parsed where a value has its shape,
    ``iso`` (the values read as ISO) elsewhere."""
    shaped = distinct.str.fullmatch(_shape(fmt)).fillna(False).astype(bool)
    if not shaped.any():
        return iso
    read = iso.copy()
    read[shaped] = parse(distinct[shaped], fmt)
    return read


def twin_format(fmt: str) -> str | None:
    """The same format with day and month swapped (``%m/%d/%Y`` -> ``%d/%m/%Y``), if any."""
    if "%d" not in fmt or "%m" not in fmt:
        return None
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def without_zone_names(values: pd.Series) -> pd.Series:
    """``values`` as text ("" for blank) without a zone's short name after a time ("9:30 AM
    EST"): the import takes it off before reading the time (importer.values.zone_names)."""
    return split_zone_names(values.fillna("").astype("str").str.strip())[0]


def split_date_time(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Date part and time part of cells holding both; ``""`` where a cell ends in no time."""
    parts = without_zone_names(values).str.extract(_DATE_THEN_TIME)
    return parts["date"].fillna(""), parts["time"].fillna("")


def _distinct(values: pd.Series) -> tuple[pd.Series, pd.Series, dict[str, int]]:
    """Distinct non-blank values, how many rows hold each, and the first row of each."""
    text = values.dropna().astype("str").str.strip()
    text = text[text != ""]
    counts = text.value_counts(sort=False)
    firsts = text.drop_duplicates()
    first_rows = dict(zip(firsts.tolist(), firsts.index.astype(int).tolist(), strict=True))
    distinct = pd.Series(counts.index.astype("str"), dtype="str")
    return distinct, pd.Series(counts.to_numpy()), first_rows


def _examples(values: list[str], first_rows: dict[str, int]) -> str:
    shown = [f"row {first_rows[v]} {v!r}" for v in values[:EXAMPLES_SHOWN]]
    more = f" and {len(values) - EXAMPLES_SHOWN} more" if len(values) > EXAMPLES_SHOWN else ""
    return ", ".join(shown) + more


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def _unread_note(unread: list[str], first_rows: dict[str, int]) -> str:
    return f"; not read, so refused: {_examples(unread, first_rows)}" if unread else ""


def _iso_guess(reason: str, iso_rows: int, total: int, unread: list[str]) -> FormatGuess:
    """No format needed: ISO reads as many values as any format does."""
    confidence = Confidence.HIGH if not unread else Confidence.MEDIUM
    return FormatGuess(
        None, confidence if iso_rows else Confidence.LOW, reason, share=iso_rows / total
    )


def _format_guess(
    fmt: str, rows_read: int, total: int, unread: list[str], first_rows: dict[str, int]
) -> FormatGuess:
    """``fmt`` reads ``rows_read`` of ``total`` rows; the values it cannot read are refused."""
    confidence = Confidence.HIGH if not unread else Confidence.MEDIUM
    reason = (
        f"{rows_read} of {_rows(total)} read as {format_in_words(fmt)}"
        f"{_unread_note(unread, first_rows)}"
    )
    return FormatGuess(fmt, confidence, reason, share=rows_read / total)


def guess_date_format(values: pd.Series) -> FormatGuess:
    """The strptime format of a column of dates (index = spreadsheet rows).

    ``format`` is None when ISO reads as many values as any format (no format needed). Refused
    (``choices`` set) when day and month cannot be told apart, or when day-first and month-first
    values are mixed beyond a few typos.
    """
    distinct, counts, first_rows = _distinct(values)
    total = int(counts.sum())
    if total == 0:
        return FormatGuess(
            None, Confidence.LOW, "no dates to look at: only ISO dates (2026-12-31) are read"
        )
    iso_dates = _strict_dates(distinct, None)
    iso = iso_dates.notna().to_numpy()
    read = {
        fmt: _read_by(distinct, fmt, _strict_dates, iso_dates).notna().to_numpy()
        for fmt in DATE_CANDIDATES
    }
    rows_read = {fmt: int(counts[ok].sum()) for fmt, ok in read.items()}
    best = max(DATE_CANDIDATES, key=lambda f: rows_read[f])  # first in the list on ties
    iso_rows = int(counts[iso].sum())
    # Mostly Excel date cells: the few typed as text are read only when each of them can be
    # read one way alone (a day above 12); otherwise they are too few to judge their order by.
    if iso_rows >= total * ISO_MAJORITY and rows_read[best] > iso_rows:
        typed = _typed_among_date_cells(best, read, iso, distinct, counts, first_rows)
        if typed is not None:
            return typed
    if rows_read[best] <= iso_rows or iso_rows >= total * ISO_MAJORITY:
        unread = distinct[~iso].tolist()
        reason = f"{iso_rows} of {_rows(total)} are ISO dates (YYYY-MM-DD, or Excel date cells)"
        if unread:
            reason += "; too few others to guess their format, so refused: " + _examples(
                unread, first_rows
            )
        return _iso_guess(reason, iso_rows, total, unread)
    twin = twin_format(best)
    if twin is None or twin not in read:
        unread = distinct[~read[best]].tolist()
        return _format_guess(best, rows_read[best], total, unread, first_rows)
    return _day_month_order(best, twin, read, distinct, counts, first_rows)


def _typed_among_date_cells(
    best: str,
    read: dict[str, np.ndarray],
    iso: np.ndarray,
    distinct: pd.Series,
    counts: pd.Series,
    first_rows: dict[str, int],
) -> FormatGuess | None:
    """The format of the few dates typed among Excel date cells, when every one of them reads
    one way only (``12/16/2026`` is month first: there is no month 16); else None."""
    twin = twin_format(best)
    typed = ~iso
    if twin is None or twin not in read or not (read[best][typed] ^ read[twin][typed]).all():
        return None
    if read[twin][typed].any() and read[best][typed].any():
        return None  # some read only one way, others only the other: a mix, not an order
    fmt = best if read[best][typed].all() else twin
    total = int(counts.sum())
    examples = _examples(distinct[typed].tolist(), first_rows)
    reason = (
        f"{int(counts[iso].sum())} of {_rows(total)} are Excel date cells (or ISO dates); the "
        f"{int(counts[typed].sum())} typed as text read only as {format_in_words(fmt)} "
        f"(a day above 12): {examples}"
    )
    return FormatGuess(fmt, Confidence.MEDIUM, reason, share=1.0)


def _day_month_order(
    best: str,
    twin: str,
    read: dict[str, np.ndarray],
    distinct: pd.Series,
    counts: pd.Series,
    first_rows: dict[str, int],
) -> FormatGuess:
    """``best`` or its ``twin`` (day and month swapped): the values with a day above 12 decide.

    Refused when no value decides, or when the values that read only the other way round are
    more than a few typos.
    """
    total = int(counts.sum())
    ok = read[best]
    rows_read = int(counts[ok].sum())
    words = format_in_words(best)
    unread = distinct[~ok].tolist()
    deciding = int(counts[ok & ~read[twin]].sum())
    contrary = distinct[read[twin] & ~ok].tolist()
    contrary_rows = int(counts[read[twin] & ~ok].sum())
    month_first = best if best.index("%m") < best.index("%d") else twin
    day_first = twin if month_first == best else best
    if deciding == 0:
        sample = distinct[ok].iloc[0]
        one = _strict_dates(pd.Series([sample], dtype="str"), month_first).iloc[0]
        other = _strict_dates(pd.Series([sample], dtype="str"), day_first).iloc[0]
        return FormatGuess(
            None,
            Confidence.LOW,
            f"every date has day and month of 12 or less (e.g. {sample!r}): the values cannot "
            f"tell {_spoken(one, month_first=True)} (month first) from "
            f"{_spoken(other, month_first=False)} (day first)",
            share=rows_read / total,
            choices=(month_first, day_first),
        )
    if contrary_rows > deciding * CONTRADICTIONS_TOLERATED:
        return FormatGuess(
            None,
            Confidence.LOW,
            f"the dates mix both orders: {deciding} rows read only as {words}, {contrary_rows} "
            f"only as {format_in_words(twin)} ({_examples(contrary, first_rows)})",
            share=rows_read / total,
            choices=(month_first, day_first),
        )
    reason = (
        f"{rows_read} of {_rows(total)} read as {words}; {deciding} have a day above 12, "
        "which settles the order"
    )
    if contrary:
        reason += (
            f"; written the other way round, so refused (check them): "
            f"{_examples(contrary, first_rows)}"
        )
        unread = [v for v in unread if v not in contrary]
    confidence = Confidence.HIGH if not contrary and not unread else Confidence.MEDIUM
    return FormatGuess(
        best, confidence, reason + _unread_note(unread, first_rows), share=rows_read / total
    )


def _spoken(moment: pd.Timestamp, *, month_first: bool) -> str:
    day: dt.date = moment.date()
    return f"{day:%B} {day.day}" if month_first else f"{day.day} {day:%B}"


def guess_time_format(values: pd.Series) -> FormatGuess:
    """The strptime format of a column of times of day (index = spreadsheet rows).

    ``format`` is None when ISO (``09:30``, ``14:30``) reads as many values as any format. A
    24-hour format is refused when no hour is above 12 and some are written without a leading
    zero or AM/PM (``2:30`` may mean 2:30 PM).
    """
    distinct, counts, first_rows = _distinct(without_zone_names(values))
    total = int(counts.sum())
    if total == 0:
        return FormatGuess(
            None, Confidence.LOW, "no times to look at: only 24-hour HH:mm times are read"
        )
    iso_times = parse_times(distinct, None)
    iso = iso_times.notna().to_numpy()
    read = {fmt: _read_by(distinct, fmt, parse_times, iso_times) for fmt in TIME_CANDIDATES}
    rows_read = {fmt: int(counts[moment.notna().to_numpy()].sum()) for fmt, moment in read.items()}
    best = max(TIME_CANDIDATES, key=lambda f: rows_read[f])
    iso_rows = int(counts[iso].sum())
    if rows_read[best] <= iso_rows:
        unread = distinct[~iso].tolist()
        reason = f"{iso_rows} of {_rows(total)} are 24-hour HH:mm times (or Excel time cells)"
        hours = iso_times[iso].dt.components["hours"]
        if ((hours >= 13) | (hours == 0)).any():
            # A 24-hour clock, said so: the same file saved in Excel writes 09:30 as 9:30,
            # which without the format could be a 12-hour time without AM/PM (refused).
            after_noon = distinct[iso & (iso_times.dt.components["hours"] >= 13).to_numpy()]
            shown = f" (e.g. {after_noon.iloc[0]!r})" if len(after_noon) else ""
            reason += (
                f", hours past noon among them{shown}: read as a 24-hour clock, so that 9:30 "
                "(as Excel saves 09:30) reads as 09:30"
            )
            guess = _iso_guess(reason + _unread_note(unread, first_rows), iso_rows, total, unread)
            return replace(guess, format="%H:%M")
        return _iso_guess(reason + _unread_note(unread, first_rows), iso_rows, total, unread)

    ok = read[best].notna().to_numpy()
    if best in _TWENTY_FOUR_HOUR:
        hours = read[best][ok].dt.components["hours"]
        if not ((hours >= 13) | (hours == 0)).any():
            sample = distinct[ok & ~iso].iloc[0]
            return FormatGuess(
                None,
                Confidence.LOW,
                f"times without AM/PM and no hour above 12 (e.g. {sample!r}): the values cannot "
                "tell a 24-hour clock (2:30 at night) from a 12-hour one (2:30 in the afternoon); "
                "choose %H:%M for a 24-hour clock, or add AM/PM to the times in the sheet",
                share=rows_read[best] / total,
                choices=(best,),
            )
    unread = distinct[~ok].tolist()
    return _format_guess(best, rows_read[best], total, unread, first_rows)
