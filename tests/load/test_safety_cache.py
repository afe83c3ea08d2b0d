"""A workbook is checked for bombs once per unchanged file; a changed file is checked again."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import pytest

from importer.errors import LoadError
from importer.load import load_table, sheet_names
from importer.load import table as load

ROOT = Path(__file__).resolve().parents[2]


def with_entity(good: Path, target: Path) -> None:
    """``good`` plus an XML part declaring an entity: what the bomb check refuses."""
    shutil.copy(good, target)
    with zipfile.ZipFile(target, "a") as archive:
        archive.writestr("xl/extra.xml", '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')


def test_sheet_names_then_load_checks_the_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "appointments.xlsx"
    shutil.copy(ROOT / "samples" / "appointments.xlsx", path)
    checked: list[Path] = []
    real_check = load.check_workbook_zip

    def counting_check(source: Path, *, file: str) -> None:
        checked.append(source)
        real_check(source, file=file)

    monkeypatch.setattr(load, "check_workbook_zip", counting_check)
    assert sheet_names(path) == ["Appointments", "Read me"]
    assert len(load_table(path, sheet="Appointments").frame) == 22
    assert checked == [path]


def test_a_file_replaced_after_its_check_is_checked_again(tmp_path: Path) -> None:
    path = tmp_path / "appointments.xlsx"
    shutil.copy(ROOT / "samples" / "appointments.xlsx", path)
    assert sheet_names(path) == ["Appointments", "Read me"]
    bad = tmp_path / "bad.xlsx"
    with_entity(path, bad)
    os.replace(bad, path)  # same path, new content
    with pytest.raises(LoadError, match="(?i)declar|entit|doctype"):
        load_table(path, sheet="Appointments")
