"""The kinds of file read by their names, and how many rows one run reads: plain constants,
importable without pandas (the command line reads them before the rest of the program loads)."""

DEFAULT_MAX_ROWS = 200_000  # a file read whole (the web page, the assistant)
# A file read in parts (importer.load.parts): memory no longer grows with it.
STREAMED_MAX_ROWS = 5_000_000

CSV_SUFFIXES = (".csv", ".tsv", ".txt")

XLSX_SUFFIXES = (".xlsx", ".xlsm")

WORKBOOK_SUFFIXES = (*XLSX_SUFFIXES, ".xlsb", ".xls", ".ods")
