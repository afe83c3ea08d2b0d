"""Cells that hold one of Excel's errors (``#NAME?``, ``#VALUE!``) instead of a value.

Excel takes a cell typed starting with ``=``, ``+``, ``-`` or ``@`` for a formula; one that is not
a valid formula shows an error, and a CSV file saved from Excel holds the error's text: what was
typed is gone ("-bring your insurance card" becomes ``#NAME?``). Sent, the error's text would
reach Apptoto as the event's notes, location or a participant's phone. Such a cell is read as
blank, with a warning that says why. (A workbook's error cells read as blank already:
:mod:`importer.load.xlsx_reader`.)
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

EXCEL_ERRORS = frozenset(
    {
        "#NAME?",
        "#VALUE!",
        "#REF!",
        "#DIV/0!",
        "#N/A",
        "#NULL!",
        "#NUM!",
        "#SPILL!",
        "#CALC!",
        "#FIELD!",
        "#BLOCKED!",
        "#CONNECT!",
        "#BUSY!",
        "#UNKNOWN!",
        "#GETTING_DATA",
    }
)

EXCEL_ERROR_LOST = (
    "is an error Excel showed instead of the value (a formula that failed, or a cell typed "
    "starting with =, +, - or @, which Excel takes for one), and the file was saved with it: "
    "the value is lost. Type it again in Excel with ' in front, so it stays text, and save"
)
# The warning of such a cell in a row sent all the same.
EXCEL_ERROR_REASON = EXCEL_ERROR_LOST + "; until then the cell is read as blank"


def excel_errors(frame: pd.DataFrame, columns: Iterable[str]) -> dict[str, pd.Series]:
    """For each of ``columns`` (of ``frame``, text cells) that holds an Excel error: True per
    cell that does. Most columns hold no ``#`` at all: one search of the joined column settles
    that, and only a column with one is tested cell by cell."""
    found: dict[str, pd.Series] = {}
    for column in dict.fromkeys(columns):
        if column not in frame.columns:
            continue
        cells = frame[column]
        if isinstance(cells, pd.DataFrame):  # a repeated header: the first column is read
            cells = cells.iloc[:, 0]
        texts = cells.dropna().to_numpy(dtype=object)
        if "#" not in "\n".join(texts):
            continue
        errors = cells.fillna("").astype("str").str.strip().str.upper().isin(EXCEL_ERRORS)
        if bool(errors.any()):
            found[column] = errors
    return found
