"""The assistant and the people of a sheet: names written last name first, several phones."""

from __future__ import annotations

from pathlib import Path

import yaml

from importer.mapping import load_mapping
from importer.prepare import prepare
from tests.helpers import invoke_cli, write_csv

HEADER = ["Appt ID", "Date", "Time", "Provider", "Patient Name", "Email"]
ROWS = [
    ["A-1", "12/16/2026", "9:00 AM", "Dr. Chen", "Abernathy, Gail", "gail@example.com"],
    ["A-2", "12/16/2026", "9:30 AM", "Dr. Chen", "O’Connor, James", "jim@example.com"],
    ["A-3", "12/16/2026", "10:00 AM", "Dr. Chen", "de la Cruz, Ana María", "ana@example.com"],
]


def test_init_turns_last_first_names_round_and_says_why(tmp_path: Path) -> None:
    sheet = write_csv(
        tmp_path / "day.csv", HEADER, [dict(zip(HEADER, r, strict=True)) for r in ROWS]
    )
    target = tmp_path / "day.yaml"
    made = invoke_cli(["init", str(sheet), "-o", str(target), "--time-zone", "America/Boise"])
    assert made.exit_code == 0, made.output
    written = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert written["event"]["participants"][0]["name"] == "{Patient Name|first_last}"
    comments = " ".join(
        line.strip().lstrip("#").strip() for line in target.read_text(encoding="utf-8").splitlines()
    )
    assert "last name first (“Abernathy, Gail”), so reminders greet “Gail Abernathy”" in comments
    prepared = prepare(sheet, load_mapping(target))
    names = [p["participants"][0]["name"] for p in prepared.events.payloads.values()]
    assert names == ["Gail Abernathy", "James O’Connor", "Ana María de la Cruz"]
