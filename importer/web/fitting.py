"""Which saved mappings fit an uploaded sheet: every column a mapping reads is among its headers.

The check is :func:`importer.mapping.check_columns`, the one ``prepare`` makes before anything
else, run against the sheet each mapping would read (its own ``sheet:`` in a workbook). Fitting
mappings come first, the one reading the most columns (the closest fit) before the others, then
the most recently saved: a mapping just saved for a layout is offered first for the next file of
that layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from importer.errors import ImporterError, MappingError
from importer.load import WORKBOOK_SUFFIXES, load_table, sheet_names, strip_report_columns
from importer.mapping import Mapping, check_columns, load_mapping
from importer.web.review import MAPPING_SUFFIXES


@dataclass(frozen=True)
class MappingFit:
    """A saved mapping and whether it fits the uploaded sheet."""

    file: str  # file name inside the mappings folder
    title: str  # the mapping's name (or the file name when it cannot be read)
    fits: bool  # the sheet has every column the mapping reads
    columns: int  # how many columns it reads: more is a closer fit
    modified: float  # the file's modification time (seconds since the epoch)


class NoSuchSheet(Exception):
    """The workbook has no sheet of the name a mapping gives: that mapping does not fit."""


class SheetHeaders:
    """The headers of an uploaded file's sheets, each sheet read at most once.

    ``chosen`` is the sheet the person picked (it then applies to every mapping); ``known`` are
    headers already read elsewhere, by sheet name (None for a CSV file).
    """

    def __init__(
        self,
        path: Path,
        chosen: str | None = None,
        known: dict[str | None, list[str]] | None = None,
    ) -> None:
        self.path = path
        self.chosen = chosen
        self._headers: dict[str | None, list[str]] = dict(known or {})
        # As prepare() does: only a workbook upload reads the sheet its mapping names.
        self._workbook = path.suffix.lower() in WORKBOOK_SUFFIXES
        self._names: list[str] | None = None

    def _sheet_names(self) -> list[str]:
        if self._names is None:
            self._names = sheet_names(self.path) if self._workbook else []
        return self._names

    def sheet_for(self, mapping: Mapping) -> str | None:
        """The sheet ``mapping`` would read (as ``prepare`` picks it); NoSuchSheet when none."""
        if not self._workbook:
            return None
        names = self._sheet_names()
        if self.chosen:
            return self.chosen
        if mapping.sheet is None:
            # The mapping's first day sheet, else the sheet holding the table (not a notes sheet).
            return next((name for name in mapping.sheets if name in names), None)
        if mapping.sheet in names:
            return mapping.sheet
        if len(names) == 1:  # a one-sheet workbook (a report, say) is used as it is
            return names[0]
        raise NoSuchSheet(mapping.sheet)

    def know(self, sheet: str | None, headers: list[str]) -> None:
        """The headers of ``sheet`` as read elsewhere (the review's), so they are not read again."""
        self._headers[sheet] = headers

    def headers(self, sheet: str | None) -> list[str]:
        """The header names of ``sheet`` (a report's result columns left out); LoadError."""
        if sheet not in self._headers:
            loaded = load_table(self.path, sheet=sheet)
            source, _ = strip_report_columns(loaded.frame)
            self._headers[sheet] = [str(c) for c in source.columns]
        return self._headers[sheet]


def _mapping_files(folder: Path) -> list[Path]:
    try:
        return sorted(
            p for p in folder.iterdir() if p.suffix.lower() in MAPPING_SUFFIXES and p.is_file()
        )
    except OSError:
        return []


def _fits(mapping: Mapping, sheets: SheetHeaders) -> bool:
    try:
        check_columns(mapping, sheets.headers(sheets.sheet_for(mapping)))
    except (MappingError, NoSuchSheet):
        return False
    return True


def rank_mappings(folder: Path, sheets: SheetHeaders) -> list[MappingFit]:
    """Every mapping of ``folder``: those that fit first, closest fit, then newest first.

    A mapping file that cannot be read never fits. Raises LoadError only when the uploaded file
    itself cannot be read.
    """
    fits = []
    for path in _mapping_files(folder):
        try:
            modified = path.stat().st_mtime
            mapping = load_mapping(path)
        except (ImporterError, OSError):
            fits.append(MappingFit(path.name, path.name, False, 0, 0.0))
            continue
        columns = len(mapping.referenced_columns())
        fits.append(MappingFit(path.name, mapping.name, _fits(mapping, sheets), columns, modified))
    if not fits:
        sheets.headers(sheets.chosen)  # an unreadable file is said even without mappings
    return sorted(fits, key=lambda f: (not f.fits, -f.columns, -f.modified, f.file))
