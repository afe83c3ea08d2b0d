from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from importer.errors import MappingError
from importer.mapping import (
    ColumnRef,
    check_columns,
    closest_headers,
    load_mapping,
    parse_mapping,
    parse_template,
)
from importer.values import DstPolicy
from tests.helpers import CLINIC_MAPPING

MINIMAL: dict[str, dict[str, object]] = {
    "event": {
        "calendar": "{Provider}",
        "external_id": "x-{Id}",
        "title": "Visit",
        "start": {"date": "{Date}", "time": "{Start}"},
        "duration_minutes": "30",
    }
}


def with_event(**changes: object) -> dict[str, object]:
    event = dict(MINIMAL["event"])
    for key, value in changes.items():
        if value is None:
            event.pop(key, None)
        else:
            event[key] = value
    return {"event": event}


@pytest.mark.parametrize(
    ("source", "parts"),
    [
        ("{Service} with {Provider}", (ColumnRef("Service"), " with ", ColumnRef("Provider"))),
        ("plain", ("plain",)),
        ("{{literal}} {A}", ("{literal} ", ColumnRef("A"))),
        ("{ First Name }", (ColumnRef("First Name"),)),
        ("", ()),
    ],
)
def test_parse_template(source: str, parts: tuple[object, ...]) -> None:
    assert parse_template(source, where="t").parts == parts


@pytest.mark.parametrize("source", ["{open", "close}", "{}"])
def test_parse_template_rejects_broken_braces(source: str) -> None:
    with pytest.raises(MappingError):
        parse_template(source, where="event.title")


def test_clinic_mapping_loads() -> None:
    mapping = load_mapping(CLINIC_MAPPING)
    assert mapping.name == "Clinic appointments"
    assert mapping.sheet == "Appointments"
    assert mapping.defaults.dst is DstPolicy.REJECT
    assert mapping.defaults.time_zone == "America/Los_Angeles"
    assert mapping.event.auto_messages is True
    assert mapping.event.external_id.columns == ("Appointment ID",)
    assert [p.name.columns for p in mapping.event.participants if p.name] == [
        ("First Name", "Last Name")
    ]
    assert "Phone" in mapping.referenced_columns()
    assert mapping.check("Appointment ID").unique is True
    assert mapping.check("Nope").required is False


def test_every_problem_reported_at_once() -> None:
    raw = {
        "nmae": "typo",
        "defaults": {"time_zone": "America/Los Angeles", "dst": "sometimes"},
        "columns": {"Phone": {"type": "telephone"}},
        "event": {"title": "x", "start": "{When}", "locaton": "{Where}"},
    }
    with pytest.raises(MappingError) as caught:
        parse_mapping(raw, file="m.yaml")
    problems = caught.value.problems
    text = "\n".join(problems)
    assert "unknown key 'nmae'; did you mean 'name'?" in text
    assert (
        "'America/Los Angeles' is not an IANA time zone; did you mean 'America/Los_Angeles'?"
        in text
    )
    assert "defaults.dst: 'sometimes' must be one of reject, earlier, later" in text
    assert "columns.Phone.type: 'telephone'" in text
    assert "event.external_id is required" in text
    assert "needs calendar (a name) or calendar_id" in text
    assert "unknown key 'locaton'; did you mean 'location'?" in text
    assert "needs end or duration_minutes" in text
    assert str(caught.value).startswith("m.yaml: the mapping has mistakes")


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (with_event(calendar_id="{Cal}"), "give calendar or calendar_id, not both"),
        (with_event(end={"date": "{Date}", "time": "{End}"}), "give end or duration_minutes"),
        (with_event(show_as="sometimes"), "event.show_as: 'sometimes' must be one of"),
        (with_event(start={"time": "{Start}"}), "event.start: needs a date"),
        (
            with_event(start={"datetime": "{When}", "date": "{Date}"}),
            "give either datetime, or date (and time), not both",
        ),
        (
            with_event(participants=[{"contact_id": "{Contact}", "email": "{Email}"}]),
            "a participant is either a contact",
        ),
        (with_event(auto_messages="yes"), "event.auto_messages: expected true or false"),
        (with_event(participants=[{"phone": []}]), "the list of phone columns is empty"),
        (with_event(participants=[{"phone": ["{Cell}", 3.5j]}]), "phone[2]: expected text"),
        # A key written with nothing after it (`start:`) is YAML null: as good as missing.
        ({"event": {**MINIMAL["event"], "start": None}}, "event.start is required"),
        ({"event": {**MINIMAL["event"], "external_id": None}}, "event.external_id is required"),
        # The seed: title is required for a new event; without one every row fails at Apptoto.
        (with_event(title=None), "event.title is required: Apptoto refuses to create an event"),
    ],
)
def test_invalid_event_sections(event: dict[str, object], message: str) -> None:
    with pytest.raises(MappingError) as caught:
        parse_mapping(event)
    assert any(message in p for p in caught.value.problems), caught.value.problems


def test_minimal_mapping_and_shorthands() -> None:
    mapping = parse_mapping(
        with_event(start="{When}", show_as="Out_Of_Office", participants={"phone": "{Cell}"})
    )
    assert mapping.event.start.datetime is not None
    assert mapping.event.start.datetime.columns == ("When",)
    assert len(mapping.event.participants) == 1
    assert mapping.name == "mapping"


@pytest.mark.parametrize(
    ("defaults", "region"),
    [
        ({"time_zone": "Europe/London"}, "GB"),
        ({"time_zone": "Australia/Sydney"}, "AU"),
        ({"time_zone": "Europe/London", "phone_region": "us"}, "US"),  # written wins
        ({"time_zone": "UTC"}, "US"),  # a zone of no country
        ({}, "US"),
    ],
)
def test_the_phone_country_defaults_to_the_time_zone_s(
    defaults: dict[str, str], region: str
) -> None:
    mapping = parse_mapping({"defaults": defaults, **MINIMAL})
    assert mapping.defaults.phone_region == region


def test_phone_lists_its_columns_in_order_of_preference() -> None:
    mapping = parse_mapping(with_event(participants={"phone": ["{Cell}", "{Home}", "{Work}"]}))
    [person] = mapping.event.participants
    assert [t.columns for t in person.phones] == [("Cell",), ("Home",), ("Work",)]
    assert {"Cell", "Home", "Work"} <= set(mapping.referenced_columns())


def test_check_columns_suggests_close_headers() -> None:
    mapping = parse_mapping(with_event(participants=[{"phone": "{Phone}", "email": "{E-mail}"}]))
    headers = ["Provider", "Id", "Date", "Start", "Phone Number", "email"]
    with pytest.raises(MappingError) as caught:
        check_columns(mapping, headers)
    assert sorted(caught.value.problems) == [
        "no column 'E-mail'; did you mean 'email'?",
        "no column 'Phone'; did you mean 'Phone Number'?",
    ]


def test_a_choice_the_assistant_left_is_said_as_such() -> None:
    """init writes {CHOOSE the date column} where it found no column: "no column 'CHOOSE the
    date column'; did you mean 'Date'?" read as if the sheet lacked one."""
    mapping = parse_mapping(with_event(participants=[{"phone": "{CHOOSE a phone}"}]))
    with pytest.raises(MappingError) as caught:
        check_columns(mapping, ["Provider", "Id", "Date", "Start", "Phone"])
    assert caught.value.problems == [
        "the mapping still has a choice to make: replace {CHOOSE a phone} with a column of the "
        "sheet (the comment above it says why it was left)"
    ]


def test_check_columns_passes_when_all_present() -> None:
    mapping = parse_mapping(MINIMAL)
    check_columns(mapping, ["Provider", "Id", "Date", "Start", "Extra"])


@pytest.mark.parametrize(
    ("name", "headers", "expected"),
    [
        ("Phone", ["Phone Number", "Email"], ["Phone Number"]),
        ("first name", ["First Name", "Last Name"], ["First Name"]),
        ("Zzz", ["Phone", "Email"], []),
    ],
)
def test_closest_headers(name: str, headers: list[str], expected: list[str]) -> None:
    assert closest_headers(name, headers) == expected


def test_load_mapping_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "none.yaml"
    with pytest.raises(MappingError, match="none.yaml: cannot read the mapping file"):
        load_mapping(missing)
    broken = tmp_path / "broken.yaml"
    broken.write_text("event: [unclosed", encoding="utf-8")
    with pytest.raises(MappingError, match="broken.yaml: not valid YAML"):
        load_mapping(broken)
    ok = tmp_path / "ok.yaml"
    ok.write_text(yaml.safe_dump(MINIMAL), encoding="utf-8")
    assert load_mapping(ok).name == "ok"


@pytest.mark.parametrize(
    ("top", "expected"),
    [
        ({}, (None, (), False)),
        ({"header_row": 3}, (3, (), False)),
        ({"sheets": ["Mon", "Tue"]}, (None, ("Mon", "Tue"), False)),
        ({"sheets": "all", "header_row": 2}, (2, (), True)),
    ],
)
def test_where_the_table_is_header_row_and_sheets(
    top: dict[str, object], expected: tuple[object, ...]
) -> None:
    mapping = parse_mapping({**MINIMAL, **top})
    assert (mapping.header_row, mapping.sheets, mapping.all_sheets) == expected


@pytest.mark.parametrize(
    ("top", "message"),
    [
        ({"header_row": 0}, "header_row: expected a row number (1 or more), got 0"),
        ({"header_row": "3"}, "header_row: expected a row number (1 or more), got '3'"),
        ({"sheets": "some"}, "sheets: expected a list of sheet names, or all; got 'some'"),
        ({"sheets": ["Mon", "Mon"]}, "sheets: expected a list of sheet names, or all"),
        ({"sheets": ["Mon"], "sheet": "Tue"}, "give either sheet (one) or sheets (several)"),
    ],
)
def test_where_the_table_is_mistakes(top: dict[str, object], message: str) -> None:
    with pytest.raises(MappingError) as caught:
        parse_mapping({**MINIMAL, **top})
    assert any(message in p for p in caught.value.problems), caught.value.problems
