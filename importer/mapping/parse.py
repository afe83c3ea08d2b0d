"""Mapping files: how the columns of a spreadsheet become Apptoto events.

A mapping is YAML (see ``importer/examples/clinic.yaml``, the README). It is parsed into the frozen
dataclasses of :mod:`importer.mapping.model`, one function per section of the file (top keys,
``defaults``, ``columns`` here; ``event`` and its participants in
:mod:`importer.mapping.event_section`), and every mistake of every section is reported at once in
one ``MappingError`` (collected by :class:`importer.mapping.problems.Problems`). Checking the
mapping against a sheet's headers is :func:`importer.mapping.columns.check_columns`.

Templates are literal text with ``{Column}`` placeholders; ``{{`` and ``}}`` stand for braces.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping as AbstractMapping
from pathlib import Path
from typing import Any

from importer.errors import MappingError
from importer.mapping.event_section import parse_event
from importer.mapping.model import (
    DEFAULT_PHONE_REGION,
    CancelledRows,
    ColumnCheck,
    ColumnType,
    Defaults,
    Mapping,
    ZonesByColumn,
)
from importer.mapping.problems import Problems, read_bool, read_section
from importer.mapping.yaml_text import read_mapping_file
from importer.values import DstPolicy, is_zone, known_zones, zone_country, zone_problem
from importer.values.zones import ONE_OFFSET_ALL_YEAR

_TOP_KEYS = {
    *("name", "source", "sheet", "sheets", "header_row", "defaults", "columns", "event"),
    "calendars",
    "cancelled",
    "time_zones",
}


_DEFAULT_KEYS = {"time_zone", "phone_region", "date_format", "time_format", "dst"}


_COLUMN_KEYS = {"required", "unique", "type"}


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


def parse_mapping(raw: Any, *, file: str | None = None) -> Mapping:
    """Build a :class:`Mapping` from parsed YAML; every problem is reported in one MappingError."""
    problems = Problems()
    top = read_section(raw, "mapping", problems)
    problems.unknown_keys("mapping", top, _TOP_KEYS)
    defaults = _defaults(top.get("defaults"), problems)
    checks = _columns(top.get("columns"), problems)
    event = parse_event(top.get("event"), problems)
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
    cancelled = _cancelled(top.get("cancelled"), problems)
    time_zones = _time_zones(top.get("time_zones"), problems)
    if time_zones is not None and event is not None and event.time_zone is not None:
        problems.add(
            "time_zones: the mapping gives each row's zone by event.time_zone already; keep "
            "one of the two"
        )
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
        cancelled=cancelled,
        time_zones=time_zones,
    )


def _column_section(
    key: str, raw: Any, expected: str, example: str, problems: Problems
) -> tuple[str | None, Any] | None:
    """A ``{column: ..., values: ...}`` section (``cancelled``, ``time_zones``): its column
    (None, and said, when it names none) and its raw values; None when the section is absent
    or not such a mapping (said)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.add(f"{key}: expected {expected}, {example}; got {raw!r}")
        return None
    problems.unknown_keys(key, raw, {"column", "values"})
    column = raw.get("column")
    if not isinstance(column, str) or not column.strip():
        problems.add(f"{key}.column: expected the name of a column, {example}")
        return None, raw.get("values")
    return column.strip(), raw.get("values")


def _cancelled(raw: Any, problems: Problems) -> CancelledRows | None:
    """``cancelled``: the column that marks rows not going ahead, and the values that do."""
    example = "like {column: Status, values: [Cancelled, No show]}"
    section = _column_section("cancelled", raw, "a column and its values", example, problems)
    if section is None:
        return None
    column, values = section
    if (
        not isinstance(values, list)
        or not values
        or not all(isinstance(v, str) and v.strip() for v in values)
    ):
        problems.add(f"cancelled.values: expected a list of the texts that mark a row, {example}")
        return None
    if column is None:
        return None
    return CancelledRows(column, tuple(v.strip() for v in values))


def _time_zones(raw: Any, problems: Problems) -> ZonesByColumn | None:
    """``time_zones``: the column whose text tells each row's site, and the zone of each."""
    example = 'like {column: Location, values: {"Boise clinic": America/Boise}}'
    expected = "a column and the zone of each value"
    section = _column_section("time_zones", raw, expected, example, problems)
    if section is None:
        return None
    column, values = section
    if not isinstance(values, dict) or not values:
        problems.add(f"time_zones.values: expected each text of the column and its zone, {example}")
        return None
    pairs = []
    for text, zone in values.items():
        if not isinstance(text, str) or not text.strip() or not isinstance(zone, str):
            problems.add(f"time_zones.values: {text!r}: {zone!r} is not a text and its zone")
            continue
        reason = zone_problem(zone.strip())
        if reason is not None:
            problems.add(f"time_zones.values[{text!r}]: {zone!r} {reason}")
            continue
        pairs.append((text.strip(), zone.strip()))
    if column is None or len(pairs) < len(values):
        return None
    return ZonesByColumn(column, tuple(pairs))


def _header_row(raw: Any, problems: Problems) -> int | None:
    """``header_row``: the spreadsheet row (1 = the first) that holds the column names."""
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        problems.add(f"header_row: expected a row number (1 or more), got {raw!r}")
        return None
    return raw


def _sheets(top: AbstractMapping[str, Any], problems: Problems) -> tuple[tuple[str, ...], bool]:
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


def _defaults(raw: Any, problems: Problems) -> Defaults:
    """The ``defaults`` section: time zone, phone region, date/time formats, DST policy."""
    d = read_section(raw, "defaults", problems)
    problems.unknown_keys("defaults", d, _DEFAULT_KEYS)
    zone = d.get("time_zone")
    if zone is not None:
        zone = str(zone)
        if not is_zone(zone) and (all_year := ONE_OFFSET_ALL_YEAR.get(zone.strip().upper())):
            problems.add(f"defaults.time_zone: {zone!r} {all_year}")
        elif not is_zone(zone):
            close = difflib.get_close_matches(zone, sorted(known_zones()), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.add(f"defaults.time_zone: {zone!r} is not an IANA time zone{hint}")
    dst_raw = str(d.get("dst", DstPolicy.REJECT.value))
    try:
        dst = DstPolicy(dst_raw)
    except ValueError:
        problems.add(f"defaults.dst: {dst_raw!r} must be one of reject, earlier, later")
        dst = DstPolicy.REJECT
    # Without phone_region, numbers are read as the time zone's country (Europe/London: GB).
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


def _columns(raw: Any, problems: Problems) -> tuple[ColumnCheck, ...]:
    """The ``columns`` section: per column, required / unique / type checks."""
    checks: list[ColumnCheck] = []
    for name, spec in read_section(raw, "columns", problems).items():
        where = f"columns.{name}"
        spec = read_section(spec, where, problems)
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
                required=read_bool(spec.get("required", False), f"{where}.required", problems),
                unique=read_bool(spec.get("unique", False), f"{where}.unique", problems),
                type=column_type,
            )
        )
    return tuple(checks)


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file; a missing file or bad YAML is a MappingError."""
    return parse_mapping(read_mapping_file(path), file=str(path))
