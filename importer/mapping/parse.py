"""Mapping files: how the columns of a spreadsheet become Apptoto events.

A mapping is YAML (see ``importer/examples/clinic.yaml``, the README). It is parsed into the frozen
dataclasses of :mod:`importer.mapping.model`, one function per section of the file (top keys,
``defaults``, ``columns``, ``event`` and its participants), and every mistake of every section
is reported at once in one ``MappingError``. Checking the mapping against a sheet's headers is
:func:`importer.mapping.columns.check_columns`.

Templates are literal text with ``{Column}`` placeholders; ``{{`` and ``}}`` stand for braces.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from collections.abc import Mapping as AbstractMapping
from pathlib import Path
from typing import Any

from importer.errors import MappingError
from importer.mapping.model import (
    DEFAULT_PHONE_REGION,
    SHOW_AS,
    ColumnCheck,
    ColumnType,
    Defaults,
    EventTemplate,
    Mapping,
    ParticipantTemplate,
    Template,
    When,
    parse_template,
)
from importer.mapping.yaml_text import MAX_MAPPING_BYTES, read_yaml
from importer.values import DstPolicy, is_zone, known_zones, zone_country

_TOP_KEYS = {
    *("name", "source", "sheet", "sheets", "header_row", "defaults", "columns", "event"),
    "calendars",
}


_DEFAULT_KEYS = {"time_zone", "phone_region", "date_format", "time_format", "dst"}


_COLUMN_KEYS = {"required", "unique", "type"}


_EVENT_KEYS = {
    "calendar",
    "calendar_id",
    "external_id",
    "title",
    "start",
    "end",
    "duration_minutes",
    "time_zone",
    "location",
    "content",
    "auto_messages",
    "all_day",
    "show_as",
    "custom_data",
    "participants",
}


_WHEN_KEYS = {"date", "time", "datetime"}


_PARTICIPANT_KEYS = {"name", "email", "phone", "contact_id", "contact_external_id"}


class _Problems:
    """Collects every problem in a mapping file so the user sees them all at once."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, text: str) -> None:
        self.items.append(text)

    def unknown_keys(self, where: str, given: Iterable[str], allowed: set[str]) -> None:
        for key in given:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                suffix = f"; did you mean {hint[0]!r}?" if hint else ""
                self.add(
                    f"{where}: unknown key {key!r}{suffix} (allowed: {', '.join(sorted(allowed))})"
                )


def _template(value: Any, where: str, problems: _Problems) -> Template | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        problems.add(f'{where}: expected text like "{{Column}}", got {value!r}')
        return None
    try:
        return parse_template(str(value), where=where)
    except MappingError as exc:
        problems.add(str(exc))
        return None


def _section(raw: Any, where: str, problems: _Problems) -> AbstractMapping[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.add(f"{where}: expected a section of keys, got {raw!r}")
        return {}
    return raw


def _when(raw: Any, where: str, problems: _Problems, *, date_optional: bool = False) -> When | None:
    """Parse start/end; an end may give only a time (the start's date is used)."""
    if raw is None:
        return None
    if isinstance(raw, str):
        return When(datetime=_template(raw, where, problems))
    section = _section(raw, where, problems)
    problems.unknown_keys(where, section, _WHEN_KEYS)
    when = When(
        date=_template(section.get("date"), f"{where}.date", problems),
        time=_template(section.get("time"), f"{where}.time", problems),
        datetime=_template(section.get("datetime"), f"{where}.datetime", problems),
    )
    if when.datetime is not None and (when.date is not None or when.time is not None):
        problems.add(f"{where}: give either datetime, or date (and time), not both")
    elif when.datetime is None and when.date is None and not (date_optional and when.time):
        problems.add(f"{where}: needs a date (and a time), or a datetime")
    return when


_DIRECTIVE = re.compile(r"%[-#]?[A-Za-z%]")


def format_problem(fmt: str) -> str | None:
    """Why ``fmt`` is not a strptime format of a date or time (None when it is one).

    A format is %-codes and separators (``%m/%d/%Y``, ``%I:%M %p``, ``%Hh%M``); words in it mean
    text was written where a format belongs, such as a placeholder left for the user to replace.
    """
    if not _DIRECTIVE.search(fmt):
        return "is not a date/time format: it has no %-codes (write it like %m/%d/%Y or %H:%M)"
    if re.search(r"[A-Za-z]{2,}", _DIRECTIVE.sub("", fmt)):
        return (
            "is not a date/time format: only %-codes and separators are allowed "
            "(like %m/%d/%Y or %I:%M %p)"
        )
    return None


def _bool(raw: Any, where: str, problems: _Problems) -> bool:
    if isinstance(raw, bool):
        return raw
    problems.add(f"{where}: expected true or false, got {raw!r}")
    return False


def parse_mapping(raw: Any, *, file: str | None = None) -> Mapping:
    """Build a :class:`Mapping` from parsed YAML; every problem is reported in one MappingError."""
    problems = _Problems()
    top = _section(raw, "mapping", problems)
    problems.unknown_keys("mapping", top, _TOP_KEYS)
    defaults = _defaults(top.get("defaults"), problems)
    checks = _columns(top.get("columns"), problems)
    event = _event(top.get("event"), problems)
    source = top.get("source")
    if source is not None and (not isinstance(source, str) or not source.strip()):
        problems.add(
            f"source: {source!r} must be text naming where the appointments come from, "
            "like appointment-id"
        )
    header_row = _header_row(top.get("header_row"), problems)
    sheets, all_sheets = _sheets(top, problems)
    calendars = top.get("calendars") or []
    if not isinstance(calendars, list) or not all(isinstance(c, str) for c in calendars):
        problems.add(f"calendars: expected a list of calendar names, got {calendars!r}")
    if problems.items or event is None:
        raise MappingError("the mapping has mistakes", file=file, problems=problems.items)
    sheet = top.get("sheet")
    return Mapping(
        name=str(top.get("name") or (Path(file).stem if file else "mapping")),
        event=event,
        defaults=defaults,
        columns=checks,
        sheet=str(sheet) if sheet is not None else None,
        path=file,
        source=source.strip() if isinstance(source, str) else None,
        header_row=header_row,
        sheets=sheets,
        all_sheets=all_sheets,
        calendars=tuple(c.strip() for c in calendars),
    )


def _header_row(raw: Any, problems: _Problems) -> int | None:
    """``header_row``: the spreadsheet row (1 = the first) that holds the column names."""
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        problems.add(f"header_row: expected a row number (1 or more), got {raw!r}")
        return None
    return raw


def _sheets(top: AbstractMapping[str, Any], problems: _Problems) -> tuple[tuple[str, ...], bool]:
    """``sheets``: a list of sheet names, or ``all`` (every sheet with the mapping's columns)."""
    raw = top.get("sheets")
    if raw is None:
        return (), False
    if top.get("sheet") is not None:
        problems.add("sheets: give either sheet (one) or sheets (several), not both")
        return (), False
    if isinstance(raw, str) and raw.strip().casefold() == "all":
        return (), True
    if isinstance(raw, list) and raw and all(isinstance(n, str | int) for n in raw):
        names = tuple(str(n) for n in raw)
        if len(set(names)) == len(names):
            return names, False
    problems.add(f"sheets: expected a list of sheet names, or all; got {raw!r}")
    return (), False


def _defaults(raw: Any, problems: _Problems) -> Defaults:
    """The ``defaults`` section: time zone, phone region, date/time formats, DST policy."""
    d = _section(raw, "defaults", problems)
    problems.unknown_keys("defaults", d, _DEFAULT_KEYS)
    zone = d.get("time_zone")
    if zone is not None:
        zone = str(zone)
        if not is_zone(zone):
            close = difflib.get_close_matches(zone, sorted(known_zones()), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.add(f"defaults.time_zone: {zone!r} is not an IANA time zone{hint}")
    dst_raw = str(d.get("dst", DstPolicy.REJECT.value))
    try:
        dst = DstPolicy(dst_raw)
    except ValueError:
        problems.add(f"defaults.dst: {dst_raw!r} must be one of reject, earlier, later")
        dst = DstPolicy.REJECT
    # Without phone_region, numbers are read as the time zone's country's (Europe/London: GB).
    region = str(d.get("phone_region") or zone_country(zone) or DEFAULT_PHONE_REGION).upper()
    if not re.fullmatch(r"[A-Z]{2}", region):
        problems.add(f"defaults.phone_region: {region!r} must be a two-letter country code like US")
    for key in ("date_format", "time_format"):
        if d.get(key):
            problem = format_problem(str(d[key]))
            if problem:
                problems.add(f"defaults.{key}: {str(d[key])!r} {problem}")
    return Defaults(
        time_zone=zone,
        phone_region=region,
        date_format=str(d["date_format"]) if d.get("date_format") else None,
        time_format=str(d["time_format"]) if d.get("time_format") else None,
        dst=dst,
    )


def _columns(raw: Any, problems: _Problems) -> tuple[ColumnCheck, ...]:
    """The ``columns`` section: per column, required / unique / type checks."""
    checks: list[ColumnCheck] = []
    for name, spec in _section(raw, "columns", problems).items():
        where = f"columns.{name}"
        spec = _section(spec, where, problems)
        problems.unknown_keys(where, spec, _COLUMN_KEYS)
        type_raw = str(spec.get("type", ColumnType.TEXT.value))
        try:
            column_type = ColumnType(type_raw)
        except ValueError:
            allowed = ", ".join(t.value for t in ColumnType)
            problems.add(f"{where}.type: {type_raw!r} is not one of {allowed}")
            column_type = ColumnType.TEXT
        checks.append(
            ColumnCheck(
                name=str(name),
                required=_bool(spec.get("required", False), f"{where}.required", problems),
                unique=_bool(spec.get("unique", False), f"{where}.unique", problems),
                type=column_type,
            )
        )
    return tuple(checks)


def _event(raw: Any, problems: _Problems) -> EventTemplate | None:
    """The ``event`` section; None when its required parts have mistakes.

    The plain templates (title, location, ...) are read only once the required parts are sound,
    so their mistakes are reported on the next try, after the structural ones are fixed.
    """
    ev = _section(raw, "event", problems)
    problems.unknown_keys("event", ev, _EVENT_KEYS)
    external_id = _template(ev.get("external_id"), "event.external_id", problems)
    if ev.get("external_id") is None:
        problems.add(
            "event.external_id is required: it makes every re-send an update instead of a duplicate"
        )
    if "calendar" not in ev and "calendar_id" not in ev:
        problems.add("event: needs calendar (a name) or calendar_id")
    if "calendar" in ev and "calendar_id" in ev:
        problems.add("event: give calendar or calendar_id, not both")
    if ev.get("title") is None:  # the seed: title is required for a new event
        problems.add(
            "event.title is required: Apptoto refuses to create an event without a title "
            '(e.g. title: "{Service} with {Provider}")'
        )
    start = _when(ev.get("start"), "event.start", problems)
    if ev.get("start") is None:
        problems.add("event.start is required")
    end = _when(ev.get("end"), "event.end", problems, date_optional=True)
    if "end" in ev and "duration_minutes" in ev:
        problems.add("event: give end or duration_minutes, not both")
    all_day = _all_day(ev.get("all_day", False), problems)
    if not all_day and end is None and "duration_minutes" not in ev:
        problems.add("event: needs end or duration_minutes (or all_day: true)")
    show_as = _show_as(ev.get("show_as"), problems)
    custom = _custom_data(ev.get("custom_data"), problems)
    participants = _participants(ev.get("participants"), problems)

    if problems.items:
        return None
    assert external_id is not None and start is not None  # guaranteed by the checks above
    return EventTemplate(
        external_id=external_id,
        start=start,
        calendar=_template(ev.get("calendar"), "event.calendar", problems),
        calendar_id=_template(ev.get("calendar_id"), "event.calendar_id", problems),
        title=_template(ev.get("title"), "event.title", problems),
        end=end,
        duration_minutes=_template(ev.get("duration_minutes"), "event.duration_minutes", problems),
        time_zone=_template(ev.get("time_zone"), "event.time_zone", problems),
        location=_template(ev.get("location"), "event.location", problems),
        content=_template(ev.get("content"), "event.content", problems),
        auto_messages=_bool(ev.get("auto_messages", False), "event.auto_messages", problems),
        all_day=all_day,
        show_as=show_as,
        custom_data=custom,
        participants=participants,
    )


def _all_day(raw: Any, problems: _Problems) -> bool | Template:
    """``event.all_day``: true/false, or a template whose cell says it per row."""
    if isinstance(raw, bool):
        return raw
    return _template(raw, "event.all_day", problems) or False


def _show_as(raw: Any, problems: _Problems) -> Template | None:
    """``event.show_as``: a literal must be one of Apptoto's values; a {Column} is read per row."""
    show_as = _template(raw, "event.show_as", problems)
    if show_as is not None and show_as.is_literal:
        if show_as.literal_text().strip().lower() not in SHOW_AS:
            problems.add(
                f"event.show_as: {show_as.source!r} must be one of {', '.join(SHOW_AS)} "
                "or a {Column}"
            )
    return show_as


def _custom_data(raw: Any, problems: _Problems) -> tuple[tuple[str, Template], ...]:
    """``event.custom_data``: key -> template pairs, in the file's order."""
    custom: list[tuple[str, Template]] = []
    for key, value in _section(raw, "event.custom_data", problems).items():
        tpl = _template(value, f"event.custom_data.{key}", problems)
        if tpl is not None:
            custom.append((str(key), tpl))
    return tuple(custom)


def _participants(raw: Any, problems: _Problems) -> tuple[ParticipantTemplate, ...]:
    """``event.participants``: a list (or a single section) of participants."""
    raw_participants = raw or []
    if isinstance(raw_participants, dict):
        raw_participants = [raw_participants]
    if not isinstance(raw_participants, list):
        problems.add("event.participants: expected a list of participants")
        raw_participants = []
    return tuple(
        _participant(raw_p, f"event.participants[{i}]", problems)
        for i, raw_p in enumerate(raw_participants, start=1)
    )


def _participant(raw: Any, where: str, problems: _Problems) -> ParticipantTemplate:
    """One participant: either a contact (id or external id) or name/email/phone."""
    p = _section(raw, where, problems)
    problems.unknown_keys(where, p, _PARTICIPANT_KEYS)
    single = _PARTICIPANT_KEYS - {"phone"}
    phones = _phones(p.get("phone"), f"{where}.phone", problems)
    participant = ParticipantTemplate(
        **{key: _template(p.get(key), f"{where}.{key}", problems) for key in single},
        phone=phones[0] if phones else None,
        other_phones=phones[1:],
    )
    has_contact = participant.contact_id is not None or participant.contact_external_id is not None
    has_details = any(getattr(participant, k) is not None for k in ("name", "email", "phone"))
    if has_contact and has_details:
        problems.add(
            f"{where}: a participant is either a contact (contact_id or contact_external_id) "
            "or name/email/phone, not both (Apptoto's rule)"
        )
    return participant


def _phones(raw: Any, where: str, problems: _Problems) -> tuple[Template, ...]:
    """``phone``: one template, or a list of them in order of preference (mobile first)."""
    if not isinstance(raw, list):
        one = _template(raw, where, problems)
        return (one,) if one is not None else ()
    if not raw:
        problems.add(f'{where}: the list of phone columns is empty; write "{{Mobile}}" or a list')
    found = [_template(value, f"{where}[{i}]", problems) for i, value in enumerate(raw, start=1)]
    return tuple(t for t in found if t is not None)


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file; a missing file or bad YAML is a MappingError."""
    file = str(path)
    try:
        with Path(path).open(encoding="utf-8-sig") as opened:
            text = opened.read(MAX_MAPPING_BYTES + 1)  # never more than a mapping can be
    except OSError as exc:
        raise MappingError(f"cannot read the mapping file: {exc.strerror}", file=file) from exc
    except UnicodeDecodeError as exc:
        raise MappingError(f"not UTF-8 text: {exc.reason}", file=file) from exc
    return parse_mapping(read_yaml(text, file=file), file=file)
