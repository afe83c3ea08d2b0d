"""The mapping assistant: propose a mapping from a sheet, so nobody has to write YAML.

:func:`propose_mapping` matches columns to event fields (:mod:`importer.assist.columns`), guesses
date and time formats (:mod:`importer.assist.formats`) and picks an ``external_id``;
:func:`proposal_from_choices` builds the same from a person's own choices (the web page's
drop-downs). Either gives a :class:`Proposal`: every choice with a confidence and a reason,
rendered as a commented mapping file by :meth:`Proposal.to_yaml`.

What the assistant will not guess, it leaves for the user in a way that cannot go unnoticed: a
day/month order the values cannot tell, a 12/24-hour clock, a missing time zone. The mapping then
holds a placeholder that the mapping parser refuses, with the reason in a comment above it.
Columns it does not use are never sent: they are offered as ``custom_data`` lines to uncomment.
"""

from __future__ import annotations

from collections.abc import Mapping as AbstractMapping

import pandas as pd
import phonenumbers

from importer.assist.cancelled import guess_cancelled
from importer.assist.columns import (
    Pick,
    id_headers,
    match_columns,
    profile_columns,
)
from importer.assist.event import (
    PERSON_KEYS,
    choice_texts,
    column_checks,
    event_choices,
    id_source,
    participant_choices,
    ranged_start,
)
from importer.assist.fields import EXCLUSIVE, FIELD_KEYS, name_score, spec
from importer.assist.formats import (
    Confidence,
    guess_date_format,
    guess_time_format,
    time_range_halves,
)
from importer.assist.formats import split_date_time as _split
from importer.assist.identity import pick_external_id
from importer.assist.proposal import ZONE_PLACEHOLDER, Proposal, Setting
from importer.assist.sheet_values import (
    file_date_note,
    heading_calendar,
    heading_calendars,
    heading_date,
    is_sheet_value,
    sheet_date_column,
    sheet_date_reason,
    with_heading_date,
    with_sheet_date,
    yearless_note,
)
from importer.assist.unread import (
    moments_notes,
    nobody_note,
    sampled,
    serial_dates_notes,
    side_by_side,
    side_by_side_note,
    unread_times,
)
from importer.errors import MappingError
from importer.mapping import DEFAULT_PHONE_REGION, parse_template
from importer.values import (
    FILTERS,
    apply_filter,
    normalise_phones,
    written_countries,
    zone_country,
    zone_problem,
)
from importer.values.zone_names import split_zone_names, zone_of_names
from importer.values.zones import SHORT_NAME_FAMILIES, tells_no_one_zone, zone_of_short_name


def _usable(frame: pd.DataFrame) -> list[str]:
    # A header with a brace cannot be written as a {Column} placeholder.
    return [str(c) for c in frame.columns if "{" not in str(c) and "}" not in str(c)]


def propose_mapping(
    frame: pd.DataFrame,
    *,
    name: str,
    sheet: str | None = None,
    source: str | None = None,
    time_zone: str | None = None,
    phone_region: str | None = None,
    sheet_values: AbstractMapping[str, str] | None = None,
) -> Proposal:
    """Propose a mapping for ``frame`` (text cells as loaded, index = spreadsheet rows).

    Headers and a sample of values decide each field; ``external_id`` comes from a column whose
    values are unique over every row. ``time_zone`` (IANA) is the default for rows without one,
    ``phone_region`` the country of numbers written without +country (default: the country of
    ``time_zone``, else of the sheet's zones, else US). ``sheet_values``: the sheet's title,
    name and file name (:meth:`importer.load.Sheet.own_values`): where no column holds
    dates, one of them may give the date of every row. Raises MappingError for a ``time_zone``
    that is not an IANA zone; never for anything in the sheet.
    """
    usable = [c for c in _usable(frame) if not is_sheet_value(c)]
    beside = side_by_side(usable)
    usable = [c for c in usable if c not in beside]
    profiles = {k: v for k, v in profile_columns(frame[usable]).items()}
    reserved = id_headers(usable)
    picks = match_columns(profiles, reserved=reserved)
    taken = {p.column for p in picks.values()}
    people = [picks[k].column for k in PERSON_KEYS if k in picks]
    ids = pick_external_id(frame, [c for c in usable if c not in taken], profiles, people)
    if ids.appointment is not None:
        picks = {"external_id": ids.appointment, **picks}
    if "time_zone" not in picks and (short := short_names_pick(frame)) is not None:
        picks["time_zone"] = short
    if not {"calendar", "calendar_id"} & picks.keys() and (why := heading_calendar(frame)):
        picks["calendar"] = Pick("@heading", Confidence.MEDIUM, why)
    dated = sheet_date_column(sheet_values)
    if not {"start_date", "start_datetime"} & picks.keys():
        if (by_heading := heading_date(frame)) is not None:
            frame = with_heading_date(frame)
            picks["start_date"] = Pick("@heading|date", Confidence.MEDIUM, by_heading)
        elif dated is not None:
            frame = with_sheet_date(frame, sheet_values)
            reason = sheet_date_reason(dated, sheet_values or {})
            picks["start_date"] = Pick(dated, Confidence.MEDIUM, reason)
    if not {"start_time", "start_datetime"} & picks.keys():
        picks.update(unread_times(frame, usable, {p.column for p in picks.values()}))
    return _build(
        frame,
        picks,
        name,
        sheet,
        source,
        time_zone,
        phone_region,
        person_number=ids.person_number,
        sheet_values=sheet_values,
    )


def _no_dates_notes(
    frame: pd.DataFrame, picks: dict[str, Pick], sheet_values: AbstractMapping[str, str] | None
) -> list[str]:
    """Where no column is the start's date: why the dates that are there are not taken."""
    if {"start_date", "start_datetime"} & picks.keys():
        return []
    notes = []
    if (yearless := yearless_note(sheet_values)) is not None:
        notes.append(yearless)
    elif (from_file := file_date_note(sheet_values)) is not None:
        notes.append(from_file)
    usable = [c for c in _usable(frame) if not is_sheet_value(c)]
    return notes + moments_notes(frame, usable) + serial_dates_notes(frame, usable)


def _unread_notes(frame: pd.DataFrame, picks: dict[str, Pick]) -> list[str]:
    """What the proposal says of tables side by side, and of a sheet where no column says who
    an appointment is for (:mod:`importer.assist.unread`): for the assistant's picks and for a
    person's choices on the page alike."""
    usable = [c for c in _usable(frame) if not is_sheet_value(c)]
    beside = side_by_side(usable)
    notes = [side_by_side_note(beside)] if beside else []
    if (nobody := nobody_note(frame, picks, [c for c in usable if c not in beside])) is not None:
        notes.append(nobody)
    return notes


_MOST_SITES = 12  # more distinct texts than this: rooms or addresses, not a practice's sites


def _places(frame: pd.DataFrame, picks: dict[str, Pick]) -> tuple[str, tuple[str, ...]] | None:
    """The location column and its few places, when no column gives the rows' zones: every row
    is then read in the one default zone, an hour off for a place in another."""
    site = picks.get("location")
    if site is None or "zone" in picks:
        return None
    names = [n for n in dict.fromkeys(t.strip() for t in frame[site.column].dropna().astype("str"))]
    names = [n for n in names if n]
    if not 2 <= len(names) <= _MOST_SITES:
        return None
    return site.column, tuple(names)


def _places_note(column: str, names: tuple[str, ...]) -> str:
    shown = ", ".join(repr(n) for n in names[:3]) + (", ..." if len(names) > 3 else "")
    example = ", ".join(f'"{n}": ZONE' for n in names[:2])
    return (
        f"the rows come from {len(names)} places in {column!r} ({shown}), and every row is "
        "read in the default time zone: if a place is in another zone, give each place its "
        f"zone in the mapping (time_zones: {{column: {column}, values: {{{example}}}}}, "
        "each ZONE written like America/Denver)"
    )


def proposal_from_choices(
    frame: pd.DataFrame,
    choices: AbstractMapping[str, str],
    *,
    name: str,
    sheet: str | None = None,
    source: str | None = None,
    time_zone: str | None = None,
    phone_region: str | None = None,
    sheet_values: AbstractMapping[str, str] | None = None,
) -> Proposal:
    """A proposal from a person's choices: field key (see FIELDS) -> column; "" for none.

    Formats, time zone and checks are worked out as in :func:`propose_mapping`. Raises
    MappingError, listing every problem, for an unknown field or column and for choices that
    exclude each other (a start in one cell and in two; a contact id with name/email/phone).
    """
    problems = []
    chosen = {k: v for k, v in choices.items() if v}
    for key, column in chosen.items():
        if key not in FIELD_KEYS:
            problems.append(f"unknown field {key!r} (known: {', '.join(FIELD_KEYS)})")
        elif column not in frame.columns and not _filtered_column(frame, column):
            problems.append(f"{spec(key).label}: the sheet has no column {column!r}")
    for key in chosen:
        for other in EXCLUSIVE.get(key, ()):
            if other in chosen and key < other:
                problems.append(f"choose {spec(key).label} or {spec(other).label}, not both")
    contacts = [k for k in ("contact_id", "contact_external_id") if k in chosen]
    details = [k for k in chosen if k.startswith("participant_")]
    if contacts and details:
        problems.append(
            "a participant is either an Apptoto contact or a name/email/phone, not both: "
            f"clear {spec(contacts[0]).label} or {spec(details[0]).label}"
        )
    if problems:
        raise MappingError("the column choices do not fit together", problems=problems)
    picks = {k: Pick(c, Confidence.CHOSEN, "chosen by you") for k, c in chosen.items()}
    return _build(
        frame, picks, name, sheet, source, time_zone, phone_region, sheet_values=sheet_values
    )


def _build(
    frame: pd.DataFrame,
    picks: dict[str, Pick],
    name: str,
    sheet: str | None,
    source: str | None,
    time_zone: str | None,
    phone_region: str | None,
    *,
    person_number: str | None = None,
    sheet_values: AbstractMapping[str, str] | None = None,
) -> Proposal:
    notes = _no_dates_notes(frame, picks, sheet_values) + _unread_notes(frame, picks)
    places = _places(frame, picks)
    if places is not None:
        notes.append(_places_note(*places))
    event = event_choices(frame, picks, name, notes, person_number=person_number)
    participant = participant_choices(frame, picks)
    texts = [t for choice in (*event, *participant) for t in choice_texts(choice)]
    read = {c for t in texts for c in parse_template(t, where="proposal").columns}
    used = {str(c) for c in frame.columns if str(c) in read}
    unmatched = tuple(str(c) for c in frame.columns if c not in used and not is_sheet_value(str(c)))
    usable = set(_usable(frame))
    skipped = [str(c) for c in frame.columns if str(c) not in usable]
    if skipped:
        notes.append(f"columns with braces in their header cannot be used: {', '.join(skipped)}")
    unmatched = tuple(c for c in unmatched if c not in skipped)
    cancelled = guess_cancelled(frame, unmatched)
    if cancelled is not None and cancelled.values:
        unmatched = tuple(c for c in unmatched if c != cancelled.column)
    by_heading = "calendar" in picks and picks["calendar"].column == "@heading"
    return Proposal(
        calendars=heading_calendars(frame) if by_heading else (),
        name=name,
        id_source=id_source(event),
        sheet=sheet,
        source=source,
        rows=len(frame),
        picks=picks,
        event=event,
        participant=participant,
        checks=column_checks(picks),
        time_zone=_time_zone(frame, picks, time_zone),
        phone_region=_phone_region(frame, picks, phone_region, time_zone),
        date_format=guess_date_format(_date_values(frame, picks)),
        time_format=guess_time_format(_time_values(frame, picks)),
        unmatched=unmatched,
        notes=tuple(notes),
        cancelled=cancelled,
        places=places,
    )


def _time_zone(frame: pd.DataFrame, picks: dict[str, Pick], given: str | None) -> Setting:
    if given is not None:
        problem = zone_problem(given)
        if problem:
            raise MappingError(f"the time zone {given!r} {problem}")
        return Setting(
            given, Confidence.CHOSEN, "chosen by you: for rows without a zone of their own"
        )
    if "time_zone" not in picks and (named := _zone_from_names(frame, picks)) is not None:
        zone, names = named
        return Setting(
            zone,
            Confidence.MEDIUM,
            f"no column holds time zones, but the times are written with {names}: {zone}; check it",
        )
    if "time_zone" not in picks:
        unclear = ""
        if (short := _short_names_column(frame)) is not None:
            column, _, ambiguous = short
            unclear = (
                f"; {column!r} holds short names of zones, and some tell no single zone "
                f"({ambiguous}: MST is Arizona's all year and Denver's in winter, AST Puerto "
                "Rico's and Halifax's, GMT the UK's winter time and universal time): write each "
                "row's zone there as an IANA name (like America/Phoenix) and choose that column"
            )
        return Setting(
            ZONE_PLACEHOLDER,
            Confidence.LOW,
            "no column holds time zones: set the zone the appointments are in (an IANA name "
            f"like America/New_York); appointment times mean nothing without one{unclear}",
            placeholder=True,
        )
    column, _ = _column_and_filter(picks["time_zone"].column)
    cells = _picked_cells(frame, picks["time_zone"]).str.strip()
    blank = cells == ""
    if not blank.any():
        return Setting(None, Confidence.HIGH, f"every row has its zone in {column!r}")
    rows = ", ".join(str(r) for r in cells.index[blank][:5])
    more = " and more" if int(blank.sum()) > 5 else ""
    return Setting(
        None,
        Confidence.MEDIUM,
        f"{int(blank.sum())} rows leave {column!r} blank (rows {rows}{more}): they will be "
        "refused until you set time_zone here to the zone of those rows (like America/New_York)",
    )


def _region_source(
    frame: pd.DataFrame, picks: dict[str, Pick], given: str | None, zone: str | None
) -> tuple[str, Confidence, str]:
    """The phone country, how sure, and where it comes from: chosen, the zone's, or US."""
    if given:
        return given.upper(), Confidence.CHOSEN, "chosen by you"
    zones = [zone] if zone else []
    if not zones and "time_zone" in picks:
        written = _picked_cells(frame, picks["time_zone"]).str.strip()
        zones = written[written != ""].value_counts().index.tolist()[:1]
    country = zone_country(zones[0]) if zones else None
    if country:
        return country, Confidence.MEDIUM, f"the country of the time zone {zones[0]}"
    return DEFAULT_PHONE_REGION, Confidence.MEDIUM, _NO_ZONE


def _phone_region(
    frame: pd.DataFrame, picks: dict[str, Pick], given: str | None, zone: str | None
) -> Setting:
    region, confidence, source = _region_source(frame, picks, given, zone)
    if "participant_phone" not in picks:
        return Setting(region, confidence, _region_reason(source, region))
    cells = frame[picks["participant_phone"].column].dropna().astype("str")
    if not len(cells):
        return Setting(region, confidence, _region_reason(source, region))
    valid = _valid_numbers(cells, region)
    if valid < 0.5 * len(cells) and confidence is Confidence.MEDIUM and source == _NO_ZONE:
        # No zone tells the country, and the numbers are not US ones: the numbers written with
        # +country may tell it ("+44 7911 ..." beside "07911 ..." in a UK clinic's sheet).
        for written in written_countries(cells)[:3]:
            if (mended := _valid_numbers(cells, written)) > valid:
                region, valid = written, mended
                source = f"numbers in the sheet are written with +{_calling_code(written)}"
    reason = f"{_region_reason(source, region)}; {valid} of {len(cells)} numbers are valid that way"
    if valid < 0.5 * len(cells) and confidence is not Confidence.CHOSEN:
        return Setting(region, Confidence.LOW, reason + ": is the country right?")
    return Setting(region, confidence, reason)


_NO_ZONE = "no time zone tells the country"


def _region_reason(source: str, region: str) -> str:
    return f"{source}: numbers written without +country are read as {region} numbers"


def _valid_numbers(cells: pd.Series, region: str) -> int:
    e164, _ = normalise_phones(cells, region)
    return int(e164.notna().sum())


def _zone_from_names(frame: pd.DataFrame, picks: dict[str, Pick]) -> tuple[str, str] | None:
    """The zone the short names written after the times point to ("9:30 AM EST")."""
    keys = ("start_time", "start_datetime", "end_time", "end_datetime")
    columns = [frame[picks[k].column] for k in keys if k in picks]
    if not columns:
        return None
    text = pd.concat(columns).fillna("").astype("str").str.strip()
    return zone_of_names(split_zone_names(text)[1])


def _short_names_column(frame: pd.DataFrame) -> tuple[str, str, str] | None:
    """A column whose header names a zone and whose every cell names a zone as staff or Windows
    write it, not as tzdata does (EST, PT, Eastern Standard Time, Pacific Time (US & Canada)):
    the column, the names, and those of them that tell no one zone (MST, Mountain Standard
    Time: :func:`importer.values.zones.tells_no_one_zone`; "" when there is none). A State
    column of CT (Connecticut) is no Central time: the header must name a zone."""
    for column in _usable(frame):
        if not name_score(spec("time_zone"), column):
            continue
        written = sampled(frame, column).tolist()
        # Short names in capitals as tzdata writes them (pt: PT), other names as written.
        names = sorted({n.upper() if n.upper() in SHORT_NAME_FAMILIES else n for n in written})
        if not names or not all(_a_zone_s_name(n) for n in names):
            continue
        ambiguous = [n for n in names if tells_no_one_zone(n)]
        return column, ", ".join(names), ", ".join(ambiguous)
    return None


def _a_zone_s_name(text: str) -> bool:
    """True for a zone's name as staff or Windows write it (EST, Eastern Standard Time), one
    that tells no one zone (MST) included; not for a tzdata name (America/New_York)."""
    return (
        text.upper() in SHORT_NAME_FAMILIES
        or zone_of_short_name(text) != text
        or tells_no_one_zone(text)
    )


def _column_and_filter(choice: str) -> tuple[str, str]:
    """A choice of column as the column and its filter: ``Time Zone|zone``; "" for none."""
    column, _, name = choice.partition("|")
    return column, name


def _filtered_column(frame: pd.DataFrame, choice: str) -> bool:
    """True for a column of ``frame`` read through a filter: ``Time Zone|zone``."""
    column, name = _column_and_filter(choice)
    return bool(name) and name in FILTERS and column in frame.columns


def _picked_cells(frame: pd.DataFrame, pick: Pick) -> pd.Series:
    """The text of a picked column, through the pick's filter (``Time Zone|zone``); "" blank."""
    column, name = _column_and_filter(pick.column)
    cells = frame[column].fillna("").astype("str")
    return apply_filter(cells, name) if name else cells


def short_names_pick(frame: pd.DataFrame) -> Pick | None:
    """The zone column of short names (EST, CT, PT) read through ``|zone``, each name as its
    family's zone, when every name tells one (see :func:`_short_names_column`)."""
    short = _short_names_column(frame)
    if short is None or short[2]:
        return None
    column, names, _ = short
    if all(n in SHORT_NAME_FAMILIES for n in names.split(", ")):
        kind = f"short names ({names}), which are no time zones (EST is UTC-05:00 all year round)"
    else:
        kind = f"zones named as staff or Windows write them ({names}), not as time zones are"
    return Pick(
        f"{column}|zone",
        Confidence.MEDIUM,
        f"the header {column!r} names this field and its values are {kind}: each is read as "
        "its place's zone, winter and summer time alike (EST, EDT and Windows' Eastern "
        "Standard Time as America/New_York); check it",
    )


def _calling_code(region: str) -> int:
    return int(phonenumbers.country_code_for_region(region))


def _date_values(frame: pd.DataFrame, picks: dict[str, Pick]) -> pd.Series:
    parts = [frame[picks[k].column] for k in ("start_date", "end_date") if k in picks]
    parts += [
        _split(frame[picks[k].column])[0] for k in ("start_datetime", "end_datetime") if k in picks
    ]
    return _stacked(parts)


def _time_values(frame: pd.DataFrame, picks: dict[str, Pick]) -> pd.Series:
    if ranged_start(frame, picks):  # "9:00 AM - 9:30 AM": each end is a time
        halves = time_range_halves(frame[picks["start_time"].column])
        assert halves is not None
        return _stacked(list(halves))
    parts = [frame[picks[k].column] for k in ("start_time", "end_time") if k in picks]
    parts += [
        _split(frame[picks[k].column])[1] for k in ("start_datetime", "end_datetime") if k in picks
    ]
    return _stacked(parts)


def _stacked(parts: list[pd.Series]) -> pd.Series:
    if not parts:
        return pd.Series([], dtype="str")
    return pd.concat([p.astype("str") for p in parts])
