"""Numbers Excel shortened to scientific notation when it saved a CSV file."""

from __future__ import annotations

import pandas as pd
import pytest

from importer.values.numbers import shortened, shortened_numbers


@pytest.mark.parametrize(
    ("text", "lost"),
    [
        ("2.02613E+11", True),  # 202612140930 in a General cell, saved as CSV
        ("5.41555E+09", True),
        ("1E+12", True),
        ("1.01e+03", True),
        ("5,41555E+09", True),  # Excel set to a decimal comma
        ("-4.5E+10", True),
        ("202612140930", False),
        ("1001", False),
        ("2.5", False),
        ("1.2E-05", False),  # a small number: never an id or a phone
        ("E+5", False),
        ("AB1E+5", False),
        ("1.01E+03 x", False),
        ("", False),
    ],
)
def test_a_number_in_scientific_notation_is_one_excel_shortened(text: str, lost: bool) -> None:
    assert shortened(text) is lost


def test_a_column_is_tested_cell_by_cell_only_when_it_holds_one() -> None:
    cells = pd.Series(["1001", "2.02613E+11", "", "2.02613E+11", "E+"], index=[5, 6, 7, 9, 10])
    assert shortened_numbers(cells).to_dict() == {5: False, 6: True, 7: False, 9: True, 10: False}
    plain = pd.Series(["1001", "1002"], index=[2, 3], dtype="str")
    assert shortened_numbers(plain).to_dict() == {2: False, 3: False}
