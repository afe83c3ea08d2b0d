"""The seed's remaining event fields, end to end: the real CLI imports a sheet into the sandbox, and
the assertions are on what the SERVER stores (calendar_id, contact participants, all-day events,
show_as, and "#auto" added once however often the sheet is imported)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from typer.testing import Result

from importer.sandbox.server import SandboxHandle
from tests.helpers import env_for, invoke_cli, live_events, write_csv

BASE = """
defaults: {time_zone: America/Los_Angeles, date_format: "%m/%d/%Y", time_format: "%I:%M %p"}
event:
  external_id: "f-{Id}"
  title: "Visit"
"""
TIMED = """
  start: {date: "{Date}", time: "{Start}"}
  end: {time: "{End}"}
"""


def write_sheet(path: Path, rows: list[dict[str, str]]) -> Path:
    """A CSV of ``rows``, the first row's keys as the header."""
    return write_csv(path, list(rows[0]), rows)


def run_import(
    sandbox: SandboxHandle,
    tmp_path: Path,
    mapping: str,
    rows: list[dict[str, str]],
    *,
    name: str = "m",
) -> Result:
    """``apptoto-import run`` of ``rows`` with ``mapping`` (YAML text); one ledger per test."""
    (tmp_path / f"{name}.yaml").write_text(mapping, encoding="utf-8")
    sheet = write_sheet(tmp_path / f"{name}.csv", rows)
    args = ["run", str(sheet), "-m", str(tmp_path / f"{name}.yaml")]
    args += ["--state", str(tmp_path / "state.sqlite"), "--report", str(tmp_path / "report.csv")]
    return invoke_cli(args, env_for(sandbox))


def timed_row(row_id: str, **cells: str) -> dict[str, str]:
    return {"Id": row_id, "Date": "12/14/2026", "Start": "9:00 AM", "End": "9:30 AM", **cells}


# --- calendar_id ---------------------------------------------------------------------------------


def provision_calendars(sandbox_api: httpx.Client, *names: str) -> dict[str, int]:
    """Calendars exist in Apptoto before an import names them by id: make them by name first."""
    events = [
        {
            "calendar": name,
            "external_id": f"seed-{name}",
            "title": "seed",
            "start_time": "2026-01-05T09:00:00-08:00",
            "end_time": "2026-01-05T09:30:00-08:00",
        }
        for name in names
    ]
    answer = sandbox_api.put("events", json={"events": events})
    answer.raise_for_status()
    return {e["calendar_name"]: e["calendar_id"] for e in answer.json()["events"]}


def test_calendar_id_per_row(
    sandbox: SandboxHandle, sandbox_api: httpx.Client, tmp_path: Path
) -> None:
    ids = provision_calendars(sandbox_api, "Dr Lee", "Dr Kim")
    mapping = BASE + '  calendar_id: "{Calendar ID}"' + TIMED
    rows = [
        timed_row("1", **{"Calendar ID": str(ids["Dr Lee"])}),
        timed_row("2", **{"Calendar ID": f"{ids['Dr Kim']}.0"}),  # as a spreadsheet may show it
    ]
    result = run_import(sandbox, tmp_path, mapping, rows)
    assert result.exit_code == 0, result.output
    events = live_events(sandbox)
    assert (events["f-1"]["calendar_id"], events["f-1"]["calendar_name"]) == (
        ids["Dr Lee"],
        "Dr Lee",
    )
    assert (events["f-2"]["calendar_id"], events["f-2"]["calendar_name"]) == (
        ids["Dr Kim"],
        "Dr Kim",
    )


def test_calendar_id_literal(
    sandbox: SandboxHandle, sandbox_api: httpx.Client, tmp_path: Path
) -> None:
    ids = provision_calendars(sandbox_api, "Front desk")
    mapping = BASE + f"  calendar_id: {ids['Front desk']}" + TIMED
    result = run_import(sandbox, tmp_path, mapping, [timed_row("1"), timed_row("2")])
    assert result.exit_code == 0, result.output
    assert {e["calendar_id"] for k, e in live_events(sandbox).items() if k.startswith("f-")} == {
        ids["Front desk"]
    }


def test_a_bad_calendar_id_cell_is_refused_before_sending(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    mapping = BASE + '  calendar_id: "{Calendar ID}"' + TIMED
    result = run_import(sandbox, tmp_path, mapping, [timed_row("1", **{"Calendar ID": "Dr Lee"})])
    assert result.exit_code == 1
    assert "'Dr Lee' is not a number: it must be a whole number above 0" in result.output
    assert live_events(sandbox) == {}


# --- participants by contact ---------------------------------------------------------------------


def test_participants_by_contact_id_or_contact_external_id(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    mapping = (
        BASE
        + '  calendar: "Dr Lee"'
        + TIMED
        + '  participants:\n    - {contact_id: "{Contact}", contact_external_id: "{Contact Ext}"}\n'
    )
    rows = [
        timed_row("1", Contact="9001", **{"Contact Ext": ""}),
        timed_row("2", Contact="", **{"Contact Ext": "SF-003xx0042"}),
    ]
    result = run_import(sandbox, tmp_path, mapping, rows)
    assert result.exit_code == 0, result.output
    events = live_events(sandbox)
    [by_id] = events["f-1"]["participants"]
    [by_external_id] = events["f-2"]["participants"]
    assert by_id["contact_id"] == 9001 and by_id["contact_external_id"] is None
    assert by_external_id["contact_external_id"] == "SF-003xx0042"
    assert by_external_id["contact_id"] is None
    for person in (by_id, by_external_id):  # nothing else was sent with the contact
        assert (person["name"], person["email"], person["phone"]) == (None, None, None)


def test_a_contact_with_name_email_or_phone_is_a_mapping_error(tmp_path: Path) -> None:
    """The row-level guard (a row filling both) is tested in events/test_build.py: a mapping cannot
    express it, so the mapping is refused first, naming the participant."""
    mapping = BASE + '  calendar: "A"' + TIMED + "  participants:\n"
    mapping += '    - {contact_id: "{Contact}", name: "{Name}"}\n'
    (tmp_path / "m.yaml").write_text(mapping, encoding="utf-8")
    sheet = write_sheet(tmp_path / "m.csv", [timed_row("1", Contact="1", Name="Ann")])
    result = invoke_cli(["validate", str(sheet), "-m", str(tmp_path / "m.yaml")])
    assert result.exit_code == 2
    assert "event.participants[1]: a participant is either a contact" in result.output


# --- all-day events ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "until", "start_time", "end_time"),
    [
        ("12/14/2026", "", "2026-12-14T00:00:00-08:00", "2026-12-15T00:00:00-08:00"),
        # The day the clocks go back is 25 hours long: the offsets differ.
        ("11/01/2026", "", "2026-11-01T00:00:00-07:00", "2026-11-02T00:00:00-08:00"),
        # Several days: to the midnight that ends the last day.
        ("12/24/2026", "12/26/2026", "2026-12-24T00:00:00-08:00", "2026-12-27T00:00:00-08:00"),
    ],
)
def test_all_day_events_from_dates_without_times(
    date: str, until: str, start_time: str, end_time: str, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    mapping = BASE + '  calendar: "Closures"\n  all_day: true\n  start: {date: "{Date}"}\n'
    mapping += '  end: {date: "{Until}"}\n'
    result = run_import(sandbox, tmp_path, mapping, [{"Id": "1", "Date": date, "Until": until}])
    assert result.exit_code == 0, result.output
    event = live_events(sandbox)["f-1"]
    assert event["all_day"] is True
    assert (event["start_time"], event["end_time"]) == (start_time, end_time)


def test_all_day_from_a_column_next_to_timed_rows(sandbox: SandboxHandle, tmp_path: Path) -> None:
    mapping = BASE + '  calendar: "Dr Lee"\n  all_day: "{All Day}"' + TIMED
    rows = [
        timed_row("1", **{"All Day": "yes", "Start": "", "End": ""}),
        timed_row("2", **{"All Day": "no"}),
    ]
    result = run_import(sandbox, tmp_path, mapping, rows)
    assert result.exit_code == 0, result.output
    events = live_events(sandbox)
    assert (events["f-1"]["all_day"], events["f-1"]["start_time"]) == (
        True,
        "2026-12-14T00:00:00-08:00",
    )
    assert (events["f-2"]["all_day"], events["f-2"]["start_time"]) == (
        False,
        "2026-12-14T09:00:00-08:00",
    )


# --- show_as -------------------------------------------------------------------------------------


def test_show_as_all_five_values_and_blank(sandbox: SandboxHandle, tmp_path: Path) -> None:
    written = ["Free", "tentative", "BUSY", "Out of office", "working-elsewhere", ""]
    mapping = BASE + '  calendar: "Dr Lee"\n  show_as: "{Show As}"' + TIMED
    rows = [timed_row(str(i), **{"Show As": w}) for i, w in enumerate(written)]
    result = run_import(sandbox, tmp_path, mapping, rows)
    assert result.exit_code == 0, result.output
    events = live_events(sandbox)
    assert [events[f"f-{i}"]["show_as"] for i in range(len(written))] == [0, 1, 2, 3, 4, None]


@pytest.mark.parametrize(
    ("literal", "number"),
    [("free", 0), ("tentative", 1), ("busy", 2), ("out_of_office", 3), ("working_elsewhere", 4)],
)
def test_show_as_literal(literal: str, number: int, sandbox: SandboxHandle, tmp_path: Path) -> None:
    mapping = BASE + f'  calendar: "Dr Lee"\n  show_as: {literal}' + TIMED
    result = run_import(sandbox, tmp_path, mapping, [timed_row("1")])
    assert result.exit_code == 0, result.output
    assert live_events(sandbox)["f-1"]["show_as"] == number


# --- #auto ---------------------------------------------------------------------------------------

AUTO_ROWS = [
    timed_row("1", Notes="Bring your card"),
    timed_row("2", Notes=""),
    timed_row("3", Notes="Already tagged #auto"),
]


def test_auto_is_added_once_and_reruns_send_nothing(sandbox: SandboxHandle, tmp_path: Path) -> None:
    mapping = BASE + '  calendar: "Dr Lee"\n  content: "{Notes}"\n  auto_messages: true' + TIMED
    first = run_import(sandbox, tmp_path, mapping, AUTO_ROWS)
    assert "3 created" in first.output, first.output
    puts = [r for r in sandbox.requests() if r["method"] == "PUT"]

    again = run_import(sandbox, tmp_path, mapping, AUTO_ROWS)
    assert "3 unchanged" in again.output, again.output
    assert [r for r in sandbox.requests() if r["method"] == "PUT"] == puts  # nothing sent

    events = live_events(sandbox)
    contents = [events[f"f-{i}"]["content"] for i in (1, 2, 3)]
    assert contents == ["Bring your card #auto", "#auto", "Already tagged #auto"]
    assert all(c.count("#auto") == 1 for c in contents)

    edited = [dict(AUTO_ROWS[0], Notes="Bring your card and a list of medicines"), *AUTO_ROWS[1:]]
    changed = run_import(sandbox, tmp_path, mapping, edited)
    assert "1 updated, 2 unchanged" in changed.output, changed.output
    assert live_events(sandbox)["f-1"]["content"] == "Bring your card and a list of medicines #auto"


def test_auto_only_when_asked(sandbox: SandboxHandle, tmp_path: Path) -> None:
    mapping = BASE + '  calendar: "Dr Lee"\n  content: "{Notes}"' + TIMED
    result = run_import(sandbox, tmp_path, mapping, AUTO_ROWS[:2])
    assert result.exit_code == 0, result.output
    events = live_events(sandbox)
    assert (events["f-1"]["content"], events["f-2"]["content"]) == ("Bring your card", "")
