"""A workbook's sheet parsed ahead (importer.load.read_ahead) is what load_table reads, and only
when it is the same sheet of the same file, checked for bombs first."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from importer.errors import LoadError
from importer.load import load_table, xlsx_reader
from importer.load import read_ahead as read_ahead_module
from importer.load.read_ahead import read_ahead, taken_sheet
from importer.mapping.yaml_text import named_sheet
from tests.helpers import CLINIC_MAPPING, ROOT, SAMPLES
from tests.load.test_safety import with_entity

CAP = 5_000_000


def one_sheet_workbook(path: Path, names: list[str]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Visits"
    sheet.append(["Patient", "Phone"])
    for name in names:
        sheet.append([name, "5415550104"])
    workbook.save(path)
    return path


def no_parse_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """read_sheet cannot open the workbook itself: only a read-ahead gives it the sheet."""

    def refuse(path: Path, file: str) -> None:
        raise AssertionError("read_sheet parsed the sheet itself")

    monkeypatch.setattr(xlsx_reader, "_open", refuse)


def test_the_sheet_read_ahead_is_the_sheet_load_table_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "appointments.xlsx"
    shutil.copy(SAMPLES / "appointments.xlsx", path)
    expected = load_table(path, sheet="Appointments")
    read_ahead(path, "Appointments", max_rows=CAP)
    no_parse_of_its_own(monkeypatch)
    loaded = load_table(path, sheet="Appointments")
    assert loaded.frame.equals(expected.frame)
    assert loaded.warnings == expected.warnings


def test_a_workbook_of_one_sheet_is_read_ahead_without_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = one_sheet_workbook(tmp_path / "visits.xlsx", ["Ann Lee", "Bo Chan"])
    read_ahead(path, None, max_rows=CAP)
    no_parse_of_its_own(monkeypatch)
    assert load_table(path).frame["Patient"].tolist() == ["Ann Lee", "Bo Chan"]


def test_of_several_sheets_none_is_read_ahead_unless_named(tmp_path: Path) -> None:
    path = tmp_path / "appointments.xlsx"
    shutil.copy(SAMPLES / "appointments.xlsx", path)  # "Appointments" and "Read me"
    read_ahead(path, None, max_rows=CAP)
    assert taken_sheet(path, "Appointments") is None
    read_ahead(path, "Read me", max_rows=CAP)
    assert taken_sheet(path, "Appointments") is None  # another sheet: let go
    assert taken_sheet(path, "Read me") is None  # taken once only


def test_a_file_changed_after_its_read_ahead_is_read_again(tmp_path: Path) -> None:
    path = one_sheet_workbook(tmp_path / "visits.xlsx", ["Ann Lee"])
    read_ahead(path, None, max_rows=CAP)
    assert taken_sheet(path, "Visits") is not None
    read_ahead(path, None, max_rows=CAP)
    changed = one_sheet_workbook(tmp_path / "changed.xlsx", ["Cy Diaz", "Di Evans"])
    os.replace(changed, path)
    assert load_table(path).frame["Patient"].tolist() == ["Cy Diaz", "Di Evans"]


def test_a_refused_workbook_is_not_read_ahead_and_load_table_says_why(tmp_path: Path) -> None:
    good = tmp_path / "good.xlsx"
    shutil.copy(SAMPLES / "appointments.xlsx", good)
    bad = tmp_path / "bad.xlsx"
    with_entity(good, bad)
    read_ahead(bad, "Appointments", max_rows=CAP)
    with pytest.raises(LoadError, match="(?i)declar|entit|doctype"):
        load_table(bad, sheet="Appointments")


def test_the_safety_check_is_made_before_the_parse_s_thread_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Made alone, it is not slowed by the imports the parse overlaps; a refused workbook (or
    # any other file without a sheet to parse) starts no thread at all.
    path = one_sheet_workbook(tmp_path / "visits.xlsx", ["Ann Lee"])
    checked_in: list[str] = []
    real = read_ahead_module.check_workbook_once

    def check(*args: Any, **kwargs: Any) -> Any:
        checked_in.append(threading.current_thread().name)
        return real(*args, **kwargs)

    started: list[str] = []
    real_start = threading.Thread.start

    def start(thread: threading.Thread) -> None:
        started.append(thread.name)
        real_start(thread)

    monkeypatch.setattr(read_ahead_module, "check_workbook_once", check)
    monkeypatch.setattr(threading.Thread, "start", start)
    read_ahead(path, None, max_rows=CAP)
    assert checked_in == [threading.current_thread().name] and started == ["read-ahead"]
    assert taken_sheet(path, "Visits") is not None
    bad = tmp_path / "bad.xlsx"
    with_entity(SAMPLES / "appointments.xlsx", bad)
    read_ahead(bad, "Appointments", max_rows=CAP)
    assert started == ["read-ahead"] and not read_ahead_module.parsing()
    assert taken_sheet(bad, "Appointments") is None


def test_a_sheet_over_the_cap_is_not_read_ahead(tmp_path: Path) -> None:
    path = one_sheet_workbook(tmp_path / "visits.xlsx", ["Ann Lee", "Bo Chan", "Cy Diaz"])
    read_ahead(path, None, max_rows=2)
    assert taken_sheet(path, "Visits") is None
    read_ahead(path, None, max_rows=3)
    assert taken_sheet(path, "Visits") is not None


def test_a_csv_file_or_a_missing_one_is_not_read_ahead(tmp_path: Path) -> None:
    csv = tmp_path / "visits.csv"
    csv.write_text("Patient,Phone\nAnn Lee,5415550104\n", encoding="utf-8")
    read_ahead(csv, None, max_rows=CAP)
    assert taken_sheet(csv, "Visits") is None
    missing = tmp_path / "missing.xlsx"
    read_ahead(missing, None, max_rows=CAP)
    assert taken_sheet(missing, "Visits") is None


def test_the_mapping_names_the_sheet_to_read_ahead(tmp_path: Path) -> None:
    assert named_sheet(CLINIC_MAPPING) == "Appointments"
    assert named_sheet(tmp_path / "missing.yaml") is None
    broken = tmp_path / "broken.yaml"
    broken.write_text("sheet: [unclosed\n", encoding="utf-8")
    assert named_sheet(broken) is None
    several = tmp_path / "several.yaml"
    several.write_text("sheets: [Mon, Tue]\n", encoding="utf-8")
    assert named_sheet(several) is None


def test_the_command_line_starts_without_pandas() -> None:
    # What the read-ahead overlaps: pandas and the checks load while calamine parses.
    code = (
        "import sys, importer.cli, importer.load.read_ahead, importer.mapping.yaml_text; "
        "print(sorted(m for m in ('pandas', 'numpy', 'pandera', 'phonenumbers', 'httpx') "
        "if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_while_a_sheet_is_parsed_ahead_the_command_line_loads_the_checks(tmp_path: Path) -> None:
    # Time the command would spend waiting for the parse: what the checks load on first use is
    # loaded then (importer.warm_up), and only then. In a process of its own, which has loaded
    # none of it yet.
    probe = (
        "import threading\n"
        "from pathlib import Path\n"
        "import importer.load.read_ahead as ahead\n"
        "from importer.cli.options import meanwhile\n"
        "from pandera.backends.pandas.register import register_pandas_backends as backends\n"
        "meanwhile()\n"
        "assert backends.cache_info().currsize == 0, 'warmed up with nothing to wait for'\n"
        "ahead._ahead = ahead._Ahead(Path('visits.xlsx'))  # under way\n"
        "assert ahead.parsing()\n"
        "meanwhile()\n"
        "assert backends.cache_info().currsize >= 1, 'not warmed up while waiting'\n"
        "ahead._ahead.done.set()\n"
        "assert not ahead.parsing()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
