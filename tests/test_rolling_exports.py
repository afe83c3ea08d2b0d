"""A nightly export of the days ahead, run with ``--cancel-missing``: the file speaks for its
days from its first on. Today's visits, not over when the export runs at night and not in a
file of tomorrow's, are neither cancelled nor counted by the guard. Before, such a run was
refused every night (every live event of today "missing"), so no reminder went out at all; with
``--force`` it would have deleted today's appointments. Run against the sandbox."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from importer.errors import PlanRefused
from importer.events import first_day
from importer.pipeline import RunRequest
from importer.plan import PlanOptions
from importer.several_sheets import run_sheets
from importer.web.review_tally import ShownLimits, tally_review
from tests.hand_kept import SheetSpec, write_workbook
from tests.helpers import fast_client_config, live_events, read_report
from tests.test_cancelled_rows import HEADER, MAPPING, export, run

# The export runs at 2:30 AM in Chicago: the day's visits are all ahead.
MONDAY_NIGHT = datetime(2026, 12, 14, 8, 30, tzinfo=UTC)
TUESDAY_NIGHT = datetime(2026, 12, 15, 8, 30, tzinfo=UTC)
TUESDAY = [
    ["601", "12/15/2026", "9:30 AM", "Dr Ray", "Ann Lee", "541-555-0107", "Booked"],
    ["602", "12/15/2026", "10:30 AM", "Dr Ray", "Bo Chen", "541-555-0108", "Booked"],
    ["603", "12/15/2026", "2:30 PM", "Dr Ray", "Cy Diaz", "541-555-0109", "Booked"],
]
WEDNESDAY = [
    ["611", "12/16/2026", "9:30 AM", "Dr Ray", "Di Park", "541-555-0110", "Booked"],
    ["612", "12/16/2026", "11:00 AM", "Dr Ray", "Ed Moss", "541-555-0111", "Booked"],
    ["613", "12/16/2026", "1:00 PM", "Dr Ray", "Flo Ng", "541-555-0112", "Booked"],
    ["614", "12/16/2026", "3:00 PM", "Dr Ray", "Gus Roy", "541-555-0113", "Booked"],
]


THURSDAY = [["621", "12/17/2026", "9:30 AM", "Dr Ray", "Hal Ott", "541-555-0114", "Booked"]]


def nightly(
    sandbox: Any,
    tmp_path: Path,
    name: str,
    rows: list[list[str]],
    now: datetime,
    *,
    part_rows: int | None = None,
    dry_run: bool = False,
    **options: Any,
) -> list[dict[str, str]]:
    """The export of ``rows`` run at ``now`` with ``--cancel-missing`` (the README's recipe)."""
    plan = PlanOptions(cancel_missing=True, now=now, **options)
    source = export(tmp_path / name, rows)
    return run(
        sandbox, source, tmp_path, now=now, part_rows=part_rows, plan_options=plan, dry_run=dry_run
    )


def statuses(lines: list[dict[str, str]]) -> dict[str, str]:
    return {line["external_id"]: line["status"] for line in lines}


@pytest.mark.parametrize("part_rows", [None, 2])
def test_an_export_of_tomorrow_leaves_todays_visits_alone(
    sandbox: Any, tmp_path: Path, part_rows: int | None
) -> None:
    nightly(sandbox, tmp_path, "tuesday.csv", TUESDAY, MONDAY_NIGHT)
    # Tuesday 2:30 AM: the file holds Wednesday's visits; Tuesday's are today's, not over.
    lines = nightly(
        sandbox, tmp_path, "wednesday.csv", WEDNESDAY, TUESDAY_NIGHT, part_rows=part_rows
    )
    assert set(statuses(lines).values()) == {"created"}
    assert sorted(live_events(sandbox)) == [
        f"appt-{i}" for i in (601, 602, 603, 611, 612, 613, 614)
    ]


def test_a_visit_called_off_on_the_files_days_is_still_cancelled(
    sandbox: Any, tmp_path: Path
) -> None:
    nightly(sandbox, tmp_path, "tuesday.csv", TUESDAY, MONDAY_NIGHT)
    nightly(sandbox, tmp_path, "wednesday.csv", WEDNESDAY, MONDAY_NIGHT)
    # Tuesday night: an export of Wednesday and Thursday, and 612 left it (called off).
    # Thursday's visit is new; Tuesday's, today's, are not the file's to cancel.
    kept = [row for row in WEDNESDAY if row[0] != "612"]
    # 1 of Wednesday's 4 is past the 10% guard: forced, as a person would after checking.
    lines = nightly(sandbox, tmp_path, "wed-thu.csv", kept + THURSDAY, TUESDAY_NIGHT, force=True)
    assert statuses(lines)["appt-612"] == "cancelled"
    assert "appt-612" not in live_events(sandbox)
    assert {"appt-601", "appt-602", "appt-603", "appt-621"} <= set(live_events(sandbox))


def test_a_day_whose_visits_are_all_marked_cancelled_is_a_day_of_the_file(
    sandbox: Any, tmp_path: Path
) -> None:
    # The practice called Wednesday off: every row of it is marked, and Thursday is booked.
    # Wednesday is still the file's first day, so Wednesday's events are cancelled; the file
    # says so of each, so the guard lets it be (4 of 4, without --force).
    nightly(sandbox, tmp_path, "wednesday.csv", WEDNESDAY, MONDAY_NIGHT)
    off = [[*row[:-1], "Cancelled"] for row in WEDNESDAY]
    lines = nightly(sandbox, tmp_path, "again.csv", off + THURSDAY, MONDAY_NIGHT)
    assert sorted(live_events(sandbox)) == ["appt-621"]
    assert [s for i, s in statuses(lines).items() if i.startswith("appt-61")] == ["cancelled"] * 4


def test_the_guard_counts_from_the_files_first_day_and_names_it(
    sandbox: Any, tmp_path: Path
) -> None:
    nightly(sandbox, tmp_path, "tuesday.csv", TUESDAY, MONDAY_NIGHT)
    nightly(sandbox, tmp_path, "wednesday.csv", WEDNESDAY, TUESDAY_NIGHT)
    # A Wednesday file missing three of its four visits: 3 of Wednesday's 4, not of all 7.
    with pytest.raises(PlanRefused) as refused:
        nightly(sandbox, tmp_path, "partial.csv", WEDNESDAY[:1], TUESDAY_NIGHT)
    assert str(refused.value).startswith(
        "--cancel-missing would cancel 3 of the 4 events from the file's first day (Wednesday "
        "16 December 2026) on that mapping 'Practice export' created, whose rows are not in "
        "the file (75%, more than the 10% guard); nothing was sent."
    )
    assert len(live_events(sandbox)) == 7


@pytest.mark.parametrize("part_rows", [None, 2])
def test_a_day_called_off_in_a_week_is_cancelled_and_the_guard_weighs_only_rows_left_out(
    sandbox: Any, tmp_path: Path, part_rows: int | None
) -> None:
    # A snow day: the practice marks Tuesday's visits cancelled (3 of the week's 7). The file
    # is complete, and says so of each row: refused, the closed day's reminders went out and
    # nobody else's were sent.
    nightly(sandbox, tmp_path, "week.csv", TUESDAY + WEDNESDAY, MONDAY_NIGHT)
    snow = [[*row[:-1], "Cancelled"] for row in TUESDAY]
    # A row left out as well (613) is weighed by the guard: 1 of 7 is past its 10%.
    with pytest.raises(PlanRefused) as refused:
        nightly(
            sandbox, tmp_path, "partial.csv", snow + WEDNESDAY[:2] + WEDNESDAY[3:], MONDAY_NIGHT
        )
    assert "would cancel 1 of the 7 events from the file's first day (Tuesday 15 December " in (
        str(refused.value)
    )
    assert "not in the file, besides the 3 whose rows it marks called off (14%" in (
        str(refused.value)
    )
    assert len(live_events(sandbox)) == 7
    planned = nightly(
        sandbox,
        tmp_path,
        "snow.csv",
        snow + WEDNESDAY,
        MONDAY_NIGHT,
        part_rows=part_rows,
        dry_run=True,
    )
    assert {line["message"] for line in planned if line["status"] == "cancel"} == {
        "marked called off in the file: would be deleted in Apptoto"
    }
    lines = nightly(
        sandbox, tmp_path, "snow.csv", snow + WEDNESDAY, MONDAY_NIGHT, part_rows=part_rows
    )
    assert [statuses(lines)[f"appt-{i}"] for i in (601, 602, 603)] == ["cancelled"] * 3
    assert sorted(live_events(sandbox)) == [f"appt-{i}" for i in (611, 612, 613, 614)]
    # The report says why: the file marks them, it did not leave them out.
    [said] = {line["message"] for line in lines if line["status"] == "cancelled"}
    assert said == "marked called off in the file: deleted in Apptoto, its reminders stopped"


def test_a_workbook_of_day_sheets_counts_from_its_earliest_sheet(
    sandbox: Any, tmp_path: Path
) -> None:
    nightly(sandbox, tmp_path, "tuesday.csv", TUESDAY, MONDAY_NIGHT)
    nightly(sandbox, tmp_path, "wednesday.csv", WEDNESDAY, TUESDAY_NIGHT)
    # Tuesday night's workbook: a sheet for Thursday, then one for Wednesday without 613.
    book = write_workbook(
        tmp_path / "week.xlsx",
        [
            SheetSpec("Thu", [HEADER, *THURSDAY]),
            SheetSpec("Wed", [HEADER, *[r for r in WEDNESDAY if r[0] != "613"]]),
        ],
    )
    plan = PlanOptions(cancel_missing=True, now=TUESDAY_NIGHT, force=True)  # 1 of 4: forced
    summary = run_sheets(
        RunRequest(
            source=book,
            mapping=MAPPING,
            client_config=fast_client_config(sandbox),
            ledger_path=tmp_path / "state.sqlite",
            all_sheets=True,
            now=TUESDAY_NIGHT,
            plan_options=plan,
        )
    )
    assert not summary.error
    assert "appt-613" not in live_events(sandbox)
    assert {"appt-601", "appt-602", "appt-603", "appt-621"} <= set(live_events(sandbox))


def test_the_page_lists_only_the_missing_visits_of_the_files_days(
    sandbox: Any, tmp_path: Path
) -> None:
    nightly(sandbox, tmp_path, "tuesday.csv", TUESDAY, MONDAY_NIGHT)
    nightly(sandbox, tmp_path, "wednesday.csv", WEDNESDAY, TUESDAY_NIGHT)
    upload = export(tmp_path / "upload.csv", [r for r in WEDNESDAY if r[0] != "613"])
    request = RunRequest(
        source=upload,
        mapping=MAPPING,
        ledger_path=tmp_path / "state.sqlite",
        dry_run=True,
        now=TUESDAY_NIGHT,
        plan_options=PlanOptions(now=TUESDAY_NIGHT),
    )
    tally = tally_review(request, ShownLimits(issue_rows=50, previews=5, held=50))
    assert [e.external_id for e in tally.missing] == ["appt-613"]
    assert tally.missing_total == 1
    assert tally.missing_too_many  # 1 of Wednesday's 4 (25%), past the 10% guard
    assert tally.missing_from == "Wednesday 16 December 2026"


@pytest.mark.parametrize(
    ("rows", "begins", "said"),
    [
        # The clocks go back at 2:00 AM on 1 November: the day began at CDT's midnight.
        (
            [["1", "11/01/2026", "9:00 AM"], ["2", "11/02/2026", "8:00 AM"]],
            datetime(2026, 11, 1, 5, 0, tzinfo=UTC),
            "Sunday 1 November 2026",
        ),
        # Rows out of order, and one whose date does not read: the earliest that reads.
        (
            [["1", "12/17/2026", "9:00 AM"], ["2", "12/32/2026", "8:00 AM"]]
            + [["3", "12/16/2026", "4:00 PM"]],
            datetime(2026, 12, 16, 6, 0, tzinfo=UTC),
            "Wednesday 16 December 2026",
        ),
    ],
)
def test_the_first_day_begins_at_the_zones_midnight(
    rows: list[list[str]], begins: datetime, said: str
) -> None:
    frame = pd.DataFrame(
        [[i, day, time, "Dr Ray", "Ann Lee", "541-555-0107", "Booked"] for i, day, time in rows],
        columns=HEADER,
        index=range(2, 2 + len(rows)),
        dtype="str",
    )
    day = first_day(frame, MAPPING)
    assert day is not None
    assert (day.begins, str(day)) == (begins, said)
    assert first_day(frame.assign(Date="soon"), MAPPING) is None


def test_a_later_sheets_row_marked_cancelled_says_the_run_cancels_its_event(
    sandbox: Any, tmp_path: Path
) -> None:
    # A workbook of day sheets; on the second, a visit is marked cancelled. The run cancels its
    # event (decided with the first sheet), so its row must not say the reminders still go out.
    first = write_workbook(
        tmp_path / "week.xlsx",
        [SheetSpec("Tue", [HEADER, *TUESDAY]), SheetSpec("Wed", [HEADER, *WEDNESDAY])],
    )
    request = RunRequest(
        source=first,
        mapping=MAPPING,
        client_config=fast_client_config(sandbox),
        ledger_path=tmp_path / "state.sqlite",
        report_path=tmp_path / "report.csv",
        all_sheets=True,
        now=MONDAY_NIGHT,
        plan_options=PlanOptions(cancel_missing=True, now=MONDAY_NIGHT),
    )
    run_sheets(request)
    off = [[*WEDNESDAY[0][:-1], "Cancelled"], *WEDNESDAY[1:]]
    again = write_workbook(
        tmp_path / "week2.xlsx",
        [SheetSpec("Tue", [HEADER, *TUESDAY]), SheetSpec("Wed", [HEADER, *off])],
    )
    for dry_run, cancelled in ((True, "cancel"), (False, "cancelled")):
        run_sheets(replace(request, source=again, dry_run=dry_run))
        lines = read_report(tmp_path / "report.csv")
        [row] = [line for line in lines if line["Appt ID"] == "611"]
        assert (row["status"], row["warnings"]) == ("not an appointment", "")
        assert [line["external_id"] for line in lines if line["status"] == cancelled] == [
            "appt-611"
        ]
    assert "appt-611" not in live_events(sandbox)
