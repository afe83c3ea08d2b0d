"""Stage 1, load: a CSV file or a workbook as a table of text cells, every cell as the user sees it.

:func:`load_table` reads one sheet (CSV with its encoding and delimiter found; .xlsx, .xlsb,
.ods checked for zip and XML bombs before they are opened, .xls for its size), finds its header
below any title and sets aside totals and notes, into a frame indexed by spreadsheet row number;
a report this program wrote, read back as input, is recognised by :func:`strip_report_columns`.
"""

from importer.load.report_input import (
    RESULT_COLUMNS,
    is_report,
    recorded_external_ids,
    strip_report_columns,
)
from importer.load.table import (
    CSV_SUFFIXES,
    DEFAULT_MAX_ROWS,
    STREAMED_MAX_ROWS,
    WORKBOOK_SUFFIXES,
    XLSX_SUFFIXES,
    Sheet,
    load_table,
    sheet_names,
    sheets_like,
)
from importer.load.table_bounds import calls_off, headings_above

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
