"""Stage 1, load: a CSV file or a workbook as a table of text cells, every cell as the user sees it.

:func:`load_table` reads one sheet (CSV with its encoding and delimiter found; .xlsx, .xlsb,
.ods checked for zip and XML bombs before they are opened, .xls for its size), finds its header
below any title and sets aside totals and notes, into a frame indexed by spreadsheet row number;
a report this program wrote, read back as input, is recognised by :func:`strip_report_columns`.

The names below are looked up when first used (PEP 562): importing this package, or a light
module of it (:mod:`importer.load.read_ahead`, :mod:`importer.load.limits`), does not import
pandas, so the command line can start reading a workbook while the rest of the program loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from importer.lazy import lazy_names
from importer.load.limits import (
    CSV_SUFFIXES,
    DEFAULT_MAX_ROWS,
    STREAMED_MAX_ROWS,
    WORKBOOK_SUFFIXES,
    XLSX_SUFFIXES,
)

if TYPE_CHECKING:
    from importer.load.report_input import (
        RESULT_COLUMNS,
        is_report,
        recorded_external_ids,
        strip_report_columns,
    )
    from importer.load.table import Sheet, load_table, sheet_names, sheets_like
    from importer.load.table_bounds import calls_off, headings_above

# Public name -> the module that defines it.
_HOMES = {
    "RESULT_COLUMNS": "importer.load.report_input",
    "is_report": "importer.load.report_input",
    "recorded_external_ids": "importer.load.report_input",
    "strip_report_columns": "importer.load.report_input",
    "Sheet": "importer.load.table",
    "load_table": "importer.load.table",
    "sheet_names": "importer.load.table",
    "sheets_like": "importer.load.table",
    "calls_off": "importer.load.table_bounds",
    "headings_above": "importer.load.table_bounds",
}


__getattr__ = lazy_names(__name__, _HOMES, globals())  # names of _HOMES, imported when first used

__all__ = [
    "CSV_SUFFIXES",
    "DEFAULT_MAX_ROWS",
    "RESULT_COLUMNS",
    "STREAMED_MAX_ROWS",
    "WORKBOOK_SUFFIXES",
    "XLSX_SUFFIXES",
    "Sheet",
    "calls_off",
    "headings_above",
    "is_report",
    "load_table",
    "recorded_external_ids",
    "sheet_names",
    "sheets_like",
    "strip_report_columns",
]
