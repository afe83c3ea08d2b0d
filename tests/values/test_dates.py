"""Dates, times, zones and offsets: the part where a mistake sends a patient at the wrong hour."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from importer.events import build_events
from importer.mapping import Mapping, parse_mapping
from importer.values import (
    DstPolicy,
    format_in_words,
    localise,
    parse_dates,
    parse_datetimes,
    parse_times,
    read_once,
)
from importer.values.dates import date_reasons, datetime_reasons, time_problem, time_reasons
from importer.values.offsets import format_iso


def _texts(*values: str | None) -> pd.Series:
    return pd.Series(list(values), dtype="str")


def _mapping(defaults: dict[str, Any] | None = None, **event: Any) -> Mapping:
    """A small mapping: one datetime cell and a zone cell, 30 minutes long unless overridden."""
    spec: dict[str, Any] = {
        "calendar": "Clinic",
        "external_id": "{Id}",
        "title": "Visit",
        "start": {"datetime": "{When}"},
        "duration_minutes": "30",
        "time_zone": "{Zone}",
    }
    spec.update(event)
    return parse_mapping({"defaults": defaults or {}, "event": spec})


def _one_row(mapping: Mapping, **cells: str) -> tuple[dict[str, Any] | None, list[str]]:
    frame = pd.DataFrame([{"Id": "a1", **cells}], index=[2], dtype="str")
    built = build_events(frame, mapping)
    return built.payloads.get(2), [f"{i.column}: {i.reason}" for i in built.issues]


@pytest.mark.parametrize(
    ("date_format", "text", "expected"),
    [
        ("%m/%d/%Y", "12/14/2026", "2026-12-14"),  # US
        ("%m/%d/%Y", "3/4/2026", "2026-03-04"),  # US, no leading zeros: 4 March
        ("%d/%m/%Y", "03/04/2026", "2026-04-03"),  # day first: 3 April, never swapped
        ("%d/%m/%Y", "13/04/2026", "2026-04-13"),
        ("%m/%d/%Y", "13/04/2026", None),  # no 13th month: invalid, not 4 December
        ("%d/%m/%Y", "04/13/2026", None),
        ("%m/%d/%Y", "02/30/2026", None),  # no such day
        ("%d.%m.%Y", "01.12.2026", "2026-12-01"),
        ("%m/%d/%Y", "2026-12-01", "2026-12-01"),  # Excel date cells arrive as ISO text
        ("%d/%m/%Y", "2026-12-01", "2026-12-01"),
        (None, "2026-12-01", "2026-12-01"),  # ISO only
        (None, "12/01/2026", None),  # no format given: no guessing
        ("%m/%d/%Y", "3/4/26", None),  # 2-digit year only when the format says %y
        ("%m/%d/%y", "3/4/26", "2026-03-04"),
        ("%m/%d/%Y", "2026-12-01 14:30", None),  # a datetime is not a date
        ("%m/%d/%Y", "12/14/2026 9:30", None),
        ("%m/%d/%Y", "12/14/2026 12:00 PM", None),
        # ... unless its time is midnight: a date-and-time cell of Excel saved to CSV
        ("%m/%d/%Y", "12/14/2026 0:00", "2026-12-14"),
        ("%m/%d/%Y", "12/14/2026 12:00:00 AM", "2026-12-14"),
        ("%d/%m/%Y", "14/12/2026 00:00", "2026-12-14"),
        ("%m/%d/%Y", "2026-12-14 00:00:00", "2026-12-14"),
        ("%m/%d/%Y", "2026-12-14T00:00:00", "2026-12-14"),
        ("%m/%d/%Y", "13/04/2026 0:00", None),  # still never swapped
        # A month by name settles which number is the day, whatever the format
        ("%m/%d/%Y", "Dec 15, 2026", "2026-12-15"),
        ("%m/%d/%Y", "December 15 2026", "2026-12-15"),
        ("%m/%d/%Y", "15-Dec-26", "2026-12-15"),  # Excel's dd-mmm-yy typed into a text column
        ("%d/%m/%Y", "15 December 2026", "2026-12-15"),
        ("%d/%m/%Y", "15-dec-2026", "2026-12-15"),
        ("%d/%m/%Y", "Tue 15 Dec 2026", "2026-12-15"),
        ("%d/%m/%Y", "Mon 15 Dec 2026", None),  # 15 December 2026 is a Tuesday
        ("%m/%d/%Y", "Dec-15-26", None),  # a two-digit year only in Excel's own shape
        ("%m/%d/%Y", "Dec 32 2026", None),
        ("%m/%d/%Y", "", None),
        ("%m/%d/%Y", None, None),
    ],
)
def test_dates_follow_the_format_and_iso_only(
    date_format: str | None, text: str | None, expected: str | None
) -> None:
    parsed = parse_dates(_texts(text), date_format).iloc[0]
    assert (None if pd.isna(parsed) else parsed.strftime("%Y-%m-%d")) == expected


@pytest.mark.parametrize(
    ("time_format", "text", "expected"),
    [
        ("%I:%M %p", "9:30 AM", "09:30:00"),
        ("%I:%M %p", "09:30 am", "09:30:00"),  # AM/PM in any case
        ("%I:%M %p", "9:30 pm", "21:30:00"),
        ("%I:%M %p", "9:30PM", "21:30:00"),  # without the space
        ("%I:%M %p", "12:00 PM", "12:00:00"),  # noon
        ("%I:%M %p", "12:15 AM", "00:15:00"),  # a quarter past midnight
        ("%I:%M %p", "14:30", "14:30:00"),  # Excel time cells arrive as ISO text
        ("%I:%M %p", "14:30:15", "14:30:15"),
        ("%I:%M %p", "02:30", "02:30:00"),  # two-digit ISO hour: as the loader writes it
        ("%I:%M %p", "2:30", None),  # 2:30 what? never read as 2:30 in the night
        ("%I:%M %p", "13:30 PM", None),
        ("%I:%M %p", "9:30 a.m.", "09:30:00"),  # AM and PM as newspapers write them
        ("%I:%M %p", "9:30 P.M", "21:30:00"),
        ("%I:%M %p", "9 AM", "09:00:00"),  # the hour alone, with its AM or PM
        ("%I:%M %p", "9am", "09:00:00"),
        ("%I:%M %p", "12 pm", "12:00:00"),
        ("%I:%M %p", "12 a.m.", "00:00:00"),
        ("%I:%M %p", "9:30:00 AM", "09:30:00"),  # Excel's h:mm:ss AM/PM cell, saved to CSV
        ("%I:%M %p", "9:30:15pm", "21:30:15"),
        ("%I:%M %p", "9", None),  # 9 what?
        ("%I %p", "2:30 PM", "14:30:00"),  # a mapping of the hour alone reads the minutes too
        ("%I:%M %p", "13 PM", None),
        ("%H:%M", "9 AM", None),  # a 24-hour sheet: AM/PM is not its way of writing times
        ("%H:%M", "9:30 a.m.", None),
        ("%H:%M", "9:30", "09:30:00"),  # a 24-hour sheet may drop the leading zero
        ("%H:%M", "24:00", None),
        ("%H.%M", "14.30", "14:30:00"),
        # The UK writes 12-hour times with a dot; a two-digit hour with a dot is a 24-hour time
        # there, as "14:30" is in a sheet of "9:30am".
        ("%I.%M %p", "9.30am", "09:30:00"),
        ("%I.%M %p", "2.00 pm", "14:00:00"),
        ("%I.%M %p", "9.30 a.m.", "09:30:00"),
        ("%I.%M %p", "9am", "09:00:00"),
        ("%I.%M %p", "14.30", "14:30:00"),
        ("%I.%M %p", "9.30", None),  # 9.30 what?
        ("%I:%M %p", "14.30", None),  # not a sheet of dots
        # A minute written with one digit: 9:05 or 9:50? strptime alone reads 9:05.
        ("%I:%M %p", "9:5 pm", None),
        ("%I:%M %p", "9:5pm", None),
        ("%I.%M %p", "9.5am", None),
        ("%H:%M", "9:5", None),
        ("%H:%M", "09:5", None),
        ("%H.%M", "14.3", None),
        ("%H:%M:%S", "09:30:5", None),
        (None, "09:30:05", "09:30:05"),
        (None, "14:30", "14:30:00"),
        (None, "2:30 PM", None),
        (None, "", None),
    ],
)
def test_times_12_and_24_hour(time_format: str | None, text: str, expected: str | None) -> None:
    parsed = parse_times(_texts(text), time_format).iloc[0]
    shown = None if pd.isna(parsed) else str(parsed.to_pytimedelta()).zfill(8)
    assert shown == expected


@pytest.mark.parametrize(
    ("text", "wall", "offset"),
    [
        ("2026-12-01 14:30", "2026-12-01 14:30:00", None),  # Excel datetime cell
        ("2026-12-01T14:30:00", "2026-12-01 14:30:00", None),
        ("2026-12-01T14:30", "2026-12-01 14:30:00", None),
        ("12/01/2026 2:30 PM", "2026-12-01 14:30:00", None),  # date_format + time_format
        ("12/01/2026 14:30", "2026-12-01 14:30:00", None),  # date_format + ISO time
        ("2026-12-01 2:30 pm", "2026-12-01 14:30:00", None),  # ISO date + time_format
        ("2026-07-01T09:00:00-04:00", "2026-07-01 09:00:00", "-04:00"),  # own offset
        ("2026-07-01T09:00:00Z", "2026-07-01 09:00:00", "+00:00"),
        ("2026-07-01 09:00+0530", "2026-07-01 09:00:00", "+05:30"),
        ("2026-07-01T09:00:00+25:00", None, None),  # no such offset
        ("12/01/2026 2:30:00 PM", "2026-12-01 14:30:00", None),  # seconds shown by Excel
        ("12/01/2026 2:30", None, None),  # 12-hour sheet, no AM/PM
        ("01/12/2026 14:30", "2026-01-12 14:30:00", None),  # US order: 12 January
        ("2026-12-01", None, None),  # a date alone is not a point in time
        ("tomorrow 9am", None, None),
        ("12/01/2026 9:5 AM", None, None),  # 9:05 or 9:50?
        ("2026-12-01T9:5", None, None),
        ("2026-12-01 09:30:5", None, None),
    ],
)
def test_datetime_cells(text: str, wall: str | None, offset: str | None) -> None:
    walls, offsets = parse_datetimes(_texts(text), "%m/%d/%Y", "%I:%M %p")
    assert (None if pd.isna(walls.iloc[0]) else str(walls.iloc[0])) == wall
    shown = format_iso(walls, offsets).iloc[0]
    assert (shown[-6:] if shown else None) == offset


# Summer and winter, far from a clock change: zone -> {local time: the offset it has there}.
_ORDINARY_OFFSETS = {
    "America/Los_Angeles": {"2026-07-01 09:00": "-07:00", "2026-12-01 09:00": "-08:00"},
    "America/New_York": {"2026-01-15 09:00": "-05:00"},
    "Europe/London": {"2026-07-01 09:00": "+01:00", "2026-12-01 09:00": "+00:00"},
    "Australia/Sydney": {"2026-01-15 09:00": "+11:00", "2026-07-01 09:00": "+10:00"},
}


@pytest.mark.parametrize(
    ("zone", "local", "dst", "start_time", "problem"),
    [
        *[
            (zone, local, "reject", f"{local.replace(' ', 'T')}:00{offset}", None)
            for zone, offsets in _ORDINARY_OFFSETS.items()
            for local, offset in offsets.items()
        ],
        # Spring forward: the time does not exist, whatever the dst policy.
        *[
            (
                "America/New_York",
                "2026-03-08 02:30",
                policy,
                None,
                "does not exist in America/New_York: clocks skip from 2:00 to 3:00 on 2026-03-08",
            )
            for policy in ("reject", "earlier", "later")
        ],
        (
            "Europe/London",
            "2026-03-29 01:30",
            "earlier",
            None,
            "does not exist in Europe/London: clocks skip from 1:00 to 2:00 on 2026-03-29",
        ),
        (
            "Australia/Sydney",
            "2026-10-04 02:30",
            "later",
            None,
            "does not exist in Australia/Sydney: clocks skip from 2:00 to 3:00 on 2026-10-04",
        ),
        # Fall back: the time happens twice; the row is invalid unless the mapping chooses.
        (
            "America/New_York",
            "2026-11-01 01:30",
            "reject",
            None,
            "happens twice in America/New_York: clocks go back from 2:00 to 1:00 on 2026-11-01, "
            "so the time could be the first one (-04:00) or the second (-05:00); check the time, "
            "or ask whoever set up the import to choose which one such times mean",
        ),
        ("America/New_York", "2026-11-01 01:30", "earlier", "2026-11-01T01:30:00-04:00", None),
        ("America/New_York", "2026-11-01 01:30", "later", "2026-11-01T01:30:00-05:00", None),
        ("Europe/London", "2026-10-25 01:30", "earlier", "2026-10-25T01:30:00+01:00", None),
        ("Europe/London", "2026-10-25 01:30", "later", "2026-10-25T01:30:00+00:00", None),
        ("Australia/Sydney", "2026-04-05 02:30", "earlier", "2026-04-05T02:30:00+11:00", None),
        ("Australia/Sydney", "2026-04-05 02:30", "later", "2026-04-05T02:30:00+10:00", None),
        ("Australia/Sydney", "2026-04-05 02:30", "reject", None, "happens twice in Australia"),
    ],
)
def test_offsets_follow_the_zone_at_that_moment(
    zone: str, local: str, dst: str, start_time: str | None, problem: str | None
) -> None:
    payload, issues = _one_row(_mapping({"dst": dst}), When=local, Zone=zone)
    if problem is None:
        assert issues == []
        assert payload is not None
        assert payload["start_time"] == start_time
        assert payload["time_zone"] == zone
    else:
        assert payload is None
        assert len(issues) == 1
        assert issues[0].startswith("When: " + problem)


@pytest.mark.parametrize(
    ("written", "start_time", "end_time"),
    [
        ("2026-07-01T09:00:00-04:00", "2026-07-01T09:00:00-04:00", "2026-07-01T09:30:00-04:00"),
        ("2026-07-01T16:00:00Z", "2026-07-01T16:00:00+00:00", "2026-07-01T16:30:00+00:00"),
        # Fall-back night: an own offset says which 1:30 it is, so dst: reject has nothing to do.
        ("2026-11-01T01:30:00-05:00", "2026-11-01T01:30:00-05:00", "2026-11-01T02:00:00-05:00"),
    ],
)
def test_own_offset_is_kept_not_relocalised(written: str, start_time: str, end_time: str) -> None:
    payload, issues = _one_row(_mapping(), When=written, Zone="America/Los_Angeles")
    assert issues == []
    assert payload is not None
    assert (payload["start_time"], payload["end_time"]) == (start_time, end_time)
    assert payload["time_zone"] == "America/Los_Angeles"  # the row's zone still goes along


def test_duration_counts_real_minutes_across_the_clock_change() -> None:
    payload, issues = _one_row(
        _mapping(duration_minutes="60"), When="2026-03-08 01:30", Zone="America/New_York"
    )
    assert issues == []
    assert payload is not None
    assert payload["start_time"] == "2026-03-08T01:30:00-05:00"
    assert payload["end_time"] == "2026-03-08T03:30:00-04:00"


@pytest.mark.parametrize(
    ("zone_cell", "problem"),
    [
        (
            "America/Los Angeles",
            "Zone: is not a known time zone; did you mean 'America/Los_Angeles'?",
        ),
        (
            "america/new_york",
            "Zone: is not a known time zone; did you mean 'America/New_York'?",
        ),
        ("Mars/Olympus", "Zone: is not a known time zone (write it like America/New_York)"),
        (
            "",
            "Zone: no time zone: the cell is blank and no time zone is set for such rows; write "
            "the zone (like America/New_York) in the cell, or choose the time zone of the "
            "appointments when matching the columns",
        ),
    ],
)
def test_unknown_or_missing_zone_is_an_issue_with_a_suggestion(
    zone_cell: str, problem: str
) -> None:
    payload, issues = _one_row(_mapping(), When="2026-07-01 09:00", Zone=zone_cell)
    assert payload is None
    assert issues == [problem]


def test_blank_zone_cell_falls_back_to_the_default_zone() -> None:
    mapping = _mapping({"time_zone": "Europe/London"})
    payload, issues = _one_row(mapping, When="2026-07-01 09:00", Zone="")
    assert issues == []
    assert payload is not None
    assert (payload["start_time"], payload["time_zone"]) == (
        "2026-07-01T09:00:00+01:00",
        "Europe/London",
    )


@pytest.mark.parametrize(
    ("date_format", "time_format", "date", "time", "problem"),
    [
        (
            "%m/%d/%Y",
            "%I:%M %p",
            "13/04/2026",
            "9:30 AM",
            "Date: there is no month 13: dates here are written MM/DD/YYYY (e.g. 12/31/2026); "
            "was it typed day first?",
        ),
        (
            "%d/%m/%Y",
            "%H:%M",
            "04/13/2026",
            "09:30",
            "Date: there is no month 13: dates here are written DD/MM/YYYY (e.g. 31/12/2026); "
            "was it typed month first?",
        ),
        (
            "%m/%d/%Y",
            "%I:%M %p",
            "04/13/2026",
            "2:30",
            "Start: does not match the time format hh:mm AM/PM (e.g. 02:30 PM) "
            "or 24-hour HH:mm (e.g. 14:30)",
        ),
        ("%m/%d/%Y", "%I:%M %p", "", "9:30 AM", "Date: the start date is blank"),
        ("%m/%d/%Y", "%I:%M %p", "04/13/2026", "", "Start: the start time is blank"),
    ],
)
def test_bad_date_or_time_names_the_column_and_the_expected_format(
    date_format: str, time_format: str, date: str, time: str, problem: str
) -> None:
    mapping = _mapping(
        {"date_format": date_format, "time_format": time_format, "time_zone": "America/Chicago"},
        start={"date": "{Date}", "time": "{Start}"},
    )
    payload, issues = _one_row(mapping, Date=date, Start=time, Zone="")
    assert payload is None
    assert issues == [problem]


def test_localise_all_day_midnight_that_the_clocks_skip_starts_when_the_day_does() -> None:
    # Chile springs forward at midnight: 2026-09-06 starts at 01:00 local time.
    walls = pd.Series(pd.to_datetime(["2026-09-06", "2026-07-01"])).astype("datetime64[s]")
    zones = pd.Series(["America/Santiago", "America/Santiago"], dtype="str")
    wall, offset, reason = localise(walls, zones, DstPolicy.REJECT, start_of_day=True)
    assert format_iso(wall, offset).tolist() == [
        "2026-09-06T01:00:00-03:00",
        "2026-07-01T00:00:00-04:00",
    ]
    assert reason.tolist() == ["", ""]


@pytest.mark.parametrize(
    ("fmt", "words"),
    [
        ("%m/%d/%Y", "MM/DD/YYYY (e.g. 12/31/2026)"),
        ("%d.%m.%y", "DD.MM.YY (e.g. 31.12.26)"),
        ("%I:%M %p", "hh:mm AM/PM (e.g. 02:30 PM)"),
        ("%H:%M", "HH:mm (e.g. 14:30)"),
    ],
)
def test_formats_in_words(fmt: str, words: str) -> None:
    assert format_in_words(fmt) == words


@pytest.mark.parametrize(
    ("written", "words"),
    [
        ("0.375", "(0.375 would be 09:00)"),
        ("0.395833333", "(0.395833333 would be 09:30)"),
        (" ,5 ", "(,5 would be 12:00)"),
    ],
)
def test_a_time_excel_shows_as_a_fraction_of_a_day_is_named_not_read(
    written: str, words: str
) -> None:
    # A CSV saved from a time column of General format; a number is no time, but the reason
    # says which time it would be and how to save it as one.
    reason = time_reasons(pd.Series([written]), "%I:%M %p").iloc[0]
    assert reason.startswith("is a number, not a time: Excel shows times as fractions")
    assert words in reason


@pytest.mark.parametrize(
    ("written", "words"),
    [
        ("46370", "(46370 would be 14 December 2026)"),
        ("46370.395833", "(46370.395833 would be 14 December 2026 at 09:30)"),
        ("46370,999999", "(46370,999999 would be 15 December 2026 at 00:00)"),
        (" 20000 ", "(20000 would be 3 October 1954)"),
    ],
)
def test_a_date_excel_shows_as_a_number_is_named_not_read(written: str, words: str) -> None:
    # A CSV saved from a column of General format: the number is refused (a workbook of an old
    # Mac counts from 1904, and the file cannot say which), with the date it would be.
    for reasons in (
        date_reasons(pd.Series([written]), "%m/%d/%Y"),
        datetime_reasons(pd.Series([written]), "%m/%d/%Y", "%I:%M %p"),
    ):
        assert reasons.iloc[0].startswith("is a number, not a date: Excel shows dates as numbers")
        assert words in reasons.iloc[0]
    assert parse_dates(pd.Series([written.strip()], dtype="str"), "%m/%d/%Y").isna().all()


@pytest.mark.parametrize("written", ["2026", "99999", "12345", "4637", "46370.5.1"])
def test_other_numbers_get_the_date_format_s_reason(written: str) -> None:
    reason = date_reasons(pd.Series([written]), "%m/%d/%Y").iloc[0]
    assert reason == "does not match the date format MM/DD/YYYY (e.g. 12/31/2026) or YYYY-MM-DD"


@pytest.mark.parametrize(
    ("written", "shapes", "keys"),
    [
        ("12/15/2026", "MM/DD/YYYY", 'date_format: "%m/%d/%Y"'),
        ("15/12/2026", "DD/MM/YYYY", 'date_format: "%d/%m/%Y"'),
        ("5/6/2026", "MM/DD/YYYY or DD/MM/YYYY", 'date_format: "%m/%d/%Y" or date_format: "%d'),
    ],
)
def test_an_iso_column_saved_in_excel_is_told_the_format_its_dates_now_have(
    written: str, shapes: str, keys: str
) -> None:
    # Excel writes 2026-12-15 as 12/15/2026 (15/12/2026 in the UK) when it saves a CSV file.
    (reason,) = date_reasons(pd.Series([written]), None)
    assert reason.startswith(f"is written {shapes} (Excel writes dates so when it saves a file)")
    assert "but the mapping reads only YYYY-MM-DD dates" in reason and keys in reason
    assert date_reasons(pd.Series(["13/13/2026"]), None).iloc[0].startswith("is not a date")
    # A mapping with its own format says what it says already.
    assert "Excel" not in date_reasons(pd.Series([written]), "%d.%m.%Y").iloc[0]


def test_a_date_with_a_time_in_a_column_of_dates_says_so() -> None:
    reasons = date_reasons(pd.Series(["12/14/2026 9:30", "14/12/2026 0:00"]), "%m/%d/%Y")
    assert reasons.tolist() == [
        "holds a time (09:30) as well as a date, in a column of dates: write the date alone, "
        "like 12/31/2026",
        "there is no month 14: dates here are written MM/DD/YYYY (e.g. 12/31/2026); was it "
        "typed day first?",
    ]


def test_a_date_and_time_not_in_the_format_is_not_said_to_lack_its_time() -> None:
    reasons = datetime_reasons(
        pd.Series(["12/14/2026 12:00:00 AM", "12/14/2026"]), "%m/%d/%Y", "%H:%M"
    )
    assert not reasons.iloc[0].startswith("has a date but no time")
    assert reasons.iloc[1].startswith("has a date but no time")


_TWO_DIGITS = "Write the minutes with two digits"


def test_a_date_of_dots_keeps_its_one_digit_day_and_month_beside_a_time() -> None:
    walls, _ = parse_datetimes(_texts("1.2.2026 09:30"), "%d.%m.%Y", "%H:%M")
    assert str(walls.iloc[0]) == "2026-02-01 09:30:00"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("9:5 pm", f"has one digit for the minutes: is it 9:05 or 9:50? {_TWO_DIGITS}"),
        ("9.5am", f"has one digit for the minutes: is it 9.05 or 9.50? {_TWO_DIGITS}"),
        ("09:30:5", "has one digit for the seconds: write them with two digits (like 09:30:05)"),
        ("0930", "has no colon between the hours and the minutes: write it as 09:30"),
        ("930", "has no colon between the hours and the minutes: write it as 9:30 AM or 9:30 PM"),
        ("1430", "has no colon between the hours and the minutes: write it as 14:30"),
        ("2460", time_problem("%I:%M %p")),  # no such time
        ("9:30", time_problem("%I:%M %p")),
        ("lunch", time_problem("%I:%M %p")),
    ],
)
def test_a_time_with_one_digit_minutes_is_told_so(text: str, reason: str) -> None:
    assert time_reasons(_texts(text), "%I:%M %p").iloc[0] == reason


def test_a_time_without_its_colon_in_a_24_hour_sheet() -> None:
    reason = time_reasons(_texts("930"), "%H:%M").iloc[0]
    assert reason == "has no colon between the hours and the minutes: write it as 9:30"
    assert parse_times(_texts("9:30"), "%H:%M").notna().all()  # what it asks for is read


def test_a_date_and_time_with_one_digit_minutes_is_told_so() -> None:
    reasons = datetime_reasons(_texts("12/14/2026 9:5 AM"), "%m/%d/%Y", "%I:%M %p")
    assert reasons.iloc[0].startswith("has one digit for the minutes: is it 9:05 or 9:50?")


@pytest.mark.parametrize(
    ("date_format", "text", "expected"),
    [
        ("%B %d, %Y", "Monday, December 14, 2026", "2026-12-14"),  # Excel's Long Date, en-US
        ("%d %B %Y", "Monday, 14 December 2026", "2026-12-14"),  # ... en-GB, with the day
        ("%m/%d/%Y", "Mon 12/14/2026", "2026-12-14"),  # a schedule's ddd mm/dd/yyyy
        ("%m/%d/%Y", "Tues. 12/15/2026", "2026-12-15"),
        ("%m/%d/%Y", "thu 12/17/2026", "2026-12-17"),
        ("%m/%d/%Y", "Mon 12/14/2026 0:00", "2026-12-14"),
        ("%B %d, %Y", "Monday, December 15, 2026", None),  # the 15th is a Tuesday
        ("%m/%d/%Y", "Sun 12/14/2026", None),
        ("%d/%m/%Y", "Mon 12/14/2026", None),  # never swapped to fit the day
        ("%m/%d/%Y", "Mond 12/14/2026", None),  # not a day's name
        ("%B %d, %Y", "Monday, December 14", None),  # no year
    ],
)
def test_a_date_with_its_day_of_the_week_is_read_when_the_day_is_its_own(
    date_format: str, text: str, expected: str | None
) -> None:
    parsed = parse_dates(_texts(text), date_format).iloc[0]
    assert (None if pd.isna(parsed) else str(parsed.date())) == expected


def test_a_day_of_the_week_that_is_not_the_date_s_is_told_so() -> None:
    reasons = date_reasons(
        _texts("Monday, December 15, 2026", "Mon 02/30/2026", "Fri, 12/14/2026 0:00"), "%B %d, %Y"
    )
    assert reasons.tolist() == [
        "says Monday, but 15 December 2026 is a Tuesday: check the day and the date",
        date_reasons(_texts("02/30/2026"), "%B %d, %Y").iloc[0],  # as without the day
        date_reasons(_texts("12/14/2026 0:00"), "%B %d, %Y").iloc[0],
    ]
    (timed,) = datetime_reasons(_texts("Tue 12/14/2026 9:30 AM"), "%m/%d/%Y", "%I:%M %p")
    assert timed == "says Tuesday, but 14 December 2026 is a Monday: check the day and the date"


def test_a_date_and_time_with_its_day_of_the_week() -> None:
    walls, _ = parse_datetimes(
        _texts("Mon 12/14/2026 2:15 PM", "Tue 12/14/2026 2:15 PM"), "%m/%d/%Y", "%I:%M %p"
    )
    assert [None if pd.isna(w) else str(w) for w in walls] == ["2026-12-14 14:15:00", None]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2:15p", "14:15"),  # practice systems print AM and PM as one letter
        ("2:15 P", "14:15"),
        ("9a", "09:00"),
        ("9:30a.", "09:30"),
        ("12:30p", "12:30"),
        ("12:30a", "00:30"),
        ("noon", "12:00"),
        ("12 noon", "12:00"),
        ("12:00 Noon", "12:00"),
        ("1:5p", None),  # one-digit minutes, as ever
        ("2:15x", None),
        ("11 noon", None),
    ],
)
def test_a_12_hour_time_with_one_letter_or_noon(text: str, expected: str | None) -> None:
    parsed = parse_times(_texts(text), "%I:%M %p").iloc[0]
    shown = (
        None
        if pd.isna(parsed)
        else f"{parsed.components.hours:02d}:{parsed.components.minutes:02d}"
    )
    assert shown == expected
    assert parse_times(_texts(text), "%H:%M").isna().all()  # a 24-hour sheet: not a time


@pytest.mark.parametrize(
    ("date_format", "text", "expected"),
    [
        ("%B %d, %Y", "December 14th, 2026", "2026-12-14"),  # as people type dates out
        ("%d %B %Y", "1st May 2026", "2026-05-01"),
        ("%d %B %Y", "22nd May 2026", "2026-05-22"),
        ("%B %d, %Y", "Thursday, December 3rd, 2026", "2026-12-03"),
        ("%b %d %Y", "Dec 14 2026", "2026-12-14"),
        ("%B %d, %Y", "December 14xx, 2026", None),
    ],
)
def test_a_day_written_as_an_ordinal(date_format: str, text: str, expected: str | None) -> None:
    parsed = parse_dates(_texts(text), date_format).iloc[0]
    assert (None if pd.isna(parsed) else str(parsed.date())) == expected


@pytest.mark.parametrize(
    "written", ["2026-12-14T00:00:00Z", "2026-12-14T00:00:00.000Z", "2026-12-14T08:00:00-08:00"]
)
def test_a_moment_in_utc_in_a_column_of_dates_is_named_never_read_as_a_day(written: str) -> None:
    """Web systems export a date as a moment (JavaScript's toISOString): in Sydney that
    day's midnight is 13:00 the day before in UTC, so the date part may be the wrong day."""
    assert parse_dates(pd.Series([written]), "%m/%d/%Y").isna().all()
    (reason,) = date_reasons(pd.Series([written]), "%m/%d/%Y")
    assert reason.startswith("is a moment in UTC time (Z) or at an offset, not a day")
    assert reason.endswith("export the date alone, like 12/31/2026")


def test_a_moment_with_fractions_of_a_second_keeps_its_offset() -> None:
    """JavaScript's toISOString (2026-12-14T17:00:00.000Z): the instant, to the second."""
    wall, offset = parse_datetimes(
        pd.Series(["2026-12-14T17:00:00.000Z", "2026-12-14T09:30:15.5-08:00"]),
        "%m/%d/%Y",
        "%I:%M %p",
    )
    assert [str(w) for w in wall] == ["2026-12-14 17:00:00", "2026-12-14 09:30:15"]
    assert [str(o) for o in offset] == ["0 days 00:00:00", "-1 days +16:00:00"]


def test_a_text_read_before_is_read_again_by_how_it_is_read_now() -> None:
    """A process remembers what each date and time text was read as (a big file's parts repeat
    them): the same text under another format, or as a time, is read afresh."""
    texts = _texts("03/04/2026", "9:30 PM", "03/04/2026")
    us, uk = parse_dates(texts, "%m/%d/%Y"), parse_dates(texts, "%d/%m/%Y")
    assert [str(d)[:10] for d in us] == ["2026-03-04", "NaT", "2026-03-04"]
    assert [str(d)[:10] for d in uk] == ["2026-04-03", "NaT", "2026-04-03"]
    assert [str(d)[:10] for d in parse_dates(texts, "%m/%d/%Y")] == [
        "2026-03-04",
        "NaT",
        "2026-03-04",
    ]
    twelve = parse_times(texts, "%I:%M %p")
    assert pd.isna(twelve[0]) and str(twelve[1]) == "0 days 21:30:00"
    assert pd.isna(parse_times(texts, "%H:%M")[1])  # "PM" is no 24-hour time


def test_reading_more_texts_than_the_process_remembers_reads_each_right(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The memory of texts read is bounded: once full it starts again, and a column of more
    distinct texts than it holds is read without it; every value comes out as read alone."""
    monkeypatch.setattr(read_once, "PARSED_MEMO_SIZE", 5)
    monkeypatch.setattr(read_once, "_PARSED", {})  # what earlier tests read is not in the count
    days = [f"12/{d:02d}/2026" for d in range(1, 29)]
    for first in range(0, 28, 2):  # parts of 2 new days, 1 seen before, 1 no date: it fills
        part = [*days[first : first + 2], days[0], "12/32/2026"]
        read = parse_dates(_texts(*part), "%m/%d/%Y")
        assert [str(d)[:10] for d in read] == [t[6:] + "-12-" + t[3:5] for t in part[:-1]] + ["NaT"]
        assert 0 < max(len(memo) for memo in read_once._PARSED.values()) <= 5
    whole = parse_dates(_texts(*days), "%m/%d/%Y")  # more distinct texts than the memory holds
    assert [d.day for d in whole] == list(range(1, 29))
