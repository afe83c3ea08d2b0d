"""The map stage: rows of text cells -> Apptoto event payloads for ``PUT /v1/events``.

Every check runs over the whole frame at once and every problem of every row is reported; a row
with any problem gets no payload. Payloads carry every field the mapping maps, ``""`` for blank
cells, so clearing a cell clears the field in Apptoto on the next update; fields the mapping does
not map are left out, so Apptoto keeps them. The same row always gives the same payload (its hash
decides whether it is sent again).
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

from importer.events.cells import (
    IssueCollector,
    TemplateRenderer,
    column_name,
    field_words,
    whole_numbers,
)
from importer.events.participants import participants_of, unreachable_warnings
from importer.events.row_warnings import (
    double_booking_warnings,
    timing_warnings,
    when_column,
)
from importer.events.times import event_times
from importer.mapping import SHOW_AS, CancelledRows, Mapping, Template, ZonesByColumn
from importer.outcomes import RowIssue
from importer.values import (
    collector_paused,
    is_empty,
    map_distinct,
    not_empty,
    zone_cell_problem,
)
from importer.values.numbers import SHORTENED_REASON, shortened_numbers

AUTO_TAG = "#auto"
_HAS_AUTO_TAG = r"(?<!\S)#auto(?!\w)"  # "#auto" as a word of its own, anywhere in the text
_YES = {"yes": True, "y": True, "true": True, "1": True, "x": True}
_NO = {"no": False, "n": False, "false": False, "0": False, "": False}
ASSEMBLY_ROWS = 50_000  # rows whose payloads are built from one batch of Python lists


@dataclass(frozen=True)
class BuiltEvents:
    """Payloads for the rows that map cleanly, and every problem found in the others.

    Every value is checked and mapped when the events are built; the payload dicts themselves are
    put together the first time :attr:`payloads` is read. ``validate`` needs only which rows are
    valid and why the others are not, and never reads them (~1 s per 1,000,000 rows saved).
    """

    external_ids: dict[int, str]  # spreadsheet row -> external_id, wherever it could be rendered
    issues: list[RowIssue]  # every problem, sorted by row
    warnings: list[RowIssue] = field(default_factory=list)  # never block a row; sorted by row
    # makes the payloads (once; the mapped columns it holds are then let go)
    assemble: Callable[[], dict[int, dict[str, Any]]] = field(
        default=dict, repr=False, compare=False
    )

    @functools.cached_property
    def payloads(self) -> dict[int, dict[str, Any]]:
        """Spreadsheet row -> event for ``PUT /v1/events``, for every row that maps cleanly."""
        made = self.assemble()
        # The columns it held are no longer needed; a copy (dataclasses.replace) gets these.
        object.__setattr__(self, "assemble", lambda: made)
        return made


def build_events(
    frame: pd.DataFrame,
    mapping: Mapping,
    *,
    now: datetime | None = None,
    shared: dict[int, tuple[int, ...]] | None = None,
    cells: TemplateRenderer | None = None,
) -> BuiltEvents:
    """Map every row of ``frame`` (text cells, index = spreadsheet row) to an Apptoto event.

    Times are sent as ISO 8601 with the offset the row's zone has at that moment. A row with any
    problem (blank required value, bad date, time skipped by a clock change, unknown zone, shared
    external_id, bad phone, ...) is left out of ``payloads`` and described in ``issues``.
    A bad email or phone beside a good one is left out of the payload with a warning, and the
    row is sent with the good one; ``now`` (default: the present) dates the warnings about
    appointments in the past or more than a year ahead. ``shared``: row -> every row of the file
    (``frame`` is one part of it) whose appointment id is the row's; those rows are invalid too.
    ``cells``: ``frame``'s renderer, when one is kept (a part's ids, rendered for its keys).
    """
    cells = _renderer_of(frame, cells)
    issues = IssueCollector(frame.index)
    event = mapping.event
    # A field only the payloads read is made with them (a function here): validate never is.
    fields: dict[str, pd.Series | Callable[[], pd.Series]] = {}

    external_ids = _external_ids(cells, event.external_id, issues, shared or {})
    fields["external_id"] = external_ids
    if event.calendar is not None:
        calendars = fields["calendar"] = _required_text(cells, event.calendar, "calendar", issues)
        if mapping.calendars:
            _allowed_calendars(calendars, mapping.calendars, event.calendar, issues)
    if event.calendar_id is not None:
        fields["calendar_id"] = whole_numbers(
            cells, event.calendar_id, "calendar_id", issues, required=True
        )
    if event.title is not None:
        fields["title"] = _required_text(cells, event.title, "title", issues)

    zones = _zones(cells, mapping, issues)
    all_day = _all_day(cells, event.all_day, issues)
    times = event_times(cells, mapping, zones, all_day, issues)
    fields["start_time"], fields["end_time"] = times.start_time, times.end_time
    fields["time_zone"] = zones
    fields["all_day"] = all_day
    if event.location is not None:
        fields["location"] = functools.partial(cells.render, event.location)
    if event.content is not None or event.auto_messages:
        fields["content"] = functools.partial(_content, cells, event.content, event.auto_messages)
    if event.show_as is not None:
        fields["show_as"] = _show_as(cells, event.show_as, issues)
    custom: dict[str, pd.Series | Callable[[], pd.Series]] = {
        key: functools.partial(cells.render, t) for key, t in event.custom_data
    }
    with collector_paused():
        people = [
            participants_of(cells, p, i, mapping.defaults.phone_region, issues)
            for i, p in enumerate(event.participants, start=1)
        ]
        unreachable_warnings(people, event.participants, frame.index, issues)
        start_column = when_column(event.start, "start")
        start_template = event.start.datetime or event.start.date
        start_written = _blank(cells) if start_template is None else cells.render(start_template)
        timing_warnings(times.starts, times.ends, start_written, start_column, now, issues)
        if people:
            double_booking_warnings(
                times.starts, start_written, people[0].who, people[0].names, start_column, issues
            )
        cells.forget()  # every column is rendered: keep only what the payloads need
        valid = np.flatnonzero(~issues.invalid_rows())
        # One int object per row number, shared by both dicts (28 MB per 1,000,000 rows).
        row_numbers = frame.index.tolist()
        rendered = np.flatnonzero((external_ids != "").to_numpy())
        ids = external_ids.to_numpy(dtype=object)
        by_row = {row_numbers[i]: ids[i] for i in rendered.tolist()}

    def assemble() -> dict[int, dict[str, Any]]:
        with collector_paused():
            return dict(
                zip(
                    [row_numbers[i] for i in valid.tolist()],
                    _assemble(
                        _made(fields), _made(custom), [one.people() for one in people], valid
                    ),
                    strict=True,
                )
            )

    return BuiltEvents(
        external_ids=by_row,
        issues=issues.sorted(),
        warnings=issues.warnings(),
        assemble=assemble,
    )


@dataclass(frozen=True, order=True)
class FirstDay:
    """The first day of a file's appointments: when it begins (UTC), and the date as written."""

    begins: datetime
    day: date

    def __str__(self) -> str:
        return f"{self.day:%A} {self.day.day} {self.day:%B %Y}"


def first_day(frame: pd.DataFrame, mapping: Mapping) -> FirstDay | None:
    """The earliest day on which an appointment of ``frame`` (text cells, as for
    :func:`build_events`) starts, read as the events are; rows whose start cannot be read do not
    count. None when no row's can."""
    cells = TemplateRenderer(frame)
    issues = IssueCollector(frame.index)  # the rows' problems are told when they are built
    all_day = _all_day(cells, mapping.event.all_day, issues)
    zones = _zones(cells, mapping, issues)
    times = event_times(cells, mapping, zones, all_day, issues)
    begins = times.day_starts(zones, mapping.defaults.dst)
    if begins.isna().all():
        return None
    at = int(begins.argmin())  # NaT left out
    return FirstDay(begins.iloc[at].to_pydatetime(), times.start_walls.iloc[at].date())


def _assemble(
    fields: dict[str, pd.Series],
    custom: dict[str, pd.Series],
    participants: list[list[dict[str, Any] | None]],
    valid: np.ndarray,
) -> Iterator[dict[str, Any]]:
    """One payload dict per valid row (the per-row part of the stage: building the dicts).

    Columns become Python lists ``ASSEMBLY_ROWS`` rows at a time: whole-column lists of every
    field at once held ~120 MB more at the peak for 1,000,000 rows.
    """
    arrays = [values.to_numpy(dtype=object) for values in fields.values()]
    custom_arrays = [values.to_numpy(dtype=object) for values in custom.values()]
    keys = [
        *fields,
        *(["custom_data"] if custom else []),
        *(["participants"] if participants else []),
    ]
    people_arrays = []
    for per_row in participants:
        people_array = np.empty(len(per_row), dtype=object)
        people_array[:] = per_row
        people_arrays.append(people_array)
    for start in range(0, len(valid), ASSEMBLY_ROWS):
        picked = valid[start : start + ASSEMBLY_ROWS]
        # Rows as tuples (zip) turned into dicts by map: no Python statement runs per row,
        # ~40% less time than a dict comprehension per row.
        columns: list[Iterable[Any]] = [values[picked].tolist() for values in arrays]
        if custom:
            custom_rows = zip(*[values[picked].tolist() for values in custom_arrays], strict=True)
            columns.append(map(dict, map(zip, repeat(list(custom)), custom_rows)))
        if people_arrays:
            columns.append(_present_people([per_row[picked].tolist() for per_row in people_arrays]))
        yield from map(dict, map(zip, repeat(keys), zip(*columns, strict=True)))


def _present_people(people: list[list[dict[str, Any] | None]]) -> list[list[dict[str, Any]]]:
    """Per row, the participants it has (each template's, in order; None where it gives nobody)."""
    if len(people) == 1:
        return [[person] if person is not None else [] for person in people[0]]
    return [[p for p in row if p is not None] for row in zip(*people, strict=True)]


def _blank(cells: TemplateRenderer) -> pd.Series:
    return pd.Series("", index=cells.index, dtype="str")


def external_ids_of(
    frame: pd.DataFrame, template: Template, cells: TemplateRenderer | None = None
) -> pd.Series:
    """The external_id of each row of ``frame``; "" where a cell it needs is blank. ``cells``:
    ``frame``'s renderer, when one is kept (what it renders is then rendered once)."""
    cells = _renderer_of(frame, cells)
    rendered = cells.render(template)
    return rendered.where(is_empty(cells.blank_column(template)) & not_empty(rendered), "")


def _renderer_of(frame: pd.DataFrame, cells: TemplateRenderer | None) -> TemplateRenderer:
    if cells is None:
        return TemplateRenderer(frame)
    if cells.frame is not frame:
        raise ValueError("the renderer given is another frame's")  # a bug: wrong rows' text
    return cells


def _external_ids(
    cells: TemplateRenderer,
    template: Template,
    issues: IssueCollector,
    elsewhere: dict[int, tuple[int, ...]],
) -> pd.Series:
    """Rendered external_ids; "" where a cell it needs is blank. Shared ids fail every sharer,
    those shared with rows outside the frame (``elsewhere``: row -> every sharer) too."""
    rendered = cells.render(template)
    missing_in = cells.blank_column(template)
    missing = (missing_in != "") | (rendered == "")
    issues.add(
        missing,
        missing_in.where(missing_in != "", column_name(template, "external_id")),
        "",
        "is blank: every appointment needs its id, so that the next import updates it instead "
        "of adding it again; fill it in",
    )
    # An id Excel shortened (2.02613E+11) is not the appointment's: sent, it would become a
    # second event once the file is saved right. Such rows are refused for that alone.
    for column in template.columns:
        written = cells.cells(column)
        lost = shortened_numbers(written)
        if lost.any():
            issues.add(lost & ~missing, column, written, SHORTENED_REASON)
            missing |= lost
    rendered = rendered.where(~missing, "")
    shared = rendered.duplicated(keep=False) & ~missing
    if elsewhere:
        shared |= rendered.index.isin(list(elsewhere)) & ~missing
    if shared.any():
        # One issues.add for all sharers: a mask over the whole frame per shared id made this
        # quadratic (5 s at 1,000,000 rows with 700 repeated ids).
        sharers = rendered[shared]
        reason_of: dict[str, str] = {}
        for external_id, rows in sharers.groupby(sharers, sort=False).groups.items():
            found = {int(r) for r in rows}
            for row in list(found):
                found.update(elsewhere.get(row, ()))
            listed = [str(r) for r in sorted(found)]
            together = f"{', '.join(listed[:-1])} and {listed[-1]}"
            reason_of[str(external_id)] = (
                f"makes the appointment id {external_id!r} of rows {together}: each appointment "
                "needs its own id, or they would overwrite each other in Apptoto"
            )
        issues.add(
            shared,
            column_name(template, "external_id"),
            sharers,
            sharers.map(reason_of),
        )
    return rendered


def _required_text(
    cells: TemplateRenderer, template: Template, key: str, issues: IssueCollector
) -> pd.Series:
    """Rendered text of a field Apptoto needs on a new event (title, calendar)."""
    rendered = cells.render(template)
    columns = " and ".join(template.columns) or field_words(key)
    issues.add(
        cells.is_blank(template),
        column_name(template, key),
        "",
        f"is blank, so the appointment has no {field_words(key).lower()} ({columns} blank); "
        f"Apptoto needs one for every appointment: fill it in",
    )
    return rendered


def _allowed_calendars(
    calendars: pd.Series, allowed: tuple[str, ...], template: Template, issues: IssueCollector
) -> None:
    """A calendar the mapping's ``calendars`` list does not name makes the row invalid."""

    def reason(name: str) -> str:
        if not name or name in allowed:
            return ""
        close = difflib.get_close_matches(name.strip().casefold(), [a.casefold() for a in allowed])
        meant = [a for a in allowed if a.casefold() in close[:1]]
        hint = f"; did you mean {meant[0]!r}?" if meant else ""
        return (
            f"is not one of the calendars this mapping allows ({', '.join(allowed)}): "
            f"sending it would create a new calendar in Apptoto{hint}"
        )

    reasons = map_distinct(calendars, lambda names: pd.Series([reason(n) for n in names]))
    issues.add(not_empty(reasons), column_name(template, "calendar"), calendars, reasons)


def _zones(cells: TemplateRenderer, mapping: Mapping, issues: IssueCollector) -> pd.Series:
    """Each row's IANA zone: its cell, else ``defaults.time_zone``; "" where there is none."""
    template = mapping.event.time_zone
    default = mapping.defaults.time_zone or ""
    if mapping.time_zones is not None:
        return _zones_by_site(cells, mapping.time_zones, default, issues)
    written = cells.render(template) if template is not None else _blank(cells)
    zones = written.where(not_empty(written), default)
    column = column_name(template, "time_zone") if template is not None else "Time zone"
    issues.add(
        is_empty(zones),
        column,
        "",
        "no time zone: the cell is blank and no time zone is set for such rows; write the "
        "zone (like America/New_York) in the cell, or choose the time zone of the appointments "
        "when matching the columns",
    )
    one = template.single_column if template is not None else None
    reasons = map_distinct(
        zones,
        lambda names: pd.Series([zone_cell_problem(z, one) or "" if z else "" for z in names]),
    )
    issues.add(not_empty(reasons), column, zones, reasons)
    return zones.where(is_empty(reasons), "")


def _zones_by_site(
    cells: TemplateRenderer, by: ZonesByColumn, default: str, issues: IssueCollector
) -> pd.Series:
    """Each row's zone from its text in ``by.column`` (the mapping's ``time_zones``); a blank
    cell: ``default``. A text the mapping does not list makes the row invalid: a site's zone is
    never guessed, as an hour off sends a patient at the wrong time."""
    text = cells.cells(by.column)
    known = by.zones()
    zones = map_distinct(
        text, lambda distinct: pd.Series([known.get(CancelledRows.folded(t), "") for t in distinct])
    )
    blank = is_empty(text)
    zones = zones.where(~blank, default)
    unlisted = ~blank & is_empty(zones)
    if unlisted.any():
        listed = ", ".join(repr(t) for t, _ in by.values)
        issues.add(
            unlisted,
            by.column,
            text,
            f"has no time zone in the mapping (its time_zones list {listed}): add it to "
            "time_zones.values with the zone of that place, like America/New_York",
        )
    if blank.any() and not default:
        issues.add(
            blank,
            by.column,
            "",
            "is blank, so the row has no time zone: write the site, or set defaults.time_zone "
            "for rows without one",
        )
    return zones


def _all_day(
    cells: TemplateRenderer, all_day: bool | Template, issues: IssueCollector
) -> pd.Series:
    """Per row, whether the event is all-day (a fixed choice, or yes/no/true/false/1/0/x)."""
    if isinstance(all_day, bool):
        return pd.Series(all_day, index=cells.index, dtype=bool)
    text = cells.render(all_day)
    answer = map_distinct(text, lambda distinct: distinct.str.lower().map(_YES | _NO))
    issues.add(
        answer.isna(),
        column_name(all_day, "all_day"),
        text,
        "must be yes or no (blank means no)",
    )
    return answer.fillna(False).astype(bool)


def _made(fields: dict[str, pd.Series | Callable[[], pd.Series]]) -> dict[str, pd.Series]:
    """``fields`` with each one still to make made (in their order: the payload's keys')."""
    return {k: value if isinstance(value, pd.Series) else value() for k, value in fields.items()}


def _content(cells: TemplateRenderer, template: Template | None, auto: bool) -> pd.Series:
    """The content of every row: its template's text, tagged for auto messages if asked."""
    content = cells.render(template) if template is not None else _blank(cells)
    return _with_auto_tag(content) if auto else content


def _with_auto_tag(content: pd.Series) -> pd.Series:
    """Content ending in "#auto" (Apptoto's cue for auto messages), added at most once.

    Worked out once per distinct content (notes repeat), so rows share the tagged text.
    """

    def tag(distinct: pd.Series) -> pd.Series:
        tagged = distinct.str.contains(_HAS_AUTO_TAG, regex=True)
        added = distinct.where(distinct == "", distinct + " ") + AUTO_TAG
        return distinct.where(tagged, added)

    return map_distinct(content, tag)


def _show_as(cells: TemplateRenderer, template: Template, issues: IssueCollector) -> pd.Series:
    """Apptoto's show_as number (0-4) from a name like "Busy" or "out of office".

    A blank cell gives ``None`` (JSON null), which Apptoto treats as Busy.
    """
    text = cells.render(template)
    names = SHOW_AS | {str(n): n for n in SHOW_AS.values()}
    number = map_distinct(
        text,
        lambda distinct: distinct.str.lower().str.replace(r"[\s\-]+", "_", regex=True).map(names),
    )
    issues.add(
        number.isna() & not_empty(text),
        column_name(template, "show_as"),
        text,
        f"must be one of: {', '.join(word.replace('_', ' ') for word in SHOW_AS)}",
    )
    # Int64 first: with blank cells in the column, map() gives floats, and 2.0 is not Apptoto's 2.
    return number.astype("Int64").astype(object).where(number.notna(), None)
