"""The mapping model: frozen dataclasses for a parsed mapping file, and ``{Column}`` templates.

Parsing lives in :mod:`importer.mapping.parse`; :mod:`importer.mapping` exports both.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from importer.errors import MappingError
from importer.values import FILTERS, DstPolicy

DEFAULT_PHONE_REGION = "US"


_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


class ColumnType(enum.StrEnum):
    """Checks a source column can ask for (``columns: {Phone: {type: phone}}``)."""

    TEXT = "text"
    EMAIL = "email"
    PHONE = "phone"
    TIMEZONE = "timezone"
    INTEGER = "integer"


# Placeholders of the sheet itself, in the words issues use: its title, names (the same on every
# row of a sheet) and the heading row above a row ("Dr. Rivera" over a provider's block).
# ``{@title|date}`` is the date written above a day's table (importer.values.date_in_text).
SHEET_VALUES = {
    "@title": "Sheet title",
    "@sheet": "Sheet name",
    "@file": "File name",
    "@heading": "Heading above",
}

SHOW_AS = {"free": 0, "tentative": 1, "busy": 2, "out_of_office": 3, "working_elsewhere": 4}


@dataclass(frozen=True, slots=True)
class ColumnRef:
    """A ``{Column}`` placeholder inside a template, with an optional filter:
    ``{Patient Name|first_last}`` turns "Abernathy, Gail" into "Gail Abernathy", ``{Time|start}``
    "9:00-9:30 AM" into "9:00 AM"."""

    column: str
    filter: str | None = None  # a key of importer.values.FILTERS


@dataclass(frozen=True, slots=True)
class Template:
    """Literal text and ``{Column}`` placeholders, e.g. ``"{Service} with {Provider}"``."""

    source: str
    parts: tuple[str | ColumnRef, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """The column names this template reads, in order of appearance."""
        return tuple(p.column for p in self.parts if isinstance(p, ColumnRef))

    @property
    def is_literal(self) -> bool:
        """True when the template has no placeholder (the same value on every row)."""
        return not self.columns

    @property
    def single_column(self) -> str | None:
        """The column name when the template is exactly one placeholder, e.g. ``"{Date}"``."""
        if len(self.parts) == 1 and isinstance(self.parts[0], ColumnRef):
            return self.parts[0].column
        return None

    def literal_text(self) -> str:
        """The text of a template without placeholders."""
        return "".join(p for p in self.parts if isinstance(p, str))


def _column_ref(name: str, where: str) -> ColumnRef:
    """``Column`` or ``Column|filter``; a "|" before other text is part of the column's name."""
    column, bar, word = name.rpartition("|")
    if not bar or not re.fullmatch(r"[a-z_]+", word.strip()):
        return ColumnRef(name)
    if word.strip() not in FILTERS:
        known = ", ".join(f"|{f}" for f in FILTERS)
        raise MappingError(f"{where}: unknown filter |{word.strip()} in {{{name}}}; use {known}")
    return ColumnRef(column.strip(), word.strip())


def parse_template(source: str, *, where: str) -> Template:
    """Parse ``source`` into a :class:`Template`; ``where`` names the key for error messages."""
    parts: list[str | ColumnRef] = []
    literal: list[str] = []
    pos = 0
    for match in _PLACEHOLDER.finditer(source):
        literal.append(source[pos : match.start()])
        pos = match.end()
        token = match.group(0)
        if token == "{{":
            literal.append("{")
        elif token == "}}":
            literal.append("}")
        elif token in "{}":
            raise MappingError(
                f"{where}: unbalanced brace in {source!r}; write {{{{ or }}}} for a literal brace"
            )
        else:
            name = (match.group(1) or "").strip()
            if not name:
                raise MappingError(f"{where}: empty placeholder {{}} in {source!r}")
            if any(literal):
                parts.append("".join(literal))
            literal = []
            parts.append(_column_ref(name, where))
    literal.append(source[pos:])
    if any(literal):
        parts.append("".join(literal))
    return Template(source=source, parts=tuple(parts))


@dataclass(frozen=True, slots=True)
class Defaults:
    """Mapping-wide defaults, for cells that are blank or written without zone/country."""

    time_zone: str | None = None  # IANA zone for rows whose zone is blank
    phone_region: str = DEFAULT_PHONE_REGION  # ISO country for numbers written without +country
    date_format: str | None = None  # strptime format of date text; ISO dates always accepted
    time_format: str | None = None  # strptime format of time text; ISO times always accepted
    dst: DstPolicy = DstPolicy.REJECT  # local times that occur twice


@dataclass(frozen=True, slots=True)
class ColumnCheck:
    """Checks on one source column; all failures of all rows are reported at once."""

    name: str
    required: bool = False  # every row must have a non-blank cell
    unique: bool = False  # no two rows may share a value (blank cells aside)
    type: ColumnType = ColumnType.TEXT


@dataclass(frozen=True, slots=True)
class When:
    """A point in time from the sheet: a date and a time cell, or one cell holding both."""

    date: Template | None = None
    time: Template | None = None  # None with a date: an all-day event or a date-only value
    datetime: Template | None = None  # date and time in one cell (may carry its own offset)

    @property
    def columns(self) -> tuple[str, ...]:
        """Columns read by this point in time."""
        return tuple(c for t in (self.date, self.time, self.datetime) if t for c in t.columns)


@dataclass(frozen=True, slots=True)
class ParticipantTemplate:
    """One participant per row: by name/email/phone, or by an Apptoto contact."""

    name: Template | None = None
    email: Template | None = None
    phone: Template | None = None
    contact_id: Template | None = None
    contact_external_id: Template | None = None
    # ``phone: [{Cell}, {Home}]``: the phones after the first, in order of preference; a row's
    # first valid number is sent.
    other_phones: tuple[Template, ...] = ()

    def templates(self) -> Iterator[tuple[str, Template]]:
        """(field, template) pairs that are set; ``phone`` once per phone column, in order."""
        for key in ("name", "email", "phone", "contact_id", "contact_external_id"):
            value = getattr(self, key)
            if value is not None:
                yield key, value
            if key == "phone":
                for other in self.other_phones:
                    yield key, other

    @property
    def phones(self) -> tuple[Template, ...]:
        """Every phone template, the preferred one first."""
        return (self.phone, *self.other_phones) if self.phone is not None else ()


@dataclass(frozen=True, slots=True)
class EventTemplate:
    """How one row becomes one Apptoto event (fields as in ``PUT /v1/events``)."""

    external_id: Template  # required: it makes every re-send an update, never a duplicate
    start: When
    calendar: Template | None = None  # calendar name (created by Apptoto if new)
    calendar_id: Template | None = None  # or the calendar's numeric id
    title: Template | None = None
    end: When | None = None  # or duration_minutes
    duration_minutes: Template | None = None
    time_zone: Template | None = None  # blank cells fall back to defaults.time_zone
    location: Template | None = None
    content: Template | None = None
    auto_messages: bool = False  # append "#auto" to the content
    all_day: bool | Template = False
    show_as: Template | None = None  # free | tentative | busy | out_of_office | working_elsewhere
    custom_data: tuple[tuple[str, Template], ...] = ()
    participants: tuple[ParticipantTemplate, ...] = ()


@dataclass(frozen=True, slots=True)
class CancelledRows:
    """The rows a practice system marks as not going ahead, by the text of one column
    (``cancelled: {column: Status, values: [Cancelled, No show]}``): never sent, and to
    ``--cancel-missing`` not in the file. Values are matched trimmed, in any case, and with
    hyphens and runs of spaces alike (``No-show`` is ``No show``)."""

    column: str
    values: tuple[str, ...]

    def words(self) -> frozenset[str]:
        """The values as cells are compared to them (:meth:`folded`)."""
        return frozenset(self.folded(v) for v in self.values)

    @staticmethod
    def folded(text: str) -> str:
        """``text`` as compared with the values: trimmed, casefolded, hyphens and runs of
        spaces as one space."""
        return " ".join(text.replace("-", " ").casefold().split())


@dataclass(frozen=True, slots=True)
class ZonesByColumn:
    """Each row's time zone read from the text of one column, for a practice with sites in more
    than one zone (``time_zones: {column: Location, values: {Boise clinic: America/Boise}}``).
    Texts are matched as :class:`CancelledRows` matches its values; a blank cell takes
    ``defaults.time_zone``, and a text not listed makes the row invalid (never a guessed zone)."""

    column: str
    values: tuple[tuple[str, str], ...]  # (text as written in the mapping, IANA zone)

    def zones(self) -> dict[str, str]:
        """Folded text (:meth:`CancelledRows.folded`) -> zone."""
        return {CancelledRows.folded(text): zone for text, zone in self.values}


@dataclass(frozen=True, slots=True)
class Mapping:
    """A parsed, checked mapping file."""

    name: str
    event: EventTemplate
    defaults: Defaults = field(default_factory=Defaults)
    columns: tuple[ColumnCheck, ...] = ()
    sheet: str | None = None
    path: str | None = None
    header_row: int | None = None  # the spreadsheet row of the column names; None: found
    sheets: tuple[str, ...] = ()  # several sheets read in one run (``sheets: [Mon, Tue]``)
    all_sheets: bool = False  # every sheet holding the columns the mapping reads (``sheets: all``)
    # Where the appointments come from (e.g. "appointment-id"): the ledger keeps this mapping's
    # events under it, so a renamed mapping, or a second one for the same export, finds them.
    source: str | None = None
    # The calendars rows may name (``calendars: [Dr Chen, Dr Rivera]``): any other is an invalid
    # row, so a typo never makes Apptoto create a calendar. Empty: any calendar.
    calendars: tuple[str, ...] = ()
    cancelled: CancelledRows | None = None  # rows marked cancelled: never sent
    time_zones: ZonesByColumn | None = None  # each row's zone from a column's text (sites)

    @property
    def scope(self) -> str:
        """The name the ledger keeps this mapping's events under: ``source``, else ``name``."""
        return self.source or self.name

    def templates(self) -> Iterator[tuple[str, Template]]:
        """Every (key, template) of the event, with a dotted key for messages."""
        ev = self.event
        for key in ("external_id", "calendar", "calendar_id", "title", "duration_minutes"):
            value = getattr(ev, key)
            if value is not None:
                yield key, value
        for key in ("time_zone", "location", "content", "show_as"):
            value = getattr(ev, key)
            if value is not None:
                yield key, value
        if isinstance(ev.all_day, Template):
            yield "all_day", ev.all_day
        for label, when in (("start", ev.start), ("end", ev.end)):
            if when is None:
                continue
            for part in ("date", "time", "datetime"):
                value = getattr(when, part)
                if value is not None:
                    yield f"{label}.{part}", value
        for key, value in ev.custom_data:
            yield f"custom_data.{key}", value
        for i, participant in enumerate(ev.participants, start=1):
            for key, value in participant.templates():
                yield f"participants[{i}].{key}", value

    def referenced_columns(self) -> list[str]:
        """Every source column the mapping reads, in first-use order, without repeats."""
        seen: dict[str, None] = {c.name: None for c in self.columns}
        for _, template in self.templates():
            for column in template.columns:
                seen.setdefault(column, None)
        if self.cancelled is not None:
            seen.setdefault(self.cancelled.column, None)
        if self.time_zones is not None:
            seen.setdefault(self.time_zones.column, None)
        return list(seen)

    def check(self, name: str) -> ColumnCheck:
        """The checks declared for a column (a default, permissive check when none)."""
        for c in self.columns:
            if c.name == name:
                return c
        return ColumnCheck(name=name)
