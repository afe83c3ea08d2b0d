"""Column checks of importer.validate: required, unique and typed cells, all failures at once."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pandera.config
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.errors import MappingError
from importer.mapping import (
    ColumnCheck,
    ColumnType,
    Defaults,
    EventTemplate,
    Mapping,
    When,
    load_mapping,
    parse_mapping,
    parse_template,
)
from importer.outcomes import RowIssue
from importer.prepare import prepare
from importer.validate import (
    DUPLICATED,
    EMAIL_PATTERN,
    NOT_EMAIL,
    NOT_WHOLE_NUMBER,
    PLAIN_EMAIL_PATTERN,
    REQUIRED_BLANK,
    ROWS_SHOWN,
    two_addresses_reason,
    validate_columns,
)
from importer.values.zones import ONE_OFFSET_ALL_YEAR
from tests.clinic_rows import HEADER, appointment
from tests.helpers import CLINIC_MAPPING, NOT_US_PHONE

BLANKS = [None, "", " ", "   ", "\t", "\u00a0", " \n "]


def mapping_of(*checks: ColumnCheck, phone_region: str = "US") -> Mapping:
    """A mapping whose only interesting part is its ``columns:`` checks."""
    return Mapping(
        name="test",
        event=EventTemplate(
            external_id=parse_template("{ID}", where="event.external_id"),
            start=When(datetime=parse_template("{Start}", where="event.start.datetime")),
        ),
        defaults=Defaults(phone_region=phone_region),
        columns=checks,
    )


def sheet(columns: dict[str, list[str | None]], rows: list[int] | None = None) -> pd.DataFrame:
    """A frame as the loader makes it: text cells, NA for blank, spreadsheet rows as index."""
    length = len(next(iter(columns.values())))
    rows = rows if rows is not None else list(range(2, 2 + length))
    return pd.DataFrame(
        {name: pd.array(cells, dtype="str") for name, cells in columns.items()},
        index=pd.Index(rows, name="row"),
    )


def one_cell(column_type: ColumnType, value: str | None, **kwargs: str) -> list[RowIssue]:
    mapping = mapping_of(ColumnCheck("Cell", type=column_type), **kwargs)
    return validate_columns(sheet({"Cell": [value]}), mapping)


# --- type checks -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "ann@example.com",
        "Ann.Lee@Example.COM",
        "ann.lee+reminders@mail.example.co.uk",
        "o'brien@example.ie",
        "first_last-1@sub.domain.example.org",
        "user@bücher.de",
        "пользователь@пример.рф",
        "user@xn--80ak6aa92e.com",
        "user@xn--p1ai.xn--p1ai",
        "  ann@example.com  ",
        # As mail programs copy an address: the address is what is sent
        "<ann@example.com>",
        "Ann Lee <ann@example.com>",
        '"Lee, Ann" <ann@example.com>',
        "mailto:ann@example.com",
        "ann@example.com;",
    ],
)
def test_email_accepts(value: str) -> None:
    assert one_cell(ColumnType.EMAIL, value) == []


@pytest.mark.parametrize(
    "value",
    ["ann@example.com;bob@example.com", "ann@example.com, bob@example.com", "a@x.org b@y.org"],
)
def test_a_cell_of_two_email_addresses_says_so(value: str) -> None:
    assert one_cell(ColumnType.EMAIL, value) == [
        RowIssue(2, "Cell", value, two_addresses_reason(2))
    ]


@pytest.mark.parametrize(
    "value",
    [
        "ann",
        "ann@",
        "@example.com",
        "ann@example",
        "ann lee@example.com",
        "ann@exa mple.com",
        "ann@@example.com",
        "ann@example..com",
        "ann..lee@example.com",
        ".ann@example.com",
        "ann.@example.com",
        "ann@-example.com",
        "ann@example-.com",
        "ann@exa_mple.com",
        "ann@example.c",
        "ann@example.com.",
        "ann@1.2.3.4",
        "ann@example,com",
        "Ann <ann@example>",
        "<ann@example.com",
        "ann\u00a0lee@example.com",
        "a" * 250 + "@example.com",
    ],
)
def test_email_rejects(value: str) -> None:
    assert one_cell(ColumnType.EMAIL, value) == [RowIssue(2, "Cell", value, NOT_EMAIL)]


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet="aZ09._%+'-@#!x\u00e9 -", max_size=30)
    | st.from_regex(PLAIN_EMAIL_PATTERN, fullmatch=True)
)
def test_the_plain_email_pattern_matches_only_what_the_whole_one_does(text: str) -> None:
    # emails_ok asks PLAIN_EMAIL_PATTERN first: it must never accept an address that
    # EMAIL_PATTERN rejects.
    if re.fullmatch(PLAIN_EMAIL_PATTERN, text):
        assert re.fullmatch(EMAIL_PATTERN, text), text


@pytest.mark.parametrize("value", ["0", "42", "007", "-3", "+7", " 12 ", "123456789012345678901"])
def test_integer_accepts(value: str) -> None:
    assert one_cell(ColumnType.INTEGER, value) == []


@pytest.mark.parametrize(
    "value", ["1.5", "12.0", "1,000", "1 000", "ten", "1e3", "--1", "+", "0x1F", "٣", "12a"]
)
def test_integer_rejects(value: str) -> None:
    assert one_cell(ColumnType.INTEGER, value) == [RowIssue(2, "Cell", value, NOT_WHOLE_NUMBER)]


@pytest.mark.parametrize(
    "value",
    ["650-253-0000", "(650) 253 0000", "+1 650 253 0000", "+44 20 7946 0958", " 6502530000 "],
)
def test_phone_accepts(value: str) -> None:
    assert one_cell(ColumnType.PHONE, value) == []


def test_phone_uses_the_mapping_region() -> None:
    assert one_cell(ColumnType.PHONE, "020 7946 0958", phone_region="GB") == []
    assert one_cell(ColumnType.PHONE, "020 7946 0958", phone_region="US") == [
        RowIssue(
            2,
            "Cell",
            "020 7946 0958",
            NOT_US_PHONE,
        )
    ]


@pytest.mark.parametrize(
    "value", ["America/New_York", "America/Los_Angeles", "Europe/London", "UTC", " UTC "]
)
def test_timezone_accepts(value: str) -> None:
    assert one_cell(ColumnType.TIMEZONE, value) == []


BY_FILTER = "; or have the mapping read the column's names as their zones: {Cell|zone}"


@pytest.mark.parametrize(
    ("column_type", "value", "reason"),
    [
        (
            ColumnType.PHONE,
            "12",
            NOT_US_PHONE,
        ),
        (
            ColumnType.PHONE,
            "555-1234",
            NOT_US_PHONE,
        ),
        (
            ColumnType.PHONE,
            "+1 000 000 0000",  # its country code written: no advice to write one
            "is not a valid phone number with the country code +1 (the United States (US)): "
            "check its digits",
        ),
        (ColumnType.PHONE, "call me", "is not a phone number: it needs the digits of one"),
        *[
            (ColumnType.TIMEZONE, value, f"is not a known time zone; did you mean '{meant}'?")
            for value, meant in [
                ("America/Los Angeles", "America/Los_Angeles"),
                ("america/new_york", "America/New_York"),
                ("Europe/Londn", "Europe/London"),
            ]
        ],
        *[
            (
                ColumnType.TIMEZONE,
                value,
                "is not a known time zone (write it like America/New_York)",
            )
            for value in ["Mars/Olympus"]
        ],
        # A short name is its family's zone, never a near spelling ("CT" is not UCT, UTC);
        # the reason names the |zone filter, which reads a column of them in one line.
        *[
            (
                ColumnType.TIMEZONE,
                value,
                f"is a short name of {family} time, not a time zone: write the zone of the "
                f"place, like {zone} (its winter and summer time alike){BY_FILTER}",
            )
            for value, family, zone in [
                ("PST", "Pacific", "America/Los_Angeles"),
                ("CT", "Central", "America/Chicago"),
            ]
        ],
        # tzdata's EST, MST and GMT are one offset all year round: not the zone staff mean.
        (ColumnType.TIMEZONE, "EST", ONE_OFFSET_ALL_YEAR["EST"] + BY_FILTER),
        # GMT is no one zone (London's or UTC?): the filter leaves it as written, so no hint.
        (ColumnType.TIMEZONE, "GMT", ONE_OFFSET_ALL_YEAR["GMT"]),
    ],
)
def test_phone_and_timezone_reject_with_the_reason_of_their_value_parser(
    column_type: ColumnType, value: str, reason: str
) -> None:
    """The reason is the one the phones and zones modules give: a suggestion where there is one."""
    assert one_cell(column_type, value) == [RowIssue(2, "Cell", value, reason)]


@pytest.mark.parametrize("column_type", list(ColumnType))
@pytest.mark.parametrize("blank", BLANKS)
def test_type_checks_skip_blank_cells(column_type: ColumnType, blank: str | None) -> None:
    assert one_cell(column_type, blank) == []


# --- required ----------------------------------------------------------------------------------


@pytest.mark.parametrize("blank", BLANKS)
def test_required_blank_cell_fails_with_empty_value(blank: str | None) -> None:
    mapping = mapping_of(ColumnCheck("Date", required=True))
    frame = sheet({"Date": ["12/14/2026", blank]})
    assert validate_columns(frame, mapping) == [RowIssue(3, "Date", "", REQUIRED_BLANK)]


def test_required_typed_blank_cell_fails_only_required() -> None:
    mapping = mapping_of(ColumnCheck("Email", required=True, type=ColumnType.EMAIL))
    frame = sheet({"Email": ["  "]})
    assert validate_columns(frame, mapping) == [RowIssue(2, "Email", "", REQUIRED_BLANK)]


# --- unique ------------------------------------------------------------------------------------


def test_duplicate_fails_every_row_that_shares_it_and_names_them() -> None:
    mapping = mapping_of(ColumnCheck("ID", unique=True))
    frame = sheet({"ID": ["A1", "B2", "A1", "C3", "B2", "A1"]})  # rows 2..7
    a1 = "appears in more than one row (rows 2, 4, 7): each row needs its own value"
    b2 = "appears in more than one row (rows 3, 6): each row needs its own value"
    assert validate_columns(frame, mapping) == [
        RowIssue(2, "ID", "A1", a1),
        RowIssue(3, "ID", "B2", b2),
        RowIssue(4, "ID", "A1", a1),
        RowIssue(6, "ID", "B2", b2),
        RowIssue(7, "ID", "A1", a1),
    ]


def test_duplicate_ignores_surrounding_whitespace_but_reports_the_cell_as_written() -> None:
    mapping = mapping_of(ColumnCheck("ID", unique=True))
    frame = sheet({"ID": ["A1", " A1 "]})
    reason = DUPLICATED.format(rows="2, 3")
    assert validate_columns(frame, mapping) == [
        RowIssue(2, "ID", "A1", reason),
        RowIssue(3, "ID", " A1 ", reason),
    ]


def test_duplicate_is_case_sensitive() -> None:
    mapping = mapping_of(ColumnCheck("ID", unique=True))
    assert validate_columns(sheet({"ID": ["a1", "A1"]}), mapping) == []


def test_blank_cells_are_not_duplicates_of_each_other() -> None:
    mapping = mapping_of(ColumnCheck("ID", unique=True))
    assert validate_columns(sheet({"ID": [None, "", "  ", "X"]}), mapping) == []


def test_many_duplicates_name_the_first_rows_and_count_the_rest() -> None:
    mapping = mapping_of(ColumnCheck("ID", unique=True))
    issues = validate_columns(sheet({"ID": ["same"] * (ROWS_SHOWN + 3)}), mapping)
    shown = ", ".join(str(row) for row in range(2, 2 + ROWS_SHOWN))
    assert len(issues) == ROWS_SHOWN + 3
    assert {i.reason for i in issues} == {DUPLICATED.format(rows=f"{shown} and 3 more")}


# --- all at once, rows, order ------------------------------------------------------------------


def test_every_failure_of_every_column_is_reported_in_one_call() -> None:
    mapping = mapping_of(
        ColumnCheck("ID", required=True, unique=True),
        ColumnCheck("Email", type=ColumnType.EMAIL),
        ColumnCheck("Visits", type=ColumnType.INTEGER),
    )
    frame = sheet(
        {
            "ID": ["1", None, "3", "4"],
            "Email": ["a@example.com", "b@example.com", "not an email", None],
            "Visits": ["2", "3", "4", "four"],
        }
    )
    assert validate_columns(frame, mapping) == [
        RowIssue(3, "ID", "", REQUIRED_BLANK),
        RowIssue(4, "Email", "not an email", NOT_EMAIL),
        RowIssue(5, "Visits", "four", NOT_WHOLE_NUMBER),
    ]


def test_row_numbers_are_the_index_values_not_positions() -> None:
    mapping = mapping_of(ColumnCheck("ID", required=True, unique=True))
    frame = sheet({"ID": ["7", None, "7"]}, rows=[2, 5, 9])
    assert validate_columns(frame, mapping) == [
        RowIssue(2, "ID", "7", DUPLICATED.format(rows="2, 9")),
        RowIssue(5, "ID", "", REQUIRED_BLANK),
        RowIssue(9, "ID", "7", DUPLICATED.format(rows="2, 9")),
    ]


def test_issues_are_sorted_by_row_then_sheet_column_order() -> None:
    # The mapping lists the columns in another order than the sheet: the sheet order wins.
    mapping = mapping_of(
        ColumnCheck("Zone", type=ColumnType.TIMEZONE),
        ColumnCheck("Email", unique=True, type=ColumnType.EMAIL),
        ColumnCheck("Name", required=True),
    )
    frame = sheet(
        {
            "Name": [None, "Bo", None],
            "Email": ["x", "ok@example.com", "x"],
            "Zone": ["UTC", "Nowhere", "Mars"],
        },
        rows=[10, 3, 7],
    )
    issues = validate_columns(frame, mapping)
    assert [(i.row, i.column, i.reason) for i in issues] == [
        (3, "Zone", "is not a known time zone (write it like America/New_York)"),
        (7, "Name", REQUIRED_BLANK),
        (7, "Email", DUPLICATED.format(rows="7, 10")),
        (7, "Email", NOT_EMAIL),
        (7, "Zone", "is not a known time zone (write it like America/New_York)"),
        (10, "Name", REQUIRED_BLANK),
        (10, "Email", DUPLICATED.format(rows="7, 10")),
        (10, "Email", NOT_EMAIL),
    ]


def test_missing_mapped_column_is_skipped_and_the_others_still_checked() -> None:
    mapping = mapping_of(
        ColumnCheck("Phone", required=True, type=ColumnType.PHONE),
        ColumnCheck("Email", type=ColumnType.EMAIL),
    )
    frame = sheet({"Email": ["nope"]})
    assert validate_columns(frame, mapping) == [RowIssue(2, "Email", "nope", NOT_EMAIL)]


def test_text_columns_without_rules_are_not_checked() -> None:
    mapping = mapping_of(ColumnCheck("Notes"))
    assert validate_columns(sheet({"Notes": [None, "anything @ all"]}), mapping) == []


def test_empty_sheet_has_no_issues() -> None:
    mapping = mapping_of(ColumnCheck("ID", required=True))
    assert validate_columns(sheet({"ID": []}), mapping) == []


def test_nullable_string_dtype_frames_work_like_str_frames() -> None:
    mapping = mapping_of(
        ColumnCheck("ID", required=True), ColumnCheck("N", type=ColumnType.INTEGER)
    )
    frame = pd.DataFrame(
        {
            "ID": pd.array([pd.NA, "2"], dtype="string"),
            "N": pd.array(["x", pd.NA], dtype="string"),
        },
        index=pd.Index([2, 3], name="row"),
    )
    assert validate_columns(frame, mapping) == [
        RowIssue(2, "ID", "", REQUIRED_BLANK),
        RowIssue(2, "N", "x", NOT_WHOLE_NUMBER),
    ]


def test_checks_run_even_when_pandera_validation_is_switched_off() -> None:
    # PANDERA_VALIDATION_ENABLED=False in the environment must not let bad rows through.
    mapping = mapping_of(ColumnCheck("ID", required=True))
    with pandera.config.config_context(validation_enabled=False):
        assert validate_columns(sheet({"ID": [None]}), mapping) == [
            RowIssue(2, "ID", "", REQUIRED_BLANK)
        ]


def test_clinic_mapping_reports_plain_words() -> None:
    mapping = load_mapping(CLINIC_MAPPING)
    frame = sheet(
        {
            "Appointment ID": ["A-1", "A-2", "A-1"],
            "Date": ["12/14/2026", "12/14/2026", " "],
            "Start": ["9:30 AM"] * 3,
            "End": ["10:00 AM"] * 3,
            "Provider": ["Dr. Lee"] * 3,
            "Email": ["ann@example.com", "bob at example.com", None],
            "Phone": ["(650) 253-0000", None, "12"],
            "Time Zone": [None, "America/Los Angeles", "America/New_York"],
        }
    )
    assert [str(issue) for issue in validate_columns(frame, mapping)] == [
        "row 2, column 'Appointment ID': 'A-1' appears in more than one row (rows 2, 4): "
        "each row needs its own value",
        "row 3, column 'Email': 'bob at example.com' " + NOT_EMAIL,
        "row 3, column 'Time Zone': 'America/Los Angeles' is not a known time zone; "
        "did you mean 'America/Los_Angeles'?",
        "row 4, column 'Appointment ID': 'A-1' appears in more than one row (rows 2, 4): "
        "each row needs its own value",
        "row 4, column 'Date': " + REQUIRED_BLANK,
        "row 4, column 'Phone': '12' " + NOT_US_PHONE,
    ]


def test_email_answers_remembered_between_passes_stay_right(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The map stage checks the column again: the second pass reads remembered answers, and a
    # memo cleared when full (or a column over its bound) changes no answer.
    import importer.validate as validate

    cells = pd.Series(["ann@example.com", "not an email", "", "ann@example.com", "b@x.io"])
    expected = [True, False, False, True, True]
    monkeypatch.setattr(validate, "_email_answers", {})
    assert validate.emails_ok(cells).tolist() == expected
    assert validate._email_answers == {
        "ann@example.com": True,
        "not an email": False,
        "": False,
        "b@x.io": True,
    }
    assert validate.emails_ok(cells).tolist() == expected
    monkeypatch.setattr(validate, "EMAIL_MEMO_SIZE", 4)
    assert validate.emails_ok(cells).tolist() == expected  # longer than the bound: not kept
    assert validate.emails_ok(cells[:3]).tolist() == expected[:3]  # all known: nothing cleared
    assert len(validate._email_answers) == 4
    assert validate.emails_ok(pd.Series(["c@x.io"])).tolist() == [True]  # full: cleared first
    assert validate._email_answers == {"c@x.io": True}


def test_the_second_email_pass_over_a_whole_part_reads_remembered_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importer.validate as validate
    from importer.load.parts import WHOLE_ROWS

    addresses = pd.Series([f"patient{n}@example.com" for n in range(WHOLE_ROWS)])
    monkeypatch.setattr(validate, "_email_answers", {})
    assert validate.emails_ok(addresses).all()
    syntax = validate._email_syntax()
    checked = 0

    class Counting:
        def fullmatch(self, text: str) -> object:
            nonlocal checked
            checked += 1
            return syntax.fullmatch(text)

    monkeypatch.setattr(validate, "_email_syntax", Counting)
    assert validate.emails_ok(addresses).all()
    assert checked == 0


def test_the_phone_and_email_answers_are_forgotten_once_a_part_is_mapped() -> None:
    # They serve the two passes over one part's columns; kept, a web server would hold ~35 MB
    # of numbers and addresses for nothing.
    import importer.validate as validate
    import importer.values.phones as phones
    from importer.appointments import appointments_of
    from importer.load import load_table
    from importer.mapping import load_mapping
    from importer.prepare import validate_and_map
    from tests.helpers import CLINIC_MAPPING, SAMPLES

    mapping = load_mapping(CLINIC_MAPPING)
    rows = appointments_of(load_table(SAMPLES / "appointments.csv"), mapping).rows
    built, _ = validate_and_map(rows, mapping)
    assert built.payloads  # phones and emails were checked
    assert phones._fast_answers == {}
    assert validate._email_answers == {}


def test_an_appointment_in_est_is_refused_not_sent_an_hour_off_in_summer(tmp_path: Path) -> None:
    # Staff write EST for New York's time all year; tzdata's EST is UTC-05:00 in July too, so
    # a 9:00 appointment on 14 July would be sent at 9:00-05:00, which is 10:00 in New York
    # (where Apptoto's calendar shows it). The row is refused and says what to write;
    # America/New_York on the next row is sent at -04:00.
    rows = [appointment(n) for n in (1, 2)]
    rows[0] |= {"Date": "07/14/2027", "Start": "9:00 AM", "End": "9:30 AM", "Time Zone": "EST"}
    rows[1] |= {"Date": "07/14/2027", "Start": "9:00 AM", "End": "9:30 AM"}
    rows[1] |= {"Time Zone": "America/New_York"}
    source = tmp_path / "summer.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)
    prepared = prepare(source, load_mapping(CLINIC_MAPPING))
    assert [str(i) for i in prepared.issues[2]] == [
        f"row 2, column 'Time Zone': 'EST' {ONE_OFFSET_ALL_YEAR['EST']}; or have the mapping "
        "read the column's names as their zones: {Time Zone|zone}"
    ]
    assert prepared.events.payloads[3]["start_time"] == "2027-07-14T09:00:00-04:00"


def test_a_mapping_whose_time_zone_is_gmt_is_refused_with_the_zone_to_write() -> None:
    raw = yaml.safe_load(CLINIC_MAPPING.read_text(encoding="utf-8"))
    raw["defaults"]["time_zone"] = "GMT"
    with pytest.raises(MappingError) as caught:
        parse_mapping(raw, file="m.yaml")
    assert f"defaults.time_zone: 'GMT' {ONE_OFFSET_ALL_YEAR['GMT']}" in caught.value.problems
