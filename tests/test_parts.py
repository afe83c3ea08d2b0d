"""A file read in parts (importer.streaming) does exactly what it does read whole.

The parts are a few rows each here, so every rule that needs the whole file crosses a part's
edge: an id shared by rows in different parts, a row copied far below, notes and a totals row at
the end, a title row above the header, blank rows, cancellations of rows that left the file.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from importer import appointments, file_facts, file_keys, parts_done, streaming
from importer.errors import LoadError
from importer.events import TemplateRenderer
from importer.file_keys import FileFacts, digests_of
from importer.ledger import Ledger
from importer.load import load_table, spool
from importer.load.parts import PART_ROWS, WHOLE_ROWS, PartReader
from importer.mapping import load_mapping
from importer.parts_done import routine_valid
from importer.pipeline import RunRequest, parts_of, run_import, validate_file
from importer.plan import PlanOptions
from importer.report import CsvLines, ReportWriter
from importer.streaming import checked_ahead, validate_parts
from importer.workers import PartPool
from tests.helpers import CLINIC_MAPPING, SAMPLES, fast_client_config, live_events, read_report

MAPPING = load_mapping(CLINIC_MAPPING)
ONE_PART = 1_000_000


def sample_rows() -> tuple[list[str], list[list[str]]]:
    with (SAMPLES / "appointments.csv").open(encoding="utf-8-sig", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def other_patient(row: list[str], header: list[str], block: int) -> list[str]:
    """``row`` for another patient of block ``block`` (name, phone, email of their own): the
    blocks are not double bookings of one another. Judged within a part only: see
    ``test_the_same_appointment_in_a_later_part_is_held_back_by_the_run``."""
    cells = dict(zip(header, row, strict=True))
    if block:
        cells["Last Name"] += f"-{block}"
        cells["Email"] = f"{block}{cells['Email']}" if cells["Email"] else ""
        phone = cells["Phone"]
        if phone[-1:].isdigit():
            cells["Phone"] = phone[:-1] + str((int(phone[-1]) + block) % 10)
    return [cells[name] for name in header]


def big_export(path: Path, *, copies: int = 5, drop: int = 0) -> Path:
    """The sample's 22 rows ``copies`` times with their own ids, under a title row, with a blank
    row, an id shared by a row far below, a row repeated cell for cell far below, and a totals
    row and a note at the end. ``drop``: leave out the first rows of the second block."""
    header, rows = sample_rows()
    lines: list[list[str]] = [["Clinic export, printed 12/01/2026"], [], header]
    for block in range(copies):
        for i, row in enumerate(rows):
            if block == 1 and i < drop:
                continue
            lines.append(other_patient([f"{block}{row[0]}", *row[1:]], header, block))
        lines.append([])
    first = [f"0{rows[0][0]}", *rows[0][1:]]
    lines.append(first)  # the first row again, cell for cell: one appointment
    other = other_patient([f"0{rows[2][0]}", *rows[4][1:]], header, 9)
    lines.append(other)  # another appointment under the third row's id: both invalid
    lines.append(["TOTAL", "", "", "", "", "", "", "", "", "", "", "", "", "", str(copies * 22)])
    lines.append(["Printed by the front desk"])
    return write_records(path, lines)


def export_records(path: Path) -> list[list[str]]:
    """The records of :func:`big_export`, written at ``path``, to be changed and written again
    (:func:`write_records`)."""
    return list(csv.reader(io.StringIO(big_export(path).read_text(encoding="utf-8"))))


def write_records(path: Path, records: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(records)
    return path


def request(path: Path, tmp_path: Path, part_rows: int, **changes: Any) -> RunRequest:
    fields: dict[str, Any] = {
        "source": path,
        "mapping": MAPPING,
        "report_path": tmp_path / f"report-{part_rows}.csv",
        "ledger_path": tmp_path / "state.sqlite",
        "part_rows": part_rows,
    }
    return RunRequest(**(fields | changes))


def lines(path: Path) -> list[tuple[str, ...]]:
    return [tuple(line.values()) for line in read_report(path)]


def test_the_file_is_read_in_several_parts_with_every_row_once(tmp_path: Path) -> None:
    path = big_export(tmp_path / "export.csv")
    reader = PartReader(path, part_rows=5)
    parts = list(reader.parts())
    assert reader.layout is not None and reader.layout.widened == 0  # read once
    assert len(parts) > 8
    rows = [r for p in parts for r in p.frame.index]
    assert rows == sorted(set(rows))
    aside = {r: why for p in parts for r, why in p.set_aside.items()}
    assert sorted(aside) == rows[-2:]  # the totals row and the note, judged at the file's end
    assert all(list(p.frame.columns) == list(parts[0].frame.columns) for p in parts)


@pytest.mark.parametrize("whole_rows", [20, 60, 200])
def test_a_file_of_at_most_whole_rows_rows_is_one_part_and_a_bigger_one_is_every_part(
    tmp_path: Path, whole_rows: int
) -> None:
    path = big_export(tmp_path / "export.csv")  # 116 rows below its header
    whole = next(PartReader(path, part_rows=ONE_PART).parts())
    parts = list(PartReader(path, part_rows=5, whole_rows=whole_rows).parts())
    if whole_rows >= len(whole.frame):
        assert len(parts) == 1
    else:
        # The parts held while the file might have been one are given, in order, with the rest.
        assert len(parts) > 1
    assert [w for p in parts for w in p.warnings] == list(whole.warnings)
    assert [r for p in parts for r in p.frame.index] == list(whole.frame.index)
    assert pd.concat([p.frame for p in parts]).equals(whole.frame)
    assert {r: why for p in parts for r, why in p.set_aside.items()} == whole.set_aside


@pytest.mark.parametrize("part_rows", [2, ONE_PART])
def test_the_reader_s_blank_cells_set_the_same_rows_aside_as_the_cells_themselves(
    tmp_path: Path, part_rows: int
) -> None:
    # The parts' sheets take which cells are blank from the CSV reader; load_table asks the
    # cells. Cells of spaces only, a column without a header, a row wider than the header, a
    # blank row and a row of one cell must come out the same either way.
    path = tmp_path / "day.csv"
    path.write_text(
        "Appt ID,Date,Time,,Patient\n"
        "A1,12/14/2026,8:30 AM,,Gail Abernathy\n"
        "A2,12/14/2026,  ,,Tom Baker\n"
        ",,,,\n"
        "A3,12/14/2026,9:30 AM,x,Ann Lee,extra\n"
        "   ,Lunch,,,\n"
        "A4,12/14/2026,10:00 AM,,Bo Chen\n"
        "TOTAL,,, ,4\n"
        "Printed by the front desk,,,,\n",
        encoding="utf-8",
    )
    whole = load_table(path)
    parts = list(PartReader(path, part_rows=part_rows).parts())
    assert pd.concat([p.frame for p in parts]).equals(whole.frame)
    assert {r: why for p in parts for r, why in p.set_aside.items()} == whole.set_aside
    assert sorted(whole.set_aside) == [6, 8, 9]  # lunch (one cell), the totals, the note


def test_a_file_is_checked_whole_up_to_whole_rows_and_sent_in_parts(tmp_path: Path) -> None:
    path = big_export(tmp_path / "export.csv")
    asked = RunRequest(path, MAPPING, part_rows=None)
    checked, sent = parts_of(asked), parts_of(asked, sending=True)
    assert (checked.reader.part_rows, checked.reader.whole_rows) == (PART_ROWS, WHOLE_ROWS)
    assert (sent.reader.part_rows, sent.reader.whole_rows) == (PART_ROWS, 0)
    exact = parts_of(replace(asked, part_rows=5))
    assert (exact.reader.part_rows, exact.reader.whole_rows) == (5, 0)


@pytest.mark.parametrize("part_rows", [1, 4, 7])
def test_validate_in_parts_reports_exactly_what_one_part_does(
    tmp_path: Path, part_rows: int
) -> None:
    path = big_export(tmp_path / "export.csv")
    whole = validate_file(request(path, tmp_path, ONE_PART))
    parted = validate_file(request(path, tmp_path, part_rows))
    assert whole.report_path is not None and parted.report_path is not None
    assert lines(parted.report_path) == lines(whole.report_path)
    assert parted.done.counts == whole.done.counts
    report = {line["row"]: line for line in read_report(parted.report_path)}
    last = max(int(row) for row in report)
    copy, other = report[str(last - 3)], report[str(last - 2)]  # far below, in another part
    assert copy["status"] == "skipped" and "same as row 4 " in copy["message"]
    assert report["6"]["status"] == other["status"] == "invalid"
    assert f"(rows 6, {last - 2})" in report["6"]["message"]
    assert [report[str(r)]["status"] for r in (last - 1, last)] == ["not an appointment"] * 2
    assert parted.warnings == whole.warnings
    # The rows kept in memory are those with something to say, in one part as in several; the
    # counts cover them all.
    assert sum(parted.done.counts.values()) == len(report)
    assert parted.done.results == whole.done.results
    assert len(whole.done.results) < len(report)
    assert all(r.status != "skipped" or r.warnings or r.reason for r in whole.done.results)


@pytest.mark.parametrize("part_rows", [4, ONE_PART])
def test_validate_without_a_report_counts_and_keeps_what_it_does_with_one(
    tmp_path: Path, part_rows: int
) -> None:
    # Without a report, a file in parts makes no result for its routine valid rows: they are
    # counted. The counts and the results kept must be those of the same check with a report.
    path = big_export(tmp_path / "export.csv")
    reported = validate_file(request(path, tmp_path, part_rows))
    unreported = validate_file(request(path, tmp_path, part_rows, report_path=None))
    assert unreported.report_path is None
    assert unreported.done.counts == reported.done.counts
    assert reported.report_path is not None
    assert sum(unreported.done.counts.values()) == len(read_report(reported.report_path))
    assert unreported.done.warned == reported.done.warned
    assert unreported.done.results == reported.done.results


@pytest.mark.parametrize("workers", [1, 2])
def test_a_run_in_parts_sends_each_appointment_once_and_a_rerun_sends_nothing(
    tmp_path: Path, sandbox: Any, workers: int
) -> None:
    # With workers, the first read's keys are worked out in other processes.
    path = big_export(tmp_path / "export.csv")
    config = fast_client_config(sandbox, batch_size=3)
    plan = run_import(request(path, tmp_path, ONE_PART, dry_run=True))
    summary = run_import(request(path, tmp_path, 12, client_config=config, workers=workers))
    assert summary.counts == {
        "created": plan.counts["create"],
        "invalid": plan.counts["invalid"],
        "skipped": plan.counts["skip"],
        "not an appointment": 2,
    }
    created = {line["external_id"] for line in read_report(tmp_path / "report-12.csv")}
    assert set(live_events(sandbox)) <= created
    assert len(live_events(sandbox)) == plan.counts["create"]
    assert sandbox.stats()["duplicates"] == []
    # Rows that would end a part's sending in a batch not full go with the next part's: the
    # requests of a whole file (parts of 12 rows, ~8 to send each, batches of 3).
    puts = [r for r in sandbox.requests() if r["method"] == "PUT"]
    assert len(puts) == math.ceil(plan.counts["create"] / 3)
    again = run_import(request(path, tmp_path, 12, client_config=config, workers=workers))
    assert again.counts["unchanged"] == plan.counts["create"]
    assert "created" not in again.counts and "updated" not in again.counts


@pytest.mark.parametrize("part_rows", [5, ONE_PART])
def test_cancel_missing_in_parts_counts_every_part_of_the_file(
    tmp_path: Path, sandbox: Any, part_rows: int
) -> None:
    config = fast_client_config(sandbox)
    full = big_export(tmp_path / "export.csv")
    run_import(request(full, tmp_path, part_rows, client_config=config))
    shorter = big_export(tmp_path / "shorter.csv", drop=2)  # two rows of block 1 left the file
    options = PlanOptions(cancel_missing=True, max_cancel_share=0.5)
    summary = run_import(
        request(shorter, tmp_path, part_rows, client_config=config, plan_options=options)
    )
    assert summary.counts["cancelled"] == 2
    assert summary.counts["unchanged"] > 20
    with Ledger.open(tmp_path / "state.sqlite") as ledger:
        gone = {e.external_id for e in ledger.live_entries(MAPPING.scope)}
    assert "clinic-1000101" not in gone and "clinic-2000101" in gone


@pytest.mark.parametrize("part_rows", [4, ONE_PART])
def test_ids_that_lost_their_zeros_in_excel_are_their_events_in_any_part(
    tmp_path: Path, sandbox: Any, part_rows: int
) -> None:
    # Block 0's ids start with zeros (0000101...), lost when the export is saved in Excel.
    config = fast_client_config(sandbox)
    path = big_export(tmp_path / "export.csv")
    first = run_import(request(path, tmp_path, part_rows, client_config=config))
    with path.open(encoding="utf-8", newline="") as handle:
        lines = [[str(int(c)) if c.isdigit() else c for c in line] for line in csv.reader(handle)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(lines)  # as Excel saves it: numbers without leading zeros
    options = PlanOptions(cancel_missing=True)
    plan = run_import(request(path, tmp_path, part_rows, dry_run=True, plan_options=options))
    again = run_import(
        request(path, tmp_path, part_rows, client_config=config, plan_options=options)
    )
    assert first.counts["created"] > 60
    # Every event unchanged, none created again nor cancelled (the rest as the first time).
    expected = {k: v for k, v in first.counts.items() if k != "created"}
    assert again.counts == {"unchanged": first.counts["created"], **expected}
    assert plan.counts["unchanged"] == first.counts["created"]
    assert not {"create", "cancel"} & set(plan.counts)
    assert sandbox.stats()["duplicates"] == []
    report = read_report(tmp_path / f"report-{part_rows}.csv")
    lost = [line for line in report if "with its leading zeros lost" in line["warnings"]]
    assert len(lost) > 10 and all(line["external_id"].startswith("clinic-0") for line in lost)


def test_a_file_over_the_cap_is_refused_before_anything_is_sent(
    tmp_path: Path, sandbox: Any
) -> None:
    from importer.errors import LoadError

    path = big_export(tmp_path / "export.csv")
    config = fast_client_config(sandbox)
    with pytest.raises(LoadError, match="raise the limit with --max-rows"):
        run_import(request(path, tmp_path, 5, client_config=config, max_rows=40))
    assert sandbox.events() == []


def test_a_wider_row_and_a_cp1252_byte_late_in_the_file_read_as_one_part_reads_them(
    tmp_path: Path,
) -> None:
    header, rows = sample_rows()
    path = tmp_path / "late.csv"
    body = [",".join(header)] + [",".join(f'"{c}"' for c in row) for row in rows[:3]]
    body += [",".join(f'"{c}"' for c in rows[3]) + ',"extra"']  # one cell more, late
    text = "\r\n".join(body).replace("Gómez", "Gomez").replace("’", "'") + "\r\n"
    data = text.encode("ascii") + '"000199",Caf\xe9\r\n'.encode("cp1252")
    path.write_bytes(data)
    whole = validate_file(request(path, tmp_path, ONE_PART))
    parted = validate_file(request(path, tmp_path, 1))
    assert whole.report_path is not None and parted.report_path is not None
    assert lines(parted.report_path) == lines(whole.report_path)
    assert any("Café" in cell for line in lines(parted.report_path) for cell in line)


@pytest.mark.parametrize("part_rows", [5, 40])
def test_cells_past_the_header_in_a_later_part_are_kept_as_in_a_file_read_whole(
    tmp_path: Path, part_rows: int
) -> None:
    # A row typed with two cells past the last header, far below the first part: read whole,
    # the file keeps them as 'Column P' and 'Column Q' (with a warning); its first part alone,
    # where those columns are blank, used to decide that every part left them out, so the
    # report lost them, silently.
    records = export_records(tmp_path / "export.csv")
    records[90] = [*records[90], "call her mother", "wheelchair"]
    path = write_records(tmp_path / "export.csv", records)
    whole = validate_file(request(path, tmp_path, ONE_PART))
    parted = validate_file(request(path, tmp_path, part_rows, workers=2))
    assert whole.report_path is not None and parted.report_path is not None
    assert lines(parted.report_path) == lines(whole.report_path)
    report = read_report(parted.report_path)
    assert [line["Column Q"] for line in report if line["Column P"]] == ["wheelchair"]
    assert parted.warnings == whole.warnings
    assert any("have data but no header" in w for w in parted.warnings)


@pytest.mark.parametrize("part_rows", [5, 40])
def test_rows_set_aside_in_every_part_are_said_once_for_the_file(
    tmp_path: Path, part_rows: int
) -> None:
    # A note typed under every eighth appointment: read whole, the first ten are named and the
    # rest counted in one line. Each part used to name its own first ten and count its own rest
    # (two parts' equal counts even merged into one line: the total was wrong).
    records = export_records(tmp_path / "export.csv")
    for at in range(len(records) - 4, 4, -8):
        records.insert(at, ["Patient called - will reschedule"])
    path = write_records(tmp_path / "export.csv", records)
    whole = validate_file(request(path, tmp_path, ONE_PART))
    parted = validate_file(request(path, tmp_path, part_rows, workers=2))
    assert parted.warnings == whole.warnings
    named = [w for w in parted.warnings if "Patient called" in w]
    assert len(named) == 10
    aside = whole.done.counter["not an appointment"]
    assert aside > 12  # the notes, the totals row and the line under it
    said = f"{aside - 10:,} more row(s) are not appointments (see the report): not sent"
    assert [w for w in parted.warnings if "more row(s)" in w] == [said]


def test_a_run_stopped_in_an_early_part_reports_every_later_row_as_not_sent(
    tmp_path: Path, sandbox: Any
) -> None:
    path = big_export(tmp_path / "export.csv")
    config = replace(fast_client_config(sandbox), api_key="wrong")
    summary = run_import(request(path, tmp_path, 4, client_config=config))
    assert summary.error
    report = read_report(tmp_path / "report-4.csv")
    assert len(report) == sum(summary.counts.values())
    assert {line["status"] for line in report} <= {"skipped", "invalid", "not an appointment"}
    assert sandbox.events() == []


def test_a_workbook_in_parts_reports_exactly_what_one_part_does(tmp_path: Path) -> None:
    from openpyxl import Workbook

    with big_export(tmp_path / "export.csv").open(encoding="utf-8", newline="") as handle:
        records = list(csv.reader(handle))
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Appointments"
    for record in records:
        sheet.append(record)  # an empty record is a blank row
    path = tmp_path / "export.xlsx"
    book.save(path)
    whole = validate_file(request(path, tmp_path, ONE_PART))
    parted = validate_file(request(path, tmp_path, 6))
    assert whole.report_path is not None and parted.report_path is not None
    assert lines(parted.report_path) == lines(whole.report_path)
    assert parted.done.counts == whole.done.counts
    assert parted.done.counts["invalid"] > 10 and parted.done.counts["not an appointment"] == 2


def test_cancel_missing_of_a_sheet_read_already_keeps_the_events_of_its_rows(
    tmp_path: Path, sandbox: Any
) -> None:
    # The web page and several-sheet runs pass a sheet already read (request.prepared).
    from importer.prepare import prepare

    config = fast_client_config(sandbox)
    full = big_export(tmp_path / "export.csv")
    run_import(request(full, tmp_path, ONE_PART, client_config=config))
    shorter = big_export(tmp_path / "shorter.csv", drop=2)
    options = PlanOptions(cancel_missing=True, max_cancel_share=0.5)
    given = prepare(shorter, MAPPING)
    asked = request(shorter, tmp_path, ONE_PART, client_config=config, plan_options=options)
    summary = run_import(replace(asked, prepared=given))
    assert summary.counts["cancelled"] == 2


def repeating_export(path: Path, *, moved: bool = False) -> Path:
    """The sample's 22 rows three times for other patients (rows 2-67), then row 2's visit
    again under another id (row 68, parts below). ``moved``: row 2 moved to 11:00, so row 68
    books the slot it left."""
    header, rows = sample_rows()
    lines = [
        other_patient([f"{block}{row[0]}", *row[1:]], header, block)
        for block in range(3)
        for row in rows
    ]
    again = ["000150", *lines[0][1:]]
    if moved:
        lines[0] = [*lines[0][:2], "11:00 AM", "11:30 AM", *lines[0][4:]]
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *lines, again])
    return path


def run_statuses(path: str | Path | None) -> dict[str, str]:
    """row -> status of a report, a plan's actions in a run's words."""
    assert path is not None
    words = {"create": "created", "update": "updated", "skip": "skipped"}
    lines = read_report(Path(path))
    return {line["row"]: words.get(line["status"], line["status"]) for line in lines}


@pytest.mark.parametrize("state", [True, False])
def test_the_same_appointment_in_a_later_part_is_held_back_by_the_plan_as_by_the_run(
    tmp_path: Path, sandbox: Any, state: bool
) -> None:
    path = repeating_export(tmp_path / "export.csv")
    ledger = tmp_path / "state.sqlite" if state else None
    config = fast_client_config(sandbox, batch_size=3)

    def report_of(name: str, part_rows: int, **changes: Any) -> Path:
        asked = request(path, tmp_path, part_rows, ledger_path=ledger, **changes)
        run_import(replace(asked, report_path=tmp_path / name))
        return tmp_path / name

    plan = report_of("plan.csv", 4, dry_run=True)
    whole = report_of("whole.csv", ONE_PART, dry_run=True)
    run = report_of("run.csv", 4, client_config=config)
    planned = run_statuses(plan)
    assert planned["68"] == "skipped" and planned["2"] == "created"
    assert planned == run_statuses(whole) == run_statuses(run)
    [held] = [line["message"] for line in read_report(plan) if line["row"] == "68"]
    assert held.startswith("not sent: it looks like the same appointment as row 2 of this file")
    assert "clinic-000150" not in live_events(sandbox)
    assert len(live_events(sandbox)) == list(planned.values()).count("created") == 42


def test_a_visit_moved_by_an_early_part_frees_its_slot_for_a_later_part_in_the_plan_too(
    tmp_path: Path, sandbox: Any
) -> None:
    config = fast_client_config(sandbox, batch_size=3)
    first = repeating_export(tmp_path / "first.csv")
    run_import(request(first, tmp_path, 4, client_config=config))
    moved = repeating_export(tmp_path / "moved.csv", moved=True)
    plan = run_import(
        replace(request(moved, tmp_path, 4, dry_run=True), report_path=tmp_path / "plan.csv")
    )
    run = run_import(request(moved, tmp_path, 4, client_config=config))
    planned = run_statuses(plan.report_path)
    assert (planned["2"], planned["68"]) == ("updated", "created")
    assert planned == run_statuses(run.report_path)
    assert "clinic-000150" in live_events(sandbox)


def test_the_ids_of_a_file_in_parts_answer_which_ids_it_lacks() -> None:
    """``FileFacts.absent`` over the ids of every part, repeats and all: the ids in the file are
    found, the others are not (``--cancel-missing`` cancels by this answer)."""
    in_file = [f"clinic-{n:06d}" for n in range(0, 3000, 3)] * 2  # each id twice
    asked = [f"clinic-{n:06d}" for n in range(3000)]
    for ids in (digests_of(in_file), file_keys.id_digests(in_file[::-1])):  # any order will do
        facts = FileFacts(2, ids=ids)
        assert facts.absent(asked) == [n % 3 != 0 for n in range(3000)]
    assert FileFacts(1, ids=digests_of([])).absent(["clinic-000001"]) == [True]


NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("reported", [True, False])
def test_validate_in_worker_processes_reports_exactly_what_one_process_does(
    tmp_path: Path, reported: bool
) -> None:
    path = big_export(tmp_path / "export.csv")
    report = {} if reported else {"report_path": None}
    alone = validate_file(request(path, tmp_path / "a", 4, now=NOW, **report))
    together = validate_file(request(path, tmp_path / "b", 4, now=NOW, workers=2, **report))
    assert together.done.counts == alone.done.counts
    assert together.done.results == alone.done.results
    assert together.done.warned == alone.done.warned
    assert together.warnings == alone.warnings
    if reported:
        assert alone.report_path is not None and together.report_path is not None
        assert lines(together.report_path) == lines(alone.report_path)
        whole = validate_file(request(path, tmp_path / "c", ONE_PART, now=NOW))
        assert whole.report_path is not None
        assert lines(together.report_path) == lines(whole.report_path)


def test_each_part_is_checked_as_it_is_read_and_again_only_if_other_parts_change_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # big_export has a copy of row 4 and a second row under row 6's id far below: the parts
    # holding those rows are checked again with the whole file's facts; every other part's
    # check, made while the file was read, is the one that counts.
    path = big_export(tmp_path / "export.csv")
    checked: list[tuple[int, ...]] = []
    real = file_facts.prepare_sheet

    def counted(part: Any, *args: Any, **kwargs: Any) -> Any:
        checked.append(tuple(part.frame.index))
        return real(part, *args, **kwargs)

    monkeypatch.setattr(file_facts, "prepare_sheet", counted)
    parts = parts_of(request(path, tmp_path, 4, now=NOW))
    with PartPool(1) as pool:
        parts.check(pool, ahead=checked_ahead(parts, None))
        first_read, checked[:] = list(checked), []
        done = validate_parts(parts, None, pool)
    assert parts.facts is not None and len(first_read) == parts.facts.parts > 10
    part_of = {row: rows for rows in first_read for row in rows}
    # A copy's part (not its first row's), and every part holding a row of an id held across.
    facts = parts.facts
    across = {part_of[row] for row, first in facts.copies.items() if part_of[first] != part_of[row]}
    for rows in facts.shared.values():
        if len({part_of[row] for row in rows}) > 1:
            across.update(part_of[row] for row in rows)
    last = max(first_read[-1])  # the note at the end
    assert {part_of[6], part_of[last - 2]} <= across  # row 6's id again, far below
    assert part_of[last - 3] in across  # a copy of row 4
    assert sorted(checked) == sorted(across)
    assert len(across) < len(first_read) / 2
    expected = validate_file(request(path, tmp_path / "a", ONE_PART, now=NOW, report_path=None))
    assert done.counts == expected.done.counts


@pytest.mark.parametrize("rows", [4, ONE_PART])
def test_each_part_s_appointments_are_read_once_for_its_keys_and_its_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: int
) -> None:
    # A part's keys (or, for a file of one part, its ids) and its check both need the part's
    # appointments: read once per part as the file is first read (a part checked again, as
    # other parts change it, reads them again), and the check is the same.
    path = big_export(tmp_path / "export.csv")
    expected = validate_file(request(path, tmp_path / "a", rows, now=NOW))
    read: list[int] = []
    real = appointments._appointments_of

    def counted(part: Any, mapping: Any) -> Any:
        read.append(id(part))
        return real(part, mapping)

    monkeypatch.setattr(appointments, "_appointments_of", counted)
    # Their ids too: rendered once for the keys and the check (the renderer is the
    # appointments'), once more for a part checked again.
    ids_rendered: list[int] = []
    join = TemplateRenderer._join_distinct

    def rendered(cells: TemplateRenderer, template: Any) -> Any:
        if template == MAPPING.event.external_id:
            ids_rendered.append(id(cells))
        return join(cells, template)

    monkeypatch.setattr(TemplateRenderer, "_join_distinct", rendered)
    parts = parts_of(request(path, tmp_path / "b", rows, now=NOW))
    with PartPool(1) as pool:
        report = ReportWriter(tmp_path / "report.csv")
        parts.check(pool, ahead=checked_ahead(parts, report))
        first_read, read[:] = len(read), []
        assert len(ids_rendered) == first_read
        done = validate_parts(parts, report, pool)
    assert parts.facts is not None and first_read == parts.facts.parts
    assert len(read) == (0 if rows == ONE_PART else 4)  # the 4 parts other parts change
    assert expected.report_path is not None
    assert lines(report.finish()) == lines(expected.report_path)
    assert done.counts == expected.done.counts


def test_a_part_checked_for_its_report_sends_back_only_the_rows_with_something_to_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its report lines have every row; its results only the rows a person should read: the
    # routine valid rows are counted (a worker pickled 50,000 results a part, ~1 s a 1,000,000
    # rows for the command's own process to take back).
    path = big_export(tmp_path / "export.csv")
    expected = validate_file(request(path, tmp_path / "a", ONE_PART, now=NOW))
    sent: list[streaming.PartChecked] = []
    real = streaming.checked_part

    def kept(*args: Any) -> streaming.PartChecked:
        sent.append(real(*args))
        return sent[-1]

    monkeypatch.setattr(streaming, "checked_part", kept)
    parts = parts_of(request(path, tmp_path / "b", 4, now=NOW))
    with PartPool(1) as pool:
        report = ReportWriter(tmp_path / "report.csv")
        parts.check(pool, ahead=checked_ahead(parts, report))
        done = validate_parts(parts, report, pool)
    assert len(sent) > 10
    # The lines come written as CSV (the report is one CSV file), a line for every row.
    for part in sent:
        assert isinstance(part.lines, CsvLines)
        text = b"".join(part.lines.data).decode()
        assert len(list(csv.reader(io.StringIO(text)))) == part.rows
    results = [r for part in sent for r in part.results]
    assert results and not any(routine_valid(r) for r in results)
    assert expected.report_path is not None
    assert lines(report.finish()) == lines(expected.report_path)
    assert done.counts == expected.done.counts


def test_appointments_are_remembered_only_within_the_block_and_for_the_same_sheet() -> None:
    sheet = load_table(SAMPLES / "appointments.csv")
    with appointments.appointments_remembered():
        first = appointments.appointments_of(sheet, MAPPING)
        assert appointments.appointments_of(sheet, MAPPING) is first
        renamed = replace(sheet, file="other.csv")  # {@file} may read differently
        assert appointments.appointments_of(renamed, MAPPING) is not first
    assert appointments.appointments_of(sheet, MAPPING) is not first


def test_a_check_made_ahead_for_another_purpose_is_not_taken(tmp_path: Path) -> None:
    # Checked ahead without a report (no report lines made), then asked for one: every part is
    # checked again, and the report has every row.
    path = big_export(tmp_path / "export.csv")
    expected = validate_file(request(path, tmp_path / "a", 4, now=NOW))
    parts = parts_of(request(path, tmp_path, 4, now=NOW))
    report = ReportWriter(tmp_path / "report.csv")
    with PartPool(1) as pool:
        parts.check(pool, ahead=checked_ahead(parts, None))
        done = validate_parts(parts, report, pool)
    written = report.finish()
    assert expected.report_path is not None
    assert lines(written) == lines(expected.report_path)
    assert done.counts == expected.done.counts


def test_a_file_whose_layout_is_learnt_late_is_checked_alike_by_worker_processes(
    tmp_path: Path,
) -> None:
    header, rows = sample_rows()
    path = tmp_path / "late.csv"
    body = [",".join(header)] + [",".join(f'"{c}"' for c in row) for row in rows]
    body += [",".join(f'"{c}"' for c in rows[3]) + ',"extra"']  # one cell more, late
    path.write_text("\r\n".join(body) + "\r\n", encoding="utf-8")
    alone = validate_file(request(path, tmp_path / "a", 3, now=NOW))
    together = validate_file(request(path, tmp_path / "b", 3, now=NOW, workers=2))
    assert alone.report_path is not None and together.report_path is not None
    assert lines(together.report_path) == lines(alone.report_path)


def test_a_file_in_parts_is_parsed_once_its_parts_kept_until_checked(tmp_path: Path) -> None:
    path = big_export(tmp_path / "export.csv")
    expected = validate_file(request(path, tmp_path / "a", 4, now=NOW))
    parts = parts_of(request(path, tmp_path, 4, now=NOW))
    parts.check()
    path.write_text("Not,the,file\n1,2,3\n", encoding="utf-8")  # changed after the first read
    done = validate_parts(parts, None)
    assert done.counts == expected.done.counts


def test_without_a_temporary_file_the_parts_are_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = big_export(tmp_path / "export.csv")
    expected = validate_file(request(path, tmp_path / "a", 4, now=NOW))

    def no_room(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    # The spool's temporary file only (the report's is made elsewhere).
    monkeypatch.setattr(spool, "tempfile", SimpleNamespace(TemporaryFile=no_room))
    again = validate_file(request(path, tmp_path / "b", 4, now=NOW))
    assert again.report_path is not None and expected.report_path is not None
    assert lines(again.report_path) == lines(expected.report_path)


def test_a_file_read_in_parts_is_judged_by_its_bytes_as_a_whole_one_is(tmp_path: Path) -> None:
    # The part reader refuses in plain words what load_table refuses, and reads a workbook
    # saved under a CSV name as a workbook.
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    pdf = tmp_path / "export.csv"
    pdf.write_bytes(b"%PDF-1.4 appointments")
    refused = {
        tmp_path / "nope.csv": "the file does not exist",
        folder: "this is a folder, not a file",
        pdf: "this is a PDF document, not a spreadsheet",
    }
    for path, said in refused.items():
        with pytest.raises(LoadError, match=said) as caught:
            validate_file(request(path, tmp_path, 4, report_path=None))
        assert caught.value.file == str(path)
    renamed = tmp_path / "saved-as.csv"
    renamed.write_bytes((SAMPLES / "appointments.xlsx").read_bytes())
    checked = validate_file(request(renamed, tmp_path, 4, report_path=None))
    expected = validate_file(request(SAMPLES / "appointments.xlsx", tmp_path, 4, report_path=None))
    assert checked.done.counts == expected.done.counts


@pytest.mark.parametrize("part_rows", [5, ONE_PART])
def test_a_moved_visit_under_a_new_id_is_said_in_any_part(
    tmp_path: Path, sandbox: Any, part_rows: int
) -> None:
    # The old event's row is gone from the whole file, not only from the new row's part.
    config = fast_client_config(sandbox)
    run_import(
        request(big_export(tmp_path / "export.csv"), tmp_path, part_rows, client_config=config)
    )
    shorter = big_export(tmp_path / "moved.csv", drop=1)  # 1000101 left the file ...
    header, rows = sample_rows()
    moved = other_patient([f"9{rows[0][0]}", *rows[0][1:]], header, 1)
    moved[header.index("Start")], moved[header.index("End")] = "11:00 AM", "11:30 AM"
    with shorter.open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerow(moved)  # ... and comes back later that day, under a new id
    summary = run_import(request(shorter, tmp_path, part_rows, client_config=config))
    assert summary.counts["created"] == 1
    [line] = [
        r for r in read_report(tmp_path / f"report-{part_rows}.csv") if r["status"] == "created"
    ]
    assert line["external_id"] == "clinic-9000101"
    assert "looks like a new time for the appointment sent as event" in line["warnings"]
    assert "clinic-1000101" in live_events(sandbox)  # not cancelled: the run was not asked to


def test_a_reader_guesses_from_a_csv_file_s_size_whether_it_holds_more_than_one_part(
    tmp_path: Path,
) -> None:
    # The guess starts the workers' server while the file is read; a wrong guess costs only that.
    long = big_export(tmp_path / "long.csv", copies=60)  # ~1,300 rows, more than 64 KiB
    short = big_export(tmp_path / "short.csv", copies=5)  # ~110 rows
    assert long.stat().st_size > 65_536
    assert PartReader(long, part_rows=200, whole_rows=400).likely_several()
    # A file of about one part's rows is not guessed longer: a wrong guess starts a server
    lines = long.read_bytes().count(b"\n")
    assert not PartReader(long, part_rows=200, whole_rows=lines).likely_several()
    assert not PartReader(long, part_rows=200, whole_rows=lines * 9 // 10).likely_several()
    assert not PartReader(long, part_rows=200, whole_rows=4_000).likely_several()
    assert not PartReader(long, part_rows=4_000).likely_several()
    assert not PartReader(short, part_rows=20).likely_several()  # read whole in a blink
    assert not PartReader(tmp_path / "missing.csv").likely_several()


def test_a_reader_guesses_from_a_workbook_s_last_row_whether_it_holds_more_than_one_part(
    tmp_path: Path,
) -> None:
    # The safety check counts a sheet's rows before it is parsed; a workbook whose sheet the
    # reader cannot tell (several, none named; .xls) or whose rows are few is not guessed long.
    table = pd.read_csv(big_export(tmp_path / "long.csv", copies=60), dtype=str, skiprows=2)
    long, short, two = tmp_path / "long.xlsx", tmp_path / "short.xlsx", tmp_path / "two.xlsx"
    table.to_excel(long, index=False, sheet_name="Appointments")
    table.head(100).to_excel(short, index=False)
    with pd.ExcelWriter(two) as writer:
        table.to_excel(writer, index=False, sheet_name="Monday")
        table.head(5).to_excel(writer, index=False, sheet_name="Tuesday")
    assert len(table) > 1_300
    assert PartReader(long, part_rows=200, whole_rows=400).likely_several()
    assert PartReader(long, sheet="Appointments", part_rows=200).likely_several()
    assert not PartReader(long, part_rows=200, whole_rows=len(table)).likely_several()
    assert not PartReader(long, sheet="Other", part_rows=200).likely_several()
    assert not PartReader(short, part_rows=200).likely_several()
    assert not PartReader(two, part_rows=200).likely_several()  # which sheet: told later
    assert PartReader(two, sheet="Monday", part_rows=200).likely_several()
    assert not PartReader(two, sheet="Tuesday", part_rows=200).likely_several()
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(long.read_bytes()[:5_000])
    assert not PartReader(broken, part_rows=200).likely_several()  # parts() says what is wrong


class _Warmed(PartPool):
    """A pool that works here and counts the calls to start its workers' server ahead."""

    def __init__(self) -> None:
        super().__init__(1)
        self.warmed = 0

    def warm_up(self) -> None:
        self.warmed += 1


def test_checking_a_file_of_several_parts_starts_the_workers_server_before_reading_it(
    tmp_path: Path,
) -> None:
    long = big_export(tmp_path / "long.csv", copies=60)
    workbook = tmp_path / "long.xlsx"
    pd.read_csv(long, dtype=str, skiprows=2).to_excel(workbook, index=False)
    for path, part_rows, warmed in (
        (long, 200, 1),
        (long, ONE_PART, 0),
        (workbook, 200, 1),
        (workbook, ONE_PART, 0),
    ):
        pool = _Warmed()
        facts = file_facts.PreparedParts(path, MAPPING, part_rows=part_rows).check(pool)
        assert pool.warmed == warmed
        assert (facts.parts > 1) == bool(warmed)


def test_the_whole_file_s_copies_and_shared_keys_are_every_repeat_and_only_those() -> None:
    # What the keys of every part say, against the definitions written out row by row: keys that
    # repeat (a few), keys that do not (most), and 0 (no key) among them, rows in any order.
    rng = np.random.default_rng(7)
    rows = rng.permutation(np.arange(2, 3_002, dtype=np.int64))
    keys = rng.integers(0, 2_500, len(rows)).astype(np.uint64)  # ~1 in 6 repeat; some 0
    first: dict[int, int] = {}
    copies: dict[int, int] = {}
    together: dict[int, list[int]] = {}
    for row, key in sorted(zip(rows.tolist(), keys.tolist(), strict=True)):
        if key in first:
            copies[row] = first[key]
        first.setdefault(key, row)
        together.setdefault(key, []).append(row)
    assert file_keys._copies(rows, keys) == copies
    shared = {
        row: tuple(all_) for key, all_ in together.items() if key and len(all_) > 1 for row in all_
    }
    assert file_keys._groups(rows, keys) == shared
    assert copies and shared and 0 in set(keys.tolist())


@pytest.mark.parametrize("table_keys", [1 << 20, 100, 1])
def test_keys_that_repeat_are_found_in_one_table_or_a_range_of_values_at_a_time(
    table_keys: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A big file's keys are hashed a range of values at a time (each range's table small): the
    # repeats found are those of the whole, keys at both ends of the 64 bits and 0 among them.
    monkeypatch.setattr(file_keys, "_TABLE_KEYS", table_keys)
    rng = np.random.default_rng(11)
    keys = rng.integers(0, 2**64 - 1, 3_000, dtype=np.uint64, endpoint=True)
    keys[rng.integers(0, 3_000, 400)] = keys[rng.integers(0, 3_000, 400)]
    keys[:4] = [0, 0, 2**64 - 1, 2**64 - 1]
    counts = Counter(keys.tolist())
    assert file_keys._repeated(keys).tolist() == [counts[k] > 1 for k in keys.tolist()]
    rows = rng.permutation(np.arange(2, 3_002, dtype=np.int64))
    first: dict[int, int] = {}
    for row, key in sorted(zip(rows.tolist(), keys.tolist(), strict=True)):
        first.setdefault(key, row)
    copies = {
        r: first[k] for r, k in zip(rows.tolist(), keys.tolist(), strict=True) if first[k] != r
    }
    assert file_keys._copies(rows, keys) == copies and len(copies) > 300


def test_the_keys_of_every_part_give_the_file_s_facts_and_are_let_go_once_joined() -> None:
    # Three parts: row 9 repeats row 2 cell for cell (a copy, with its id), rows 3 and 8 share an
    # id, rows 4 and 7 an appointment number; rows 5 and 6 have no id and no number.
    keys = file_keys.FileKeys(MAPPING)
    d = file_keys.id_digests
    cells = d([f"row {n}" for n in range(2, 10)])
    cells[7] = cells[0]
    ids = d(["a", "b", "c", "x", "x", "d", "b", "a"])
    ids[3:5] = 0
    numbers = d(["1", "2", "3", "x", "x", "3", "5", "1"])
    numbers[3:5] = 0
    for part in (slice(0, 3), slice(3, 6), slice(6, 8)):
        keys.add(
            file_keys.PartKeys(
                np.arange(2, 10)[part],
                cells[part],
                ids[part],
                {"Appointment ID": numbers[part]},
                (),
            )
        )
    facts = keys.facts(3)
    assert facts.copies == {9: 2}
    assert facts.shared == {3: (3, 8), 8: (3, 8)}  # the copy shares its first row's id
    assert facts.unique == {"Appointment ID": {4: (4, 7), 7: (4, 7)}}
    assert facts.absent(["a", "b", "c", "d", "e"]) == [False, False, False, False, True]
    # Held once: each part's keys were let go as they were joined.
    assert keys.rows == keys.cells == keys.ids == [] and keys.values == {}


def test_a_row_s_digest_is_the_same_in_any_part_and_a_blank_cell_is_not_the_text_nan() -> None:
    # A column is hashed one way when its first cells repeat (factorized) and another when they
    # do not (cell by cell): a text has one digest either way, so a row repeated in a part read
    # the other way is still found a copy. A blank cell is not "nan", "None" or "".
    texts = ["Dr Lee", "nan", "None", "<NA>", "", None, "Dr Khan"]
    repeating = np.array(texts * 100, dtype=object)
    varied = np.array([*texts, *(f"id {n}" for n in range(1_000))], dtype=object)
    by_factor, by_cell = file_keys._cell_digests(repeating), file_keys._cell_digests(varied)
    assert len(set(repeating[:512].tolist())) <= file_keys._FEW_DISTINCT < len(set(varied[:512]))
    assert by_factor[: len(texts)].tolist() == by_cell[: len(texts)].tolist()
    assert len(set(by_cell[: len(texts)].tolist())) == len(texts)
    nan_row = pd.DataFrame({"a": ["x", "x"], "b": [None, "nan"]}, dtype="str")
    digests = file_keys.row_digests(nan_row)
    assert digests[0] != digests[1]
    # Columns in another order are another row; the same row in another frame is the same.
    assert file_keys.row_digests(nan_row[["b", "a"]])[0] != digests[0]
    again = pd.DataFrame({"a": ["y", "x"], "b": ["z", None]}, index=[40, 41], dtype="str")
    assert file_keys.row_digests(again)[1] == digests[0]


@pytest.mark.parametrize("part_rows", [4, ONE_PART])
def test_invalid_rows_and_rows_with_warnings_past_the_first_are_counted_not_kept(
    tmp_path: Path, part_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every valid row has a warning (the visits are in the past by 2030): a result kept per row
    # would make memory grow with the file, as would one per invalid row of a file of mistakes.
    # The first rows' are kept, the rest counted; the counts, the rows with warnings and the
    # report are those of every row.
    path = big_export(tmp_path / "export.csv")
    later = datetime(2030, 1, 1, tzinfo=UTC)
    every = validate_file(request(path, tmp_path / "a", part_rows, now=later))
    monkeypatch.setattr(parts_done, "WARNED_KEPT", 4)
    monkeypatch.setattr(parts_done, "INVALID_KEPT", 1)
    few = validate_file(request(path, tmp_path / "b", part_rows, now=later))
    assert few.report_path is not None and every.report_path is not None
    assert lines(few.report_path) == lines(every.report_path)
    assert few.done.counts == every.done.counts and few.done.warned == every.done.warned
    valid = parts_done.VALID_MESSAGE
    warned = [r for r in every.done.results if r.warnings and r.message == valid]
    assert len(warned) > 50
    kept = [r for r in few.done.results if r.warnings and r.message == valid]
    assert kept == warned[:4]
    assert few.done.left.warned_valid == len(warned) - 4
    assert few.done.left.warnings == sum(len(r.warnings) for r in warned[4:])
    invalid = [r for r in every.done.results if r.status == "invalid"]
    assert len(invalid) >= 2 and any(r.warnings for r in invalid)
    assert [r for r in few.done.results if r.status == "invalid"] == invalid[:1]
    assert few.done.left.invalid == len(invalid) - 1
    others = [r for r in every.done.results if r not in warned and r not in invalid]
    rest = [r for r in few.done.results if r not in kept and r not in invalid]
    assert rest == others and others  # copies, rows set aside: all kept
    # A plan in parts likewise: its summary counts every row with warnings.
    planned = run_import(request(path, tmp_path / "c", part_rows, now=later, dry_run=True))
    monkeypatch.setattr(parts_done, "WARNED_KEPT", 1_000)
    whole = run_import(request(path, tmp_path / "d", part_rows, now=later, dry_run=True))
    assert planned.warned == whole.warned > 50
    planned_invalid = sum(1 for r in planned.results if r.status == "invalid")
    assert planned_invalid + planned.invalid_left_out == whole.counts["invalid"]
    assert planned.to_json()["rows_with_warnings"] == whole.to_json()["rows_with_warnings"]
    assert planned.counts == whole.counts
