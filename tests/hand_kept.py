"""Workbooks kept by hand, as offices keep them, written by the tests as .xlsx, .ods and .xls.

A workbook is a list of :class:`SheetSpec`: rows of cell values (text, whole numbers, real Excel
dates and times, None for blank) and merged ranges. :func:`write_workbook` writes it with
openpyxl (.xlsx), odfpy (.ods, merged cells as LibreOffice writes them) or xlwt (.xls, Excel
97-2003), so every format goes through the importer from the same content.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

Cell = str | int | dt.date | dt.time | None


@dataclass(frozen=True)
class SheetSpec:
    """One sheet: its rows from row 1, column A, and its merged ranges."""

    name: str
    rows: Sequence[Sequence[Cell]]
    # 0-based (top, left, bottom, right) of each merged range
    merges: Sequence[tuple[int, int, int, int]] = field(default=())


def write_workbook(path: Path, sheets: Sequence[SheetSpec]) -> Path:
    """Write ``sheets`` in the format ``path``'s suffix names (.xlsx, .ods or .xls)."""
    writers = {".xlsx": _write_xlsx, ".ods": _write_ods, ".xls": _write_xls}
    writers[path.suffix](path, sheets)
    return path


def _write_xlsx(path: Path, sheets: Sequence[SheetSpec]) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for spec in sheets:
        sheet = book.create_sheet(spec.name)
        for r, row in enumerate(spec.rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    cell = sheet.cell(r, c, value)
                    if isinstance(value, dt.date):
                        cell.number_format = "mm/dd/yyyy"
                    elif isinstance(value, dt.time):
                        cell.number_format = "h:mm AM/PM"
        for top, left, bottom, right in spec.merges:
            sheet.merge_cells(
                start_row=top + 1, start_column=left + 1, end_row=bottom + 1, end_column=right + 1
            )
    book.save(path)


def _write_xls(path: Path, sheets: Sequence[SheetSpec]) -> None:
    import xlwt

    date_style = xlwt.easyxf(num_format_str="mm/dd/yyyy")
    time_style = xlwt.easyxf(num_format_str="h:mm AM/PM")
    book = xlwt.Workbook()
    for spec in sheets:
        sheet = book.add_sheet(spec.name)
        covered = {
            (r, c)
            for top, left, bottom, right in spec.merges
            for r in range(top, bottom + 1)
            for c in range(left, right + 1)
        }
        for top, left, bottom, right in spec.merges:
            value = spec.rows[top][left]
            style = date_style if isinstance(value, dt.date) else xlwt.Style.default_style
            sheet.write_merge(top, bottom, left, right, value, style)
        for r, row in enumerate(spec.rows):
            for c, value in enumerate(row):
                if value is None or (r, c) in covered:
                    continue
                if isinstance(value, dt.time):
                    sheet.write(r, c, value, time_style)
                elif isinstance(value, dt.date):
                    sheet.write(r, c, value, date_style)
                else:
                    sheet.write(r, c, value)
    book.save(str(path))


def _write_ods(path: Path, sheets: Sequence[SheetSpec]) -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import CoveredTableCell, Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    for spec in sheets:
        table = Table(name=spec.name)
        starts = {
            (top, left): (top, left, bottom, right) for top, left, bottom, right in spec.merges
        }
        covered = {
            (r, c)
            for top, left, bottom, right in spec.merges
            for r in range(top, bottom + 1)
            for c in range(left, right + 1)
            if (r, c) != (top, left)
        }
        width = max(len(row) for row in spec.rows)
        for r, row in enumerate(spec.rows):
            table_row = TableRow()
            for c in range(width):
                if (r, c) in covered:
                    table_row.addElement(CoveredTableCell())
                    continue
                value = row[c] if c < len(row) else None
                cell = TableCell(**_ods_value(value))
                if (r, c) in starts:
                    top, left, bottom, right = starts[(r, c)]
                    cell.setAttribute("numberrowsspanned", str(bottom - top + 1))
                    cell.setAttribute("numbercolumnsspanned", str(right - left + 1))
                if value is not None:
                    cell.addElement(P(text=str(value)))
                table_row.addElement(cell)
            table.addElement(table_row)
        document.spreadsheet.addElement(table)
    document.save(str(path))


def _ods_value(value: Cell) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, dt.time):
        return {"valuetype": "time", "timevalue": f"PT{value.hour:02d}H{value.minute:02d}M00S"}
    if isinstance(value, dt.date):
        return {"valuetype": "date", "datevalue": value.isoformat()}
    if isinstance(value, int):
        return {"valuetype": "float", "value": str(value)}
    return {"valuetype": "string"}


# The week the end-to-end tests use: a Notes sheet first, then one sheet per day.
HEADER = ["Appt ID", "Date", "Time", "Provider", "Patient Name", "Cell Phone", "Home Phone"]
NOTES = SheetSpec("Notes", [["Front desk notes"], ["Dr. Patel is out on Friday"]])
# Patients as the front desk writes them (last name first), each with a home phone; Tom Baker
# has no cell phone, so his reminders go to his home number.
PATIENTS = ["Abernathy, Gail", "Baker, Tom", "Lee, Ann", "Diaz, Bo", "Evans, Cy"]
NO_CELL = "Baker, Tom"


def cell_phone(number: int) -> str:
    return f"(541) 555-{number:04d}"


def home_phone(number: int) -> str:
    return f"(541) 555-{number + 5000:04d}"


def day_sheet(name: str, day: dt.date, first_id: int, *, dated: bool = True) -> SheetSpec:
    """A day as the front desk keeps it: the date merged over each provider's block.
    ``dated`` False: no Date column; the day is written in the title only."""
    if not dated:
        kept = day_sheet(name, day, first_id)
        title = f"Riverside Family Dental - {day:%A, %B} {day.day}, {day.year}"
        undated = [[c for j, c in enumerate(row) if j != 1] for row in kept.rows]
        width = len(HEADER) - 1
        return SheetSpec(name, [[title], *undated[1:]], [(0, 0, 0, width - 1)])
    times = [(8, 30), (9, 0), (9, 30), (13, 0), (14, 15)]
    blocks = [("Dr. Rivera", range(3)), ("Dr. Chen", range(3, 5))]
    rows: list[list[Cell]] = [[f"Riverside Family Dental: {name}"], [], list(HEADER)]
    merges = [(0, 0, 0, len(HEADER) - 1)]  # the title over the table's width
    for provider, slots in blocks:
        top = len(rows)
        for i in slots:
            number = first_id + i
            date: Cell = day if i == slots[0] else None
            patient = PATIENTS[i]
            cell = None if patient == NO_CELL else cell_phone(number)
            rows.append(
                [
                    f"A{number}",
                    date,
                    dt.time(*times[i]),
                    provider,
                    patient,
                    cell,
                    home_phone(number),
                ]
            )
        merges.append((top, 1, len(rows) - 1, 1))
        rows.append([])  # a blank row between the blocks
    rows.append(["TOTAL", None, None, None, f"{len(PATIENTS)} appointments"])
    rows.append([])
    rows.append(["Confirm tomorrow's patients by 4 PM"])
    return SheetSpec(name, rows, merges)


WORKBOOK = [
    NOTES,
    day_sheet("Mon 12-14", dt.date(2026, 12, 14), 101),
    day_sheet("Tue 12-15", dt.date(2026, 12, 15), 201),
]
# The same week with each day's date in its sheet's title only (no Date column).
TITLED = [
    NOTES,
    day_sheet("Mon 12-14", dt.date(2026, 12, 14), 101, dated=False),
    day_sheet("Tue 12-15", dt.date(2026, 12, 15), 201, dated=False),
]
