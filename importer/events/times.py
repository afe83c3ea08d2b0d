"""The start and end of each event, read from a row by the mapping's templates.

Dates and times are parsed with :mod:`importer.values.dates`, placed in each row's zone with
:mod:`importer.values.offsets`, and checked (an end before its start, a duration in whole minutes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from importer.events.cells import IssueCollector, TemplateRenderer, column_name, field_words
from importer.mapping import ColumnRef, Defaults, Mapping, Template, When
from importer.values import DstPolicy, is_empty, map_distinct, not_empty
from importer.values.date_in_text import date_in_reason
from importer.values.dates import (
    SPAN,
    WALL,
    date_reasons,
    datetime_reasons,
    parse_dates,
    parse_datetimes,
    parse_times,
    time_reasons,
)
from importer.values.durations import BRIEFEST_MINUTES, lengths_in_minutes, reads_as_hours
from importer.values.offsets import format_iso, in_zone, localise, utc_instants
from importer.values.time_ranges import TIME_RANGE_FILTERS
from importer.values.zone_names import split_zone_names, zone_name_problems

DAY = np.timedelta64(1, "D").astype(SPAN)
OVERNIGHT_HOURS = 12  # an end this long after the start on the next day reads as a night visit


_LONGEST_MINUTES = 366 * 24 * 60


@dataclass(frozen=True, slots=True)
class _Read:
    """A point in time as read from a row, before it is placed in the row's zone."""

    wall: pd.Series  # wall clock (midnight for a date alone); NaT where unusable
    own_offset: pd.Series  # the offset the cell carries itself; NaT for most cells
    column: str  # the column to name in issues about this point in time
    text: pd.Series  # the value as written, for issues
    said: pd.Series  # the zone's short name written after the time ("EST"), else ""


def _read_when(
    cells: TemplateRenderer,
    when: When,
    label: str,
    defaults: Defaults,
    all_day: pd.Series,
    issues: IssueCollector,
    fallback_day: pd.Series | None = None,
) -> _Read:
    """Parse one ``When`` of the mapping; all-day rows need only its date.

    ``fallback_day`` (the start's date, for ``end``) stands in for a date the mapping does not
    give or a row leaves blank.
    """
    no_offset = pd.Series(pd.NaT, index=cells.index, dtype=SPAN)
    blank = pd.Series("", index=cells.index, dtype="str")
    if when.datetime is not None:
        written = cells.render(when.datetime)
        text, said = split_zone_names(written)  # "12/14/2026 9:30 AM EST"
        column = column_name(when.datetime, label)
        wall, own = parse_datetimes(text, defaults.date_format, defaults.time_format)
        wall = wall.fillna(parse_dates(text.where(all_day & wall.isna(), ""), defaults.date_format))
        missing = is_empty(text)
        if fallback_day is not None:
            wall = wall.where(~(missing & all_day), fallback_day)
            missing &= ~all_day
        issues.add(missing, column, "", f"the {label} date and time is blank")
        bad = ~missing & wall.isna() & not_empty(text)
        problem = datetime_reasons(text.where(bad, ""), defaults.date_format, defaults.time_format)
        issues.add(bad, column, written, problem)
        return _Read(wall, own, column, written, said)

    date_text = cells.render(when.date) if when.date is not None else blank
    date_column = column_name(when.date, label) if when.date is not None else field_words(label)
    day = parse_dates(date_text, defaults.date_format)
    missing = is_empty(date_text)
    if fallback_day is not None:
        day = day.where(~missing, fallback_day)
        missing[:] = False
    ref = when.date.parts[0] if when.date is not None and len(when.date.parts) == 1 else None
    if isinstance(ref, ColumnRef) and ref.filter == "date" and missing.any():
        missing &= ~_no_date_in_text(cells, ref, missing, date_column, issues)
    issues.add(missing, date_column, "", f"the {label} date is blank")
    bad_day = ~missing & day.isna()
    problem = date_reasons(date_text.where(bad_day, ""), defaults.date_format)
    issues.add(bad_day, date_column, date_text, problem)
    timed = ~all_day
    if when.time is None:
        issues.add(
            timed,
            date_column,
            date_text,
            f"has the {label} date but no time, and the appointment is not all-day: the time "
            "is missing; add it (or mark the appointment all-day)",
        )
        return _Read(day, no_offset, date_column, date_text, blank)
    time_text, said = split_zone_names(cells.render(when.time))  # "9:30 AM EST"
    time_column = column_name(when.time, label)
    time_of_day = parse_times(time_text, defaults.time_format)
    blank_time = timed & is_empty(time_text)
    ranged = _time_range(when.time)
    written = cells.cells(ranged.column) if ranged is not None else cells.render(when.time)
    if ranged is not None and ranged.filter == "end":  # a cell of one time has no end
        no_end = blank_time & not_empty(written)
        issues.add(no_end, time_column, written, NO_RANGE_END)
        blank_time &= ~no_end
    issues.add(blank_time, time_column, "", f"the {label} time is blank")
    bad_time = timed & not_empty(time_text) & time_of_day.isna()
    problem = time_reasons(time_text.where(bad_time, ""), defaults.time_format)
    issues.add(bad_time, time_column, time_text, problem)
    # Later issues (an end before its start) show the cell as written (a time range whole).
    return _Read((day + time_of_day).where(timed, day), no_offset, time_column, written, said)


def _check_zone_names(
    read: _Read, zones: pd.Series, timed: pd.Series, issues: IssueCollector
) -> None:
    """A zone's short name written with a time must fit the row's zone (see
    :mod:`importer.values.zone_names`): the rows where it does not are invalid."""
    if not (read.said != "").any():
        return
    problems = zone_name_problems(read.said, zones)
    issues.add(timed & not_empty(problems), read.column, read.text, problems)


def _no_date_in_text(
    cells: TemplateRenderer,
    ref: ColumnRef,
    missing: pd.Series,
    column: str,
    issues: IssueCollector,
) -> pd.Series:
    """Rows whose date comes from a text with no one date in it (``ref``: ``{@title|date}``
    over a title without a date): an issue that says so, not "the date is blank"; those rows."""
    text = cells.cells(ref.column)
    found = missing & not_empty(text)
    reasons = map_distinct(
        text.where(found, ""), lambda d: pd.Series([date_in_reason(t) if t else "" for t in d])
    )
    issues.add(found, column, text, reasons)
    return found


NO_RANGE_END = "is not a time range (like 9:00 AM - 9:30 AM): it has no end time"


def _time_range(template: Template) -> ColumnRef | None:
    """The placeholder of a template that is one end of a time range (``{Time|end}``)."""
    ref = template.parts[0] if len(template.parts) == 1 else None
    if isinstance(ref, ColumnRef) and ref.filter in TIME_RANGE_FILTERS:
        return ref
    return None


def _place(
    read: _Read, zones: pd.Series, dst: DstPolicy, timed: pd.Series, issues: IssueCollector
) -> tuple[pd.Series, pd.Series]:
    """Wall clock and offset of timed rows: own offset kept, others localised in their zone."""
    own = read.own_offset.notna()
    wall, offset, reason = localise(read.wall.where(timed & ~own), zones, dst)
    issues.add(timed & not_empty(reason), read.column, read.text, reason)
    return wall.where(~own, read.wall), offset.where(~own, read.own_offset)


def _duration(
    cells: TemplateRenderer, template: Template, timed: pd.Series, issues: IssueCollector
) -> pd.Series:
    """Whole minutes above 0 as a time span (``30``, ``30 min``, ``1 hr``, ``1:30``: see
    :mod:`importer.values.durations`); NaT where the cell is not one."""
    text = cells.render(template)
    minutes = lengths_in_minutes(text)
    good = (minutes > 0) & (minutes <= _LONGEST_MINUTES)
    column = column_name(template, "duration_minutes")
    single = template.parts[0] if template.single_column is not None else None
    hours = isinstance(single, ColumnRef) and single.filter == "hours"
    # The cell as written, not as the |hours filter gave it ("1.33", not "1.33 h").
    written = cells.cells(single.column) if isinstance(single, ColumnRef) else text
    issues.add(
        timed & is_empty(text),
        column,
        "",
        "the length of the appointment is missing: write how many minutes it lasts, like 30",
    )
    # A bare number read as minutes that is none (1.5), or a very short one (2): most likely a
    # column of hours, which the |hours filter reads.
    bad = (timed & ~good & not_empty(text)).to_numpy(dtype=bool)
    brief = (timed & good & (minutes < BRIEFEST_MINUTES)).to_numpy(dtype=bool)
    bare = np.zeros(len(bad), dtype=bool)
    if not hours and (bad | brief).any():
        maybe = bad | brief
        bare[maybe] = [reads_as_hours(t) for t in text.to_numpy(dtype=object)[maybe].tolist()]
    in_hours = f"if the column gives hours, read it with {{{column}|hours}} in the mapping"
    issues.add(
        bad & ~bare,
        column,
        written,
        "is not a length in whole minutes: write how long the appointment lasts, like 1.5 "
        "(hours, 90 minutes) or 1 hr 30 min"
        if hours
        else "is not a length in minutes: write how many minutes the appointment lasts, like 30 "
        "(a whole number above 0) or 1 hr 30 min",
    )
    issues.add(
        bad & bare,
        column,
        written,
        f"is not a whole number of minutes: {in_hours}; else write how many minutes the "
        "appointment lasts, like 30",
    )
    if (brief & bare).any():
        shown = minutes[brief & bare]
        lasting = shown.map(lambda m: "1 minute" if m == 1 else f"{m:.0f} minutes")
        issues.add(
            brief & bare,
            column,
            written,
            "is read as minutes: the appointment lasts only " + lasting + f"; {in_hours}",
            warning=True,
        )
    return pd.to_timedelta(minutes.where(good), unit="min").astype(SPAN)


@dataclass(frozen=True, slots=True)
class EventTimes:
    """Each row's start and end as Apptoto takes them, and as the instants they name."""

    starts: pd.Series  # the UTC instant of each start (NaT where unusable)
    ends: pd.Series
    start_walls: pd.Series  # each start's wall clock and offset (NaT where unusable)
    start_offsets: pd.Series
    end_walls: pd.Series
    end_offsets: pd.Series

    def start_time(self) -> pd.Series:
        """Each start as Apptoto takes it: ISO 8601 with offset, "" where unusable (written
        when the payloads are made, never by ``validate``)."""
        return format_iso(self.start_walls, self.start_offsets)

    def end_time(self) -> pd.Series:
        """Each end as Apptoto takes it (see :meth:`start_time`)."""
        return format_iso(self.end_walls, self.end_offsets)

    def day_starts(self, zones: pd.Series, dst: DstPolicy) -> pd.Series:
        """The UTC instant at which each start's day begins in its zone (its first instant, on
        a day whose midnight the clocks skip); a start with an offset of its own and no zone:
        its midnight at that offset. NaT where the start is unusable."""
        days = self.start_walls.dt.normalize()
        wall, offset, _ = localise(days, zones, dst, start_of_day=True)
        placed = offset.notna()
        return utc_instants(wall.where(placed, days), offset.where(placed, self.start_offsets))


def event_times(
    cells: TemplateRenderer,
    mapping: Mapping,
    zones: pd.Series,
    all_day: pd.Series,
    issues: IssueCollector,
) -> EventTimes:
    """``start_time`` and ``end_time`` of every row, ISO 8601 with offset ("" where unusable).

    Timed events: the end comes from ``end`` (its date defaults to the start's) or from
    ``duration_minutes`` (counted in real minutes, so across a clock change the end's offset
    differs). All-day events run from the local midnight that starts the start date to the one
    after the end date (or after the start date). An end not after the start is an issue, also
    at midnight: ``00:00`` on the start's date ends before the start, it is never moved on a day.
    """
    event, defaults = mapping.event, mapping.defaults
    timed = ~all_day
    start = _read_when(cells, event.start, "start", defaults, all_day, issues)
    _check_zone_names(start, zones, timed, issues)
    start_wall, start_offset = _place(start, zones, defaults.dst, timed, issues)
    start_day = start.wall.dt.normalize()
    end_day = start_day
    if event.end is not None:
        end = _read_when(cells, event.end, "end", defaults, all_day, issues, start_day)
        _check_zone_names(end, zones, timed, issues)
        end_wall, end_offset = _place(end, zones, defaults.dst, timed, issues)
        end_day = end.wall.dt.normalize()
        end_column, end_text = end.column, end.text
    elif event.duration_minutes is not None:
        length = _duration(cells, event.duration_minutes, timed, issues)
        end_wall, end_offset = in_zone(start_wall - start_offset + length, zones)
        own = start.own_offset.notna()
        end_wall = end_wall.where(~own, start_wall + length)
        end_offset = end_offset.where(~own, start_offset)
        end_column = column_name(event.duration_minutes, "duration_minutes")
        end_text = cells.render(event.duration_minutes)
    else:  # all-day events need neither; all_day from a cell may still say "no"
        end_wall = pd.Series(pd.NaT, index=cells.index, dtype=WALL)
        end_offset = pd.Series(pd.NaT, index=cells.index, dtype=SPAN)
        end_column, end_text = "end", pd.Series("", index=cells.index, dtype="str")
        missing = "the event is not all-day, and the mapping gives no end or duration_minutes"
        issues.add(timed, "end", "", missing)

    if all_day.any():
        day_start, day_start_offset, _ = localise(
            start_day.where(all_day), zones, defaults.dst, start_of_day=True
        )
        day_end, day_end_offset, _ = localise(
            (end_day + DAY).where(all_day), zones, defaults.dst, start_of_day=True
        )
        start_wall, start_offset = (
            start_wall.where(timed, day_start),
            start_offset.where(timed, day_start_offset),
        )
        end_wall, end_offset = (
            end_wall.where(timed, day_end),
            end_offset.where(timed, day_end_offset),
        )

    starts, ends = utc_instants(start_wall, start_offset), utc_instants(end_wall, end_offset)
    order = (end_wall - end_offset) - (start_wall - start_offset)
    wrong = (order <= pd.Timedelta(0)).fillna(False).astype(bool)
    if wrong.any():
        # The words are made for the wrong rows only: string sums over every row cost ~20 ms
        # per 50,000 rows.
        start_time = format_iso(start_wall[wrong], start_offset[wrong])
        end_time = format_iso(end_wall[wrong], end_offset[wrong])
        order, timed, wrong_end, start_day_of = (
            order[wrong],
            timed[wrong],
            end_wall[wrong],
            start_wall[wrong].dt.normalize(),
        )
        verb = pd.Series("ends before it starts", index=order.index).where(
            order < pd.Timedelta(0), "ends when it starts (it must end after it starts)"
        )
        reason = verb + ": starts " + start_time + ", ends " + end_time
        at_midnight = timed & (wrong_end == wrong_end.dt.normalize())
        reason = reason.where(
            ~at_midnight, reason + "; an event that ends at midnight needs the next day's date"
        )
        # 10:00 PM to 2:00 AM on one date: a night appointment (a sleep study) whose end lacks
        # the next day's date. 10:00 AM to 9:00 AM is a typo, not 23 hours, so it gets no hint.
        overnight = (
            timed
            & ~at_midnight
            & (wrong_end.dt.normalize() == start_day_of)
            & (order + DAY <= pd.Timedelta(hours=OVERNIGHT_HOURS))
        )
        reason = reason.where(
            ~overnight, reason + "; if it ends after midnight, its end needs the next day's date"
        )
        reason = reason.where(timed, "ends before it starts: the end date is before the start date")
        issues.add(wrong, end_column, end_text, reason)
    return EventTimes(starts, ends, start_wall, start_offset, end_wall, end_offset)
