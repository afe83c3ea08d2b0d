"""importer.values.excel_errors: the cells that hold an error Excel showed instead of a value."""

from __future__ import annotations

import pandas as pd

from importer.values.excel_errors import excel_errors


def test_the_cells_holding_an_excel_error_are_found_in_the_columns_asked() -> None:
    frame = pd.DataFrame(
        {
            "Notes": ["#NAME?", "Room #2", None, " #ref! "],
            "Phone": ["541-555-0104", "#N/A", "#VALUE!", None],
            "Other": ["#NAME?", None, None, None],
        },
        dtype="str",
    )
    found = excel_errors(frame, ["Notes", "Phone", "Missing"])
    assert found["Notes"].tolist() == [True, False, False, True]
    assert found["Phone"].tolist() == [False, True, True, False]
    assert "Other" not in found  # not read by the mapping: never sent


def test_columns_without_an_error_are_not_listed() -> None:
    frame = pd.DataFrame({"Notes": ["#2 of 3", "Bring #s"], "Id": ["1", "2"]}, dtype="str")
    assert excel_errors(frame, ["Notes", "Id"]) == {}


def test_a_repeated_header_is_read_in_its_first_column() -> None:
    frame = pd.DataFrame(
        [["#NAME?", "ok"], ["ok", "#NAME?"]], columns=["Notes", "Notes"], dtype="str"
    )
    assert excel_errors(frame, ["Notes"])["Notes"].tolist() == [True, False]
