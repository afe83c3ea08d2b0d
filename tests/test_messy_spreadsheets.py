"""Messy and hostile spreadsheets, end to end: what staff see, and what the SERVER ends up holding.

Encodings, text that must stay exact, Excel dates and times, clock changes, formula-looking text,
the row cap, zip and XML bombs, odd headers and hidden sheets, files that are not what their name
says, one external_id on two rows. Each stage's own tests (``tests/load/``, ``tests/values/``,
``tests/events/``) check the pieces; here each case goes through ``prepare()``, the pipeline or
the CLI against the sandbox, and the assertions are on what reaches Apptoto, on the report and on
the messages. Files are made by the tests; only ``tests/corpus/legacy.xls`` and ``protected.xlsx``
are stored (see make_corpus.py).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import re
import struct
import sys
import tracemalloc
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from typer.testing import Result

from importer.errors import LoadError
from importer.load import load_table
from importer.mapping import Mapping, parse_mapping
from importer.pipeline import RunRequest, run_import
from importer.prepare import prepare
from importer.sandbox.server import SandboxHandle
from tests.helpers import (
    CORPUS,
    env_for,
    fast_client_config,
    invoke_cli,
    live_events,
    read_report,
    run_in_process,
)

HEADER = ["Id", "Title", "Date", "Start", "When", "Time Zone", "Notes", "ZIP", "Ref", "Name"]
HEADER += ["Phone"]
FIRST_ROW = {
    "Id": "1",
    "Title": "Check-up",
    "Date": "12/14/2026",
    "Start": "9:00 AM",
    "When": "2026-12-14 09:00",
    "Time Zone": "",
    "Notes": "",
    "ZIP": "",
    "Ref": "",
    "Name": "Ann Lee",
    "Phone": "(541) 555-0104",
}


def mapping_spec(start: str = "split", **defaults: Any) -> dict[str, Any]:
    """The test mapping: New York unless a row says otherwise, 30-minute events."""
    when = {"datetime": "{When}"} if start == "combined" else {"date": "{Date}", "time": "{Start}"}
    return {
        "name": "Corpus",
        "defaults": {
            "time_zone": "America/New_York",
            "phone_region": "US",
            "date_format": "%m/%d/%Y",
            "time_format": "%I:%M %p",
            **defaults,
        },
        "columns": {"Id": {"required": True}, "Time Zone": {"type": "timezone"}},
        "event": {
            "calendar": "Front desk",
            "external_id": "c-{Id}",
            "title": "{Title}",
            "start": when,
            "duration_minutes": "30",
            "time_zone": "{Time Zone}",
            "content": "{Notes}",
            "custom_data": {"zip": "{ZIP}", "ref": "{Ref}"},
            "participants": [{"name": "{Name}", "phone": "{Phone}"}],
        },
    }


def corpus_mapping(start: str = "split", **defaults: Any) -> Mapping:
    return parse_mapping(mapping_spec(start, **defaults))


def mapping_file(tmp_path: Path, start: str = "split", **defaults: Any) -> Path:
    path = tmp_path / "mapping.yaml"
    path.write_text(yaml.safe_dump(mapping_spec(start, **defaults)), encoding="utf-8")
    return path


def rows_of(*changes: dict[str, Any]) -> list[dict[str, Any]]:
    """One full row per dict of changes; ids 1, 2, 3... unless a change names its own. Each row
    is another patient's visit (Ann Lee's, then Patient 2's...): one patient's rows at one time
    would be the same appointment, which the guard sends once."""
    return [
        {**FIRST_ROW, "Id": str(n), **({"Name": f"Patient {n}"} if n > 1 else {}), **change}
        for n, change in enumerate(changes, start=1)
    ]


def write_csv(
    path: Path, rows: list[dict[str, Any]], *, encoding: str = "utf-8", delimiter: str = ","
) -> Path:
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, HEADER, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(text.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[dict[str, Any]], *, epoch: dt.datetime | None = None) -> Path:
    """Values as given: str -> text cell (even "=..."), numbers, dates, times as Excel types."""
    book = openpyxl.Workbook()
    if epoch is not None:
        book.epoch = epoch
    sheet = book.active
    assert sheet is not None
    sheet.title = "Appointments"
    sheet.append(HEADER)
    for values in rows:
        sheet.append([values.get(name) if values.get(name) != "" else None for name in HEADER])
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, never a formula, as Excel keeps typed text
            elif isinstance(cell.value, dt.datetime):
                cell.number_format = "yyyy-mm-dd h:mm"
            elif isinstance(cell.value, dt.date):
                cell.number_format = "mm/dd/yyyy"
            elif isinstance(cell.value, dt.time):
                cell.number_format = "h:mm AM/PM"
    book.save(path)
    return path


def by_row(report: list[dict[str, str]]) -> dict[int, dict[str, str]]:
    lines = {int(line["row"]): line for line in report}
    assert len(lines) == len(report)  # every row once
    return lines


def sent_external_ids(sandbox: SandboxHandle) -> set[str]:
    return {i for r in sandbox.requests() for i in r["external_ids"]}


@pytest.fixture
def cli_env(sandbox: SandboxHandle, restore_logging: None) -> dict[str, str]:
    """Credentials for the CLI; the root logging setup the CLI replaces is put back after."""
    return env_for(sandbox)


def cli_run(source: Path, mapping: Path, tmp_path: Path, env: dict[str, str], *more: str) -> Result:
    return invoke_cli(
        [
            "run",
            str(source),
            "-m",
            str(mapping),
            "--report",
            str(tmp_path / "report.csv"),
            "--state",
            str(tmp_path / "state.sqlite"),
            "--rate",
            "6000",
            "--quiet",
            *more,
        ],
        env,
    )


# --- encodings ----------------------------------------------------------------------------------

ACCENTED = "Café visit – Zoë O’Brien"  # é, ë, ’ and – are all in cp1252 (0xE9, 0xEB, 0x92, 0x96)


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("cp1252", ","), ("utf-8-sig", ","), ("utf-16", "\t")],
    ids=["excel-csv-cp1252", "excel-csv-utf8-bom", "excel-unicode-text-utf16"],
)
def test_excel_encodings_reach_apptoto_as_the_same_letters(
    sandbox: SandboxHandle, tmp_path: Path, encoding: str, delimiter: str
) -> None:
    rows = rows_of({"Title": ACCENTED, "Name": "Renée Ångström"})
    source = write_csv(tmp_path / "in.csv", rows, encoding=encoding, delimiter=delimiter)
    summary, report = run_in_process(sandbox, source, corpus_mapping(), tmp_path)
    assert summary.counts == {"created": 1}  # "Id" matched: no BOM glued to the first header
    event = live_events(sandbox)["c-1"]
    assert event["title"] == ACCENTED
    assert event["participants"][0]["name"] == "Renée Ångström"
    assert report[0]["Title"] == ACCENTED  # the report (UTF-8 with BOM) shows them too


FRENCH_HEADER = ["Id", "Prénom", "Téléphone", "Date du rendez-vous", "Heure", "Remarque"]
FRENCH_SPEC: dict[str, Any] = {
    "name": "Cabinet",
    "defaults": {
        "time_zone": "Europe/Paris",
        "phone_region": "FR",
        "date_format": "%d/%m/%Y",
        "time_format": "%H:%M",
    },
    "columns": {"Prénom": {"required": True}, "Téléphone": {"required": True}},
    "event": {
        "calendar": "Accueil",
        "external_id": "fr-{Id}",
        "title": "Rendez-vous de {Prénom}",
        "start": {"date": "{Date du rendez-vous}", "time": "{Heure}"},
        "duration_minutes": "20",
        "content": "{Remarque}",
        "participants": [{"name": "{Prénom}", "phone": "{Téléphone}"}],
    },
}


@pytest.mark.parametrize(
    ("encoding", "delimiter", "header_bytes"),
    [("cp1252", ",", b"T\xe9l\xe9phone"), ("utf-16", "\t", "Téléphone".encode("utf-16-le"))],
    ids=["excel-csv-cp1252", "excel-unicode-text-utf16"],
)
def test_accented_headers_are_matched_by_the_mapping_and_their_values_arrive(
    sandbox: SandboxHandle, tmp_path: Path, encoding: str, delimiter: str, header_bytes: bytes
) -> None:
    # The headers themselves hold é: read as UTF-8 they would be mojibake ("TÃ©lÃ©phone") or
    # refused, and the mapping would find none of its columns.
    text = io.StringIO(newline="")
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(FRENCH_HEADER)
    writer.writerow(["7", "Renée", "06 12 34 56 78", "14/12/2026", "09:30", "l’ordonnance à jour"])
    source = tmp_path / "rendez-vous.csv"
    source.write_bytes(text.getvalue().encode(encoding))
    assert header_bytes in source.read_bytes()  # in cp1252 é is the one byte 0xE9

    sheet = load_table(source)
    assert (sheet.encoding, list(sheet.frame.columns)) == (encoding, FRENCH_HEADER)
    summary, report = run_in_process(sandbox, source, parse_mapping(FRENCH_SPEC), tmp_path)
    assert summary.counts == {"created": 1}, report
    event = live_events(sandbox)["fr-7"]
    assert event["title"] == "Rendez-vous de Renée"
    assert event["participants"][0]["name"] == "Renée"
    assert event["participants"][0]["phone"] == "+33612345678"
    assert event["start_time"] == "2026-12-14T09:30:00+01:00"
    assert event["content"] == "l’ordonnance à jour"
    assert list(report[0])[:6] == FRENCH_HEADER  # the report keeps the accented headers
    assert report[0]["Téléphone"] == "06 12 34 56 78"


def test_a_file_mixing_two_encodings_is_refused_naming_row_and_encoding(
    sandbox: SandboxHandle, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    head = write_csv(tmp_path / "a.csv", rows_of({"Title": "Zoë"})).read_bytes()
    tail = "3,Renée,12/14/2026,9:00 AM,,,,,,Ann,5415550104\r\n".encode("cp1252")
    source = tmp_path / "mixed.csv"
    source.write_bytes(head + tail)
    result = cli_run(source, mapping_file(tmp_path), tmp_path, cli_env)
    assert result.exit_code == 2
    assert "row 3" in result.output and "column 'Title'" in result.output
    assert "mixes two text encodings" in result.output and "UTF-8" in result.output
    assert sandbox.requests() == []  # nothing sent, not even the good row
    assert not (tmp_path / "report.csv").exists()


# --- text kept exactly: leading zeros, long numbers ------------------------------------------


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_leading_zeros_reach_apptoto_exactly(
    sandbox: SandboxHandle, tmp_path: Path, kind: str
) -> None:
    rows = rows_of({"Id": "000123", "ZIP": "02134", "Ref": "0044 20 7946 0958"})
    writer = write_csv if kind == "csv" else write_xlsx
    source = writer(tmp_path / f"in.{kind}", rows)
    summary, report = run_in_process(sandbox, source, corpus_mapping(), tmp_path)
    assert summary.counts == {"created": 1}
    event = live_events(sandbox)["c-000123"]
    assert event["custom_data"] == {"zip": "02134", "ref": "0044 20 7946 0958"}
    assert (report[0]["Id"], report[0]["ZIP"]) == ("000123", "02134")


def test_numbers_in_excel_cells_keep_every_digit(sandbox: SandboxHandle, tmp_path: Path) -> None:
    rows = rows_of({"Id": 1234567890123, "Phone": 5415550104, "ZIP": 2134})
    source = write_xlsx(tmp_path / "in.xlsx", rows)
    book = openpyxl.load_workbook(source)
    book.active["A2"].number_format = "0.00E+00"  # Excel shows the id as 1.23E+12
    book.save(source)
    summary, report = run_in_process(sandbox, source, corpus_mapping(), tmp_path)
    assert summary.counts == {"created": 1}
    event = live_events(sandbox)["c-1234567890123"]
    assert event["participants"][0]["phone"] == "+15415550104"
    # A number cell has no leading zero to keep: Excel itself shows 2134.
    assert event["custom_data"]["zip"] == "2134"
    # The report staff read shows the id's every digit too, never 1.23E+12 nor 1234567890123.0.
    assert (report[0]["Id"], report[0]["Phone"]) == ("1234567890123", "5415550104")
    assert report[0]["external_id"] == "c-1234567890123"


def test_numbers_excel_shortened_in_a_csv_are_refused_for_that_alone_and_never_sent(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    # Excel saves a long number of a General cell as it shows it: 202612140930 as 2.02613E+11.
    # Sent, such an id would become a second event once the file is saved with its digits.
    rows = rows_of(
        {"Id": "2.02613E+11"},
        {"Id": "2.02613E+11", "Start": "10:00 AM"},
        {"Id": "202612141130", "Phone": "5.41555E+09"},
        {"Id": "202612141200"},
    )
    source = write_csv(tmp_path / "in.csv", rows)
    spec = mapping_spec()
    spec["columns"]["Id"]["unique"] = True
    summary, report = run_in_process(sandbox, source, parse_mapping(spec), tmp_path)
    assert summary.counts == {"created": 1, "invalid": 3}
    lines = by_row(report)
    for row, column in ((2, "Id"), (3, "Id"), (4, "Phone")):
        assert lines[row]["status"] == "invalid"
        message = lines[row]["message"]
        assert message.startswith(f"row {row}, column '{column}': ")
        assert "Excel shortened" in message
        assert "last digits are lost" in message and ";" not in message  # that alone
    assert list(live_events(sandbox)) == ["c-202612141200"]
    assert sent_external_ids(sandbox) == {"c-202612141200"}


# --- dates and times from Excel cells -----------------------------------------------------------


def test_times_as_people_type_them_and_dates_excel_saved_with_midnight_arrive_exact(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    # A hand-typed sheet of a 12-hour mapping: the hour alone, AM/PM dotted; a date column
    # whose Excel cells held a date and midnight, saved to CSV as "12/14/2026 0:00".
    rows = rows_of(
        {"Date": "12/14/2026 0:00", "Start": "9am"},
        {"Start": "2 PM"},
        {"Start": "9:30 a.m."},
        {"Date": "12/14/2026 9:30", "Start": "9:30 AM"},  # which time? refused
        {"Start": "9"},  # 9 in the morning or the evening? refused
    )
    source = write_csv(tmp_path / "in.csv", rows)
    summary, report = run_in_process(sandbox, source, corpus_mapping(), tmp_path)
    assert summary.counts == {"created": 3, "invalid": 2}
    starts = {i: e["start_time"] for i, e in live_events(sandbox).items()}
    assert starts == {
        "c-1": "2026-12-14T09:00:00-05:00",
        "c-2": "2026-12-14T14:00:00-05:00",
        "c-3": "2026-12-14T09:30:00-05:00",
    }
    lines = by_row(report)
    assert "holds a time (09:30) as well as a date" in lines[5]["message"]
    assert "does not match the time format" in lines[6]["message"]


@pytest.mark.parametrize("epoch", [None, CALENDAR_MAC_1904], ids=["1900-dates", "1904-dates"])
@pytest.mark.parametrize("layout", ["date-and-time-cells", "one-datetime-cell"])
def test_excel_date_and_time_cells_give_the_right_local_time(
    sandbox: SandboxHandle, tmp_path: Path, epoch: dt.datetime | None, layout: str
) -> None:
    cells = {
        "Date": dt.date(2026, 12, 14),
        "Start": dt.time(9, 30),
        "When": dt.datetime(2026, 12, 14, 9, 30),
    }
    source = write_xlsx(tmp_path / "in.xlsx", rows_of(cells), epoch=epoch)
    if epoch is not None:  # the serial numbers really are 1904-based (1,462 days fewer)
        assert 'date1904="1"' in zipfile.ZipFile(source).read("xl/workbook.xml").decode()
    start = "combined" if layout == "one-datetime-cell" else "split"
    summary, _ = run_in_process(sandbox, source, corpus_mapping(start), tmp_path)
    assert summary.counts == {"created": 1}
    event = live_events(sandbox)["c-1"]
    assert event["start_time"] == "2026-12-14T09:30:00-05:00"
    assert event["end_time"] == "2026-12-14T10:00:00-05:00"


# --- clock changes, day/month order, zones, own offsets ---------------------------------------


def test_a_time_the_clocks_skip_is_invalid_with_the_reason_and_never_sent(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    rows = rows_of({}, {"Date": "03/08/2026", "Start": "2:30 AM"})  # New York springs forward
    source = write_csv(tmp_path / "in.csv", rows)
    summary, report = run_in_process(sandbox, source, corpus_mapping(), tmp_path)
    assert summary.counts == {"created": 1, "invalid": 1}
    line = by_row(report)[3]
    assert line["status"] == "invalid"
    assert "does not exist in America/New_York: clocks skip from 2:00 to 3:00" in line["message"]
    assert list(live_events(sandbox)) == ["c-1"]
    assert "c-2" not in sent_external_ids(sandbox)


@pytest.mark.parametrize(
    ("dst", "start_time"),
    [
        ("reject", None),
        ("earlier", "2026-11-01T01:30:00-04:00"),
        ("later", "2026-11-01T01:30:00-05:00"),
    ],
)
def test_a_time_that_happens_twice_needs_the_mapping_to_choose(
    sandbox: SandboxHandle, tmp_path: Path, dst: str, start_time: str | None
) -> None:
    source = write_csv(tmp_path / "in.csv", rows_of({"Date": "11/01/2026", "Start": "1:30 AM"}))
    summary, report = run_in_process(sandbox, source, corpus_mapping(dst=dst), tmp_path)
    if start_time is None:
        assert summary.counts == {"invalid": 1}
        assert "happens twice in America/New_York" in report[0]["message"]
        assert "the first one (-04:00) or the second (-05:00)" in report[0]["message"]
        assert sandbox.requests() == []
    else:
        assert summary.counts == {"created": 1}
        assert live_events(sandbox)["c-1"]["start_time"] == start_time


def test_day_and_month_are_read_as_declared_never_swapped(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    day_first = write_csv(tmp_path / "dmy.csv", rows_of({"Date": "03/04/2026"}))
    summary, _ = run_in_process(
        sandbox, day_first, corpus_mapping(date_format="%d/%m/%Y"), tmp_path / "a"
    )
    assert summary.counts == {"created": 1}
    assert live_events(sandbox)["c-1"]["start_time"] == "2026-04-03T09:00:00-04:00"  # 3 April

    month_first = write_csv(tmp_path / "mdy.csv", rows_of({"Id": "2", "Date": "13/04/2026"}))
    summary, report = run_in_process(sandbox, month_first, corpus_mapping(), tmp_path / "b")
    assert summary.counts == {"invalid": 1}
    assert "column 'Date'" in report[0]["message"]
    assert "there is no month 13: dates here are written MM/DD/YYYY" in report[0]["message"]
    assert list(live_events(sandbox)) == ["c-1"]  # no 4 December, no 13th month


def test_an_unknown_zone_is_invalid_and_an_own_offset_is_kept(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    rows = rows_of(
        {"Time Zone": "America/Los Angeles"},
        {"When": "2026-07-01T09:00:00-04:00", "Time Zone": "America/Los_Angeles"},
    )
    source = write_csv(tmp_path / "in.csv", rows)
    summary, report = run_in_process(sandbox, source, corpus_mapping("combined"), tmp_path)
    assert summary.counts == {"created": 1, "invalid": 1}
    assert "did you mean 'America/Los_Angeles'?" in by_row(report)[2]["message"]
    event = live_events(sandbox)["c-2"]
    assert event["start_time"] == "2026-07-01T09:00:00-04:00"  # not re-localised to -07:00
    assert event["time_zone"] == "America/Los_Angeles"
    assert "c-1" not in sent_external_ids(sandbox)


# --- formula-looking text, unusual characters, long notes --------------------------------------

FORMULAS = ['=HYPERLINK("http://x", "y")', "+1 555", "@SUM(A1)", "-2+3", "\t=1+2", "\r=3+4"]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_formula_text_reaches_apptoto_unescaped_and_is_escaped_in_the_report(
    sandbox: SandboxHandle, tmp_path: Path, kind: str
) -> None:
    rows = rows_of(*({"Notes": text, "Title": text} for text in FORMULAS))
    writer = write_csv if kind == "csv" else write_xlsx
    source = writer(tmp_path / f"in.{kind}", rows)
    summary, report = run_in_process(sandbox, source, corpus_mapping(), tmp_path)
    assert summary.counts == {"created": len(FORMULAS)}
    events = live_events(sandbox)
    # openpyxl writes the CR bare, which XML reads as LF, so its CR-led cell is LF-led here.
    # Excel writes it as _x000D_, read as a CR: test_cr_led_text_as_excel_writes_it_...
    written = [t if kind == "csv" else t.replace("\r", "\n") for t in FORMULAS]
    for number, text in enumerate(written, start=1):
        # Never escaped nor trimmed on the way to Apptoto: tab- and CR-led text arrives as written.
        assert events[f"c-{number}"]["content"] == text
        assert events[f"c-{number}"]["title"] == text
    for line, text in zip(report, written, strict=True):
        assert line["Notes"] == "'" + text  # a spreadsheet shows it as text, never runs it
        assert line["Title"] == "'" + text


SHARED_STRINGS_PARTS = (
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sharedStrings+xml"/>',
    '<Relationship Id="rIdStrings" Target="sharedStrings.xml" Type="http://schemas.openxmlformats'
    '.org/officeDocument/2006/relationships/sharedStrings"/>',
)


def as_excel_saves_text(path: Path, *, shared: bool) -> Path:
    """The workbook with its text escaped as Excel writes it, in a shared-strings table or not.

    Excel writes a CR as ``_x000D_`` (a bare CR would be read back as LF by any XML parser) and
    escapes text that already looks like such an escape with ``_x005F_`` (an underscore).
    openpyxl writes the CR bare and every text inline.
    """
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info).decode() for info in archive.infolist()}
    sheet = parts[SHEET].replace("_x000D_", "_x005F_x000D_").replace("\r", "_x000D_")
    if shared:
        texts: list[str] = []

        def to_shared(found: re.Match[str]) -> str:
            texts.append(found.group(3))
            return f'<c r="{found.group(1)}"{found.group(2)} t="s"><v>{len(texts) - 1}</v></c>'

        inline = r'<c r="(\w+)"((?: s="\d+")?) t="inlineStr"><is><t[^>]*>(.*?)</t></is></c>'
        sheet = re.sub(inline, to_shared, sheet, flags=re.DOTALL)
        items = "".join(f'<si><t xml:space="preserve">{text}</t></si>' for text in texts)
        parts["xl/sharedStrings.xml"] = (
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{len(texts)}" uniqueCount="{len(texts)}">{items}</sst>'
        )
        types, relations = "[Content_Types].xml", "xl/_rels/workbook.xml.rels"
        parts[types] = parts[types].replace("</Types>", SHARED_STRINGS_PARTS[0] + "</Types>")
        parts[relations] = parts[relations].replace(
            "</Relationships>", SHARED_STRINGS_PARTS[1] + "</Relationships>"
        )
    parts[SHEET] = sheet
    out = path.with_name(f"excel-{path.name}")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return out


@pytest.mark.parametrize("shared", [True, False], ids=["shared-strings", "inline-strings"])
def test_cr_led_text_as_excel_writes_it_reaches_apptoto_with_its_cr(
    sandbox: SandboxHandle, tmp_path: Path, shared: bool
) -> None:
    rows = rows_of(
        {"Notes": "\r=3+4", "Title": "\rCR-led title"},
        {"Notes": "typed _x000D_ as text", "Title": "Plain"},  # Excel shows it as typed
    )
    source = as_excel_saves_text(write_xlsx(tmp_path / "in.xlsx", rows), shared=shared)
    names = [SHEET, "xl/sharedStrings.xml"] if shared else [SHEET]
    with zipfile.ZipFile(source) as archive:
        xml = b"".join(archive.read(name) for name in names)
    assert b"_x000D_=3+4" in xml and b"_x005F_x000D_ as text" in xml and b"\r" not in xml
    assert (b't="s"' in xml) is shared

    frame = load_table(source).frame
    assert frame.loc[2, "Notes"] == "\r=3+4"  # a real CR at its start, as Excel shows it
    assert frame.loc[2, "Title"] == "\rCR-led title"
    assert frame.loc[3, "Notes"] == "typed _x000D_ as text"
    summary, report = run_in_process(sandbox, source, corpus_mapping(), tmp_path)
    assert summary.counts == {"created": 2}
    events = live_events(sandbox)
    assert (events["c-1"]["content"], events["c-1"]["title"]) == ("\r=3+4", "\rCR-led title")
    assert events["c-2"]["content"] == "typed _x000D_ as text"
    lines = by_row(report)
    # Escaped in the report exactly as the CSV path escapes a CR-led cell.
    assert (lines[2]["Notes"], lines[2]["Title"]) == ("'\r=3+4", "'\rCR-led title")
    assert lines[3]["Notes"] == "typed _x000D_ as text"


def test_formula_text_is_a_text_cell_in_an_xlsx_report(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "in.csv", rows_of({"Notes": FORMULAS[0]}))
    summary = run_import(
        RunRequest(
            source=source,
            mapping=corpus_mapping(),
            client_config=fast_client_config(sandbox),
            report_path=tmp_path / "report.xlsx",
            ledger_path=tmp_path / "state.sqlite",
        )
    )
    assert summary.counts == {"created": 1}
    sheet = openpyxl.load_workbook(tmp_path / "report.xlsx").active
    assert sheet is not None
    notes = [c for c in sheet[2] if sheet.cell(1, c.column).value == "Notes"][0]
    assert (notes.value, notes.data_type) == (FORMULAS[0], "s")


LONG_NOTE = "".join(f"line {n:04d} of the referral letter.\n" for n in range(160))[:5000]
UNUSUAL = {
    "Title": "🦷 Dental check 😀👨‍👩‍👧",
    "Name": "مريم العلي",  # right-to-left
    "Notes": LONG_NOTE,
    "Ref": "first line\nsecond line\r\nthird\tcolumn",
}


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_emoji_rtl_newlines_and_a_5000_character_note_arrive_intact(
    sandbox: SandboxHandle, tmp_path: Path, kind: str
) -> None:
    assert len(LONG_NOTE) == 5000
    cells = dict(UNUSUAL)
    if kind == "xlsx":  # XML keeps LF but turns CR LF into LF; Excel writes LF (Alt+Enter)
        cells["Ref"] = cells["Ref"].replace("\r\n", "\n")
    writer = write_csv if kind == "csv" else write_xlsx
    summary, report = run_in_process(
        sandbox, writer(tmp_path / f"in.{kind}", rows_of(cells)), corpus_mapping(), tmp_path
    )
    assert summary.counts == {"created": 1}
    event = live_events(sandbox)["c-1"]
    assert event["title"] == cells["Title"]
    assert event["participants"][0]["name"] == cells["Name"]
    assert event["content"] == LONG_NOTE.strip()
    assert event["custom_data"]["ref"] == cells["Ref"]
    assert report[0]["Notes"] == LONG_NOTE


# --- the row cap ----------------------------------------------------------------------------


def bytes_read_by_this_process() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux /proc/self/io")
def test_a_csv_over_the_row_cap_is_refused_after_reading_only_its_start(tmp_path: Path) -> None:
    line = "7,Check-up,12/14/2026,9:00 AM,,,,,,Ann Lee,5415550104\r\n"
    source = tmp_path / "big.csv"
    source.write_text(",".join(HEADER) + "\r\n" + line * 400_000, encoding="utf-8")
    size = source.stat().st_size
    assert size > 20_000_000
    prepare(write_csv(tmp_path / "warm.csv", rows_of({})), corpus_mapping())  # imports done
    before = bytes_read_by_this_process()
    with pytest.raises(LoadError, match="more than 10 rows below the header") as caught:
        prepare(source, corpus_mapping(), max_rows=10)
    read = bytes_read_by_this_process() - before
    assert read < size // 20, f"read {read:,} of {size:,} bytes"
    assert caught.value.file == str(source)


def test_the_cli_refuses_a_file_over_max_rows_and_sends_nothing(
    sandbox: SandboxHandle, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    source = write_csv(tmp_path / "in.csv", rows_of(*({} for _ in range(12))))
    mapping = mapping_file(tmp_path)
    checked = invoke_cli(["validate", str(source), "-m", str(mapping), "--max-rows", "11"])
    assert checked.exit_code == 2
    assert "more than 11 rows" in checked.output and "Split it" in checked.output
    result = cli_run(source, mapping, tmp_path, cli_env, "--max-rows", "11")
    assert result.exit_code == 2
    assert sandbox.requests() == []
    assert not (tmp_path / "report.csv").exists()
    assert cli_run(source, mapping, tmp_path, cli_env, "--max-rows", "12").exit_code == 0
    assert len(live_events(sandbox)) == 12


# A mapping of constants but for the id, as a user writes the file.
IDS_MAPPING = """
name: Ids
defaults: {time_zone: America/New_York}
event:
  calendar: Front desk
  external_id: "c-{Id}"
  title: Visit
  start: {datetime: "2026-12-14 09:00"}
  duration_minutes: "30"
"""


def test_validate_reads_a_file_in_parts_up_to_the_cap_and_refuses_one_row_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The command line reads a file a part at a time: its cap is 5,000,000 rows. Checked here
    # with the cap at 120,000 (three parts), one short column and a mapping of constants.
    import importer.pipeline

    assert importer.pipeline.STREAMED_MAX_ROWS == 5_000_000
    monkeypatch.setattr(importer.pipeline, "STREAMED_MAX_ROWS", 120_000)
    mapping = tmp_path / "ids.yaml"
    mapping.write_text(IDS_MAPPING, encoding="utf-8")
    at_cap = tmp_path / "at_cap.csv"
    at_cap.write_text("Id\n" + "".join(f"{n}\n" for n in range(120_000)), encoding="utf-8")
    checked = invoke_cli(["validate", str(at_cap), "-m", str(mapping)])
    assert checked.exit_code == 0, checked.output
    assert "120000 valid, 0 invalid rows in at_cap.csv" in checked.output
    over = tmp_path / "over.csv"
    over.write_text("Id\n" + "".join(f"{n}\n" for n in range(120_001)), encoding="utf-8")
    refused = invoke_cli(
        ["validate", str(over), "-m", str(mapping), "--report", str(tmp_path / "r.csv")]
    )
    assert refused.exit_code == 2
    assert f"error: file {over}: the file has more than 120,000 rows below the header" in (
        refused.output
    )
    assert "Split it into smaller files, or raise the limit with --max-rows" in refused.output
    assert not (tmp_path / "r.csv").exists()


def peak_python_memory(action: Any) -> int:
    """Peak bytes Python allocated while ``action()`` ran (its exception is swallowed)."""
    tracemalloc.start()
    try:
        action()
    except LoadError:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def write_big_xlsx(path: Path, rows: int) -> Path:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Appointments")
    sheet.append(HEADER)
    line = list(FIRST_ROW.values())
    for number in range(rows):
        sheet.append([str(number), *line[1:]])
    book.save(path)
    return path


def c_functions_called(action: Any) -> set[str]:
    """Names of the C functions and methods (calamine's among them) that ``action()`` called."""
    names: set[str] = set()

    def watch(frame: Any, event: str, arg: Any) -> None:
        if event == "c_call":
            names.add(getattr(arg, "__qualname__", getattr(arg, "__name__", "")))

    sys.setprofile(watch)
    try:
        action()
    except LoadError:
        pass
    finally:
        sys.setprofile(None)
    return names


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux /proc/self/io")
def test_a_workbook_over_the_row_cap_is_refused_before_calamine_reads_it(tmp_path: Path) -> None:
    source = write_big_xlsx(tmp_path / "big.xlsx", 20_000)
    size = source.stat().st_size
    with pytest.raises(LoadError, match="more than 10 rows below the header; at most 10 are read"):
        load_table(source, max_rows=10)  # also passes the bomb check, kept for this file
    before = bytes_read_by_this_process()
    called = c_functions_called(lambda: load_table(source, max_rows=10))
    read = bytes_read_by_this_process() - before
    # The sheet's rows are counted in its XML, which stops at the cap: calamine never opens the
    # workbook (it would first read every shared string), and most of the file is never read.
    assert not {name for name in called if name.startswith("Calamine")}
    assert read < size // 5, f"read {read:,} of {size:,} bytes"
    assert "CalamineWorkbook.from_path" in c_functions_called(lambda: load_table(source))


# --- zip bombs, XML entity bombs, XXE ---------------------------------------------------------


def zip_entry(name: str, deflated: bytes, *, size: int, crc: int = 0) -> tuple[bytes, bytes]:
    """A local header + data, and its central directory record (offset patched by the caller)."""
    encoded = name.encode()
    fields = struct.pack("<HHHHHIIIHH", 20, 0, 8, 0, 0, crc, len(deflated), size, len(encoded), 0)
    local = b"PK\x03\x04" + fields + encoded + deflated
    central = (
        b"PK\x01\x02"
        + struct.pack("<H", 20)
        + fields
        + struct.pack("<HHHII", 0, 0, 0, 0, 0)
        + encoded
    )
    return local, central


def write_zip(path: Path, entries: list[tuple[str, bytes, int, int]]) -> Path:
    """A zip of (name, deflated bytes, declared size, crc) written by hand: sizes may lie."""
    body, directory = b"", b""
    for name, deflated, size, crc in entries:
        local, central = zip_entry(name, deflated, size=size, crc=crc)
        directory += central[:42] + struct.pack("<I", len(body)) + central[46:]
        body += local
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                      len(directory), len(body), 0)  # fmt: skip
    path.write_bytes(body + directory + end)
    return path


def deflated(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def workbook_parts(tmp_path: Path) -> list[tuple[str, bytes]]:
    """The parts of a real one-row workbook, as openpyxl writes them."""
    source = write_xlsx(tmp_path / "plain.xlsx", rows_of({}))
    with zipfile.ZipFile(source) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def rebuilt_workbook(
    path: Path, parts: list[tuple[str, bytes]], replace: dict[str, tuple[bytes, int, int]]
) -> Path:
    """The workbook with some parts swapped for (deflated bytes, declared size, crc)."""
    entries = []
    for name, content in parts:
        if name in replace:
            entries.append((name, *replace[name]))
        else:
            entries.append((name, deflated(content), len(content), zlib.crc32(content)))
    return write_zip(path, entries)


def zeros_deflated(megabytes: int) -> bytes:
    """A deflate stream inflating to ``megabytes`` MiB of zeros, made without building them."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    packer.compress(bytes(1 << 20))
    packer.flush(zlib.Z_FULL_FLUSH)
    # After a full flush the compressor starts afresh: each MiB compresses to the same bytes.
    block = packer.compress(bytes(1 << 20)) + packer.flush(zlib.Z_FULL_FLUSH)
    return block * megabytes + packer.flush(zlib.Z_FINISH)


SHEET = "xl/worksheets/sheet1.xml"  # openpyxl writes the cells' text into the sheet part


@pytest.mark.parametrize(
    ("declared", "words"),
    [
        (10_000, "unpacks to more than it declares"),  # sizes that lie: caught while inflating
        (0xF000_0000, "would unpack to 3.8 GiB"),  # sizes that tell: caught before inflating
    ],
    ids=["lying-sizes", "honest-sizes"],
)
def test_a_zip_bomb_is_refused_before_parsing_with_memory_bounded(
    tmp_path: Path, declared: int, words: str, cli_env: dict[str, str], sandbox: SandboxHandle
) -> None:
    bomb = zeros_deflated(4096)  # 4 GiB of zeros in about 4 MB
    assert len(bomb) < 5_000_000
    source = rebuilt_workbook(
        tmp_path / "bomb.xlsx", workbook_parts(tmp_path), {SHEET: (bomb, declared, 0)}
    )
    with pytest.raises(LoadError, match=words):
        load_table(source)
    assert peak_python_memory(lambda: load_table(source)) < 16 << 20  # never 4 GiB
    result = cli_run(source, mapping_file(tmp_path), tmp_path, cli_env)
    assert result.exit_code == 2 and words in result.output
    assert sandbox.requests() == []


LAUGHS = ['<!ENTITY lol0 "lol">'] + [
    f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
]
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [' + "".join(LAUGHS) + "]>"
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    '<row r="1"><c r="A1" t="inlineStr"><is><t>Id</t></is></c></row>'
    '<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>'
)


def xxe_sheet(target: Path) -> str:
    return (
        f'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY xxe SYSTEM "file://{target}">]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Id</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>Title</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>1</t></is></c>'
        '<c r="B2" t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData></worksheet>'
    )


def test_an_xml_entity_bomb_is_refused_before_any_parser_runs(tmp_path: Path) -> None:
    sheet = BILLION_LAUGHS.encode()
    source = rebuilt_workbook(
        tmp_path / "lol.xlsx",
        workbook_parts(tmp_path),
        {SHEET: (deflated(sheet), len(sheet), zlib.crc32(sheet))},
    )
    declaration = r"sheet1.xml. holds an XML declaration \(<!DOCTYPE"
    with pytest.raises(LoadError, match=declaration) as caught:
        load_table(source)
    assert caught.value.file == str(source)
    assert peak_python_memory(lambda: load_table(source)) < 16 << 20  # 10**9 "lol"s never built


# Lists that Python's "open" audit events append to, while a `files_opened()` block is open. An
# audit hook cannot be removed, so the one hook stays installed and is inert when this is empty.
OPEN_WATCHERS: list[list[str]] = []
AUDIT_HOOK_INSTALLED: list[bool] = []  # holds True once the hook is installed in this process


def note_open(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and OPEN_WATCHERS and isinstance(args[0], str | bytes | os.PathLike):
        for opened in OPEN_WATCHERS:
            opened.append(os.path.realpath(os.fsdecode(args[0])))


@contextlib.contextmanager
def files_opened() -> Iterator[list[str]]:
    """The real paths of the files this process opens inside the block (Python's audit events).

    Files opened by native code without going through Python (calamine's Rust) are not seen.
    """
    if not AUDIT_HOOK_INSTALLED:
        sys.addaudithook(note_open)
        AUDIT_HOOK_INSTALLED.append(True)
    opened: list[str] = []
    OPEN_WATCHERS.append(opened)
    try:
        yield opened
    finally:
        OPEN_WATCHERS.remove(opened)


def test_an_xxe_entity_never_reads_the_file_it_points_at(
    sandbox: SandboxHandle, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    canary = "CANARY-7c1f0e-secret-file-content"
    target = tmp_path / "secret.txt"
    target.write_text(canary, encoding="utf-8")
    sheet = xxe_sheet(target).encode()
    source = rebuilt_workbook(
        tmp_path / "xxe.xlsx",
        workbook_parts(tmp_path),
        {SHEET: (deflated(sheet), len(sheet), zlib.crc32(sheet))},
    )
    mapping = mapping_file(tmp_path)
    report = str(tmp_path / "v.csv")
    with files_opened() as opened:
        checked = invoke_cli(["validate", str(source), "-m", str(mapping), "--report", report])
        ran = cli_run(source, mapping, tmp_path, cli_env)
    # The watch works (the workbook and the mapping were opened), and never saw the target.
    assert {str(source.resolve()), str(mapping.resolve())} <= set(opened)
    assert str(target.resolve()) not in opened
    for result in (checked, ran):
        assert result.exit_code == 2
        assert "holds an XML declaration (<!DOCTYPE w" in result.output
        assert canary not in result.output
    assert sandbox.requests() == [] and sandbox.events() == []
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file() and p != target]
    assert all(canary.encode() not in p.read_bytes() for p in leftovers)
    assert not (tmp_path / "v.csv").exists() and not (tmp_path / "report.csv").exists()


# --- empty, header only, odd headers, merged cells, hidden sheets -----------------------------


def test_empty_files_are_refused_with_a_clear_message(tmp_path: Path) -> None:
    mapping = mapping_file(tmp_path)
    empty_csv = tmp_path / "empty.csv"
    empty_csv.write_bytes(b"")
    book = openpyxl.Workbook()
    book.save(tmp_path / "empty.xlsx")
    for source, words in ((empty_csv, "the file is empty"), (tmp_path / "empty.xlsx", "is empty")):
        result = invoke_cli(["validate", str(source), "-m", str(mapping)])
        assert result.exit_code == 2
        assert f"file {source}" in result.output and words in result.output


def test_a_header_only_file_is_valid_and_sends_nothing(
    sandbox: SandboxHandle, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    source = write_csv(tmp_path / "in.csv", [])
    mapping = mapping_file(tmp_path)
    checked = invoke_cli(["validate", str(source), "-m", str(mapping)])
    assert checked.exit_code == 0 and "0 valid, 0 invalid rows" in checked.output
    result = cli_run(source, mapping, tmp_path, cli_env)
    assert result.exit_code == 0 and "no rows" in result.output
    assert sandbox.requests() == []
    assert read_report(tmp_path / "report.csv") == []


def test_odd_headers_merged_cells_and_hidden_sheets_read_as_excel_shows_them(
    sandbox: SandboxHandle, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    book = openpyxl.Workbook()
    archive = book.active
    assert archive is not None
    archive.title = "Archive"
    archive.sheet_state = "hidden"
    archive.append(HEADER)
    archive.append(list(rows_of({"Id": "old"})[0].values()))
    sheet = book.create_sheet("Appointments")
    sheet.append([*HEADER, "Notes", None])  # a repeated header, and a blank one over data
    for values in rows_of({"Title": "Merged title", "Notes": "first"}, {"Start": "10:00 AM"}):
        sheet.append([*values.values(), "second", "no header"])
    sheet.merge_cells("B2:B3")  # one title over both rows
    source = tmp_path / "odd.xlsx"
    book.save(source)

    checked = invoke_cli(["validate", str(source), "-m", str(mapping_file(tmp_path))])
    assert checked.exit_code == 0
    assert "the header 'Notes' appears 2 times (columns G, L)" in checked.output
    assert "'Notes (2)' (column L)" in checked.output
    assert "column(s) M have data but no header" in checked.output
    assert "2 valid, 0 invalid rows" in checked.output  # the merged title is on both rows

    result = cli_run(source, mapping_file(tmp_path), tmp_path, cli_env)
    assert result.exit_code == 0
    # The visible sheet, never the hidden archive.
    assert sorted(live_events(sandbox)) == ["c-1", "c-2"]
    event = live_events(sandbox)["c-1"]
    assert (event["title"], event["content"]) == ("Merged title", "first")
    assert live_events(sandbox)["c-2"]["title"] == "Merged title"
    report = read_report(tmp_path / "report.csv")
    assert [line["Notes (2)"] for line in report] == ["second", "second"]
    assert [line["Column M"] for line in report] == ["no header", "no header"]

    hidden = invoke_cli(
        ["validate", str(source), "-m", str(mapping_file(tmp_path)), "--sheet", "Archive"]
    )
    assert hidden.exit_code == 0
    assert "the sheet 'Archive' is hidden in Excel; read because it was named" in hidden.output


# --- files that are not what their name says ----------------------------------------------------


def text_named_xlsx(tmp_path: Path) -> Path:
    source = tmp_path / "renamed.xlsx"
    write_csv(source, rows_of({}))
    return source


@pytest.mark.parametrize(
    ("source", "words"),
    [
        (CORPUS / "protected.xlsx", "password-protected; remove the password in Excel"),
        (None, "not a workbook (it looks like text/CSV); if it is CSV, rename it"),
    ],
    ids=["password-protected", "text-renamed-xlsx"],
)
def test_files_that_are_not_readable_workbooks_get_a_clear_message(
    sandbox: SandboxHandle, tmp_path: Path, cli_env: dict[str, str], source: Path | None, words: str
) -> None:
    source = source or text_named_xlsx(tmp_path)
    checked = invoke_cli(["validate", str(source), "-m", str(mapping_file(tmp_path))])
    assert checked.exit_code == 2
    assert f"error: file {source}: " in checked.output and words in checked.output
    assert cli_run(source, mapping_file(tmp_path), tmp_path, cli_env).exit_code == 2
    assert sandbox.requests() == []


# --- one external_id on two rows ----------------------------------------------------------------


def test_rows_sharing_an_external_id_are_all_invalid_and_none_is_sent(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    # The mapping declares no unique column: the shared external_id alone must catch it.
    rows = rows_of({"Id": "7", "Title": "A"}, {"Id": "8"}, {"Id": "7", "Title": "B"})
    source = write_csv(tmp_path / "in.csv", rows)
    summary, report = run_in_process(sandbox, source, corpus_mapping(), tmp_path)
    assert summary.counts == {"created": 1, "invalid": 2}
    lines = by_row(report)
    for row in (2, 4):
        assert lines[row]["status"] == "invalid"
        assert "makes the appointment id 'c-7' of rows 2 and 4" in lines[row]["message"]
        assert lines[row]["apptoto_id"] == ""
    assert list(live_events(sandbox)) == ["c-8"]
    assert "c-7" not in sent_external_ids(sandbox)


def test_the_corpus_files_are_present() -> None:
    # make_corpus.py writes them; a missing one would silently shrink the table above.
    assert sorted(p.name for p in CORPUS.iterdir() if p.suffix != ".py") == [
        "legacy.xls",
        "protected.xlsx",
    ]
    assert os.path.getsize(CORPUS / "legacy.xls") < 64_000


def test_a_24_hour_export_saved_in_excel_validates_with_the_mapping_init_wrote(
    tmp_path: Path,
) -> None:
    # Excel shows 09:00 as 9:00 and saves it so. Without a format, a time with a one-digit hour
    # and no AM/PM is refused (a 12-hour time?); init sees hours past noon and says 24-hour.
    header = ["Appt ID", "Date", "Time", "Clinician", "Patient", "Mobile"]
    times = ["08:30", "09:00", "13:45", "16:10"]
    rows = [
        [f"A{n}", "14/12/2026", t, "Dr Patel", f"Pat {n}", "07911 123456"]
        for n, t in enumerate(times)
    ]
    export, saved = tmp_path / "export.csv", tmp_path / "saved.csv"
    for path, cells in ((export, times), (saved, [t.lstrip("0") for t in times])):
        lines = [header] + [
            [*row[:2], cell, *row[3:]] for row, cell in zip(rows, cells, strict=True)
        ]
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(lines)
    mapping = tmp_path / "surgery.yaml"
    made = invoke_cli(["init", str(export), "-o", str(mapping), "--time-zone", "Europe/London"])
    assert made.exit_code == 0, made.output
    assert 'time_format: "%H:%M"' in mapping.read_text(encoding="utf-8")
    checked = invoke_cli(["validate", str(saved), "-m", str(mapping)])
    assert "4 valid, 0 invalid rows" in checked.output, checked.output


def test_excel_s_error_texts_are_read_as_blank_and_said(tmp_path: Path) -> None:
    # "-bring your card" typed in Excel becomes #NAME?, and a CSV saved from Excel holds that.
    rows = rows_of(
        {"Notes": "#NAME?", "Phone": " #NAME? "},  # sent, without the lost values
        {"Start": "#VALUE!"},  # a start is needed: the row is refused, for the error alone
        {"Notes": "Reminder #2", "Ref": "#N/A"},
    )
    prepared = prepare(write_csv(tmp_path / "saved.csv", rows), corpus_mapping())
    payloads = prepared.events.payloads
    assert "content" not in payloads[2] or payloads[2]["content"] != "#NAME?"
    assert all("#" not in str(p.get("phone", "")) for p in payloads[2]["participants"])
    said = {(w.row, w.column, w.value) for w in prepared.warnings[2]}
    assert {(2, "Notes", "#NAME?"), (2, "Phone", " #NAME? ")} <= said
    excel = [w for w in prepared.warnings[2] if "is an error Excel showed" in w.reason]
    assert len(excel) == 2  # and "no phone or email": the row's one phone was the error
    [issue] = prepared.issues[3]
    assert (issue.column, issue.value) == ("Start", "#VALUE!")
    assert issue.reason.startswith("is an error Excel showed instead of the value")
    assert 3 not in prepared.warnings  # said once, as the row's issue
    assert payloads[4]["content"] == "Reminder #2" and 4 in prepared.warnings
    assert [w.column for w in prepared.warnings[4]] == ["Ref"]
    assert prepared.source.loc[2, "Notes"] == "#NAME?"  # the report shows the cell as written
