"""values.distinct: the blank checks of text columns answer as pandas' own comparisons do."""

from __future__ import annotations

import pandas as pd
import pytest

from importer.values import is_empty, not_empty


@pytest.mark.parametrize(
    "column",
    [
        pd.Series(["", "a", None, " ", ""], dtype="str", index=[2, 3, 5, 8, 9]),
        pd.Series(["", 7, None, float("nan"), "x"], dtype=object),
        pd.Series([], dtype="str"),
    ],
)
def test_blank_checks_match_pandas_comparisons(column: pd.Series) -> None:
    assert is_empty(column).tolist() == (column == "").tolist()
    assert not_empty(column).tolist() == (column != "").tolist()
    assert is_empty(column).index.equals(column.index)
    assert is_empty(column).dtype == bool


def test_missing_cells_are_not_empty_text() -> None:
    column = pd.Series([None, ""], dtype="str")
    assert is_empty(column).tolist() == [False, True]
    assert not_empty(column).tolist() == [True, False]
