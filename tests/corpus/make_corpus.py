"""Write the corpus files that the tests cannot make with the project's own dependencies.

Run once by hand, outside the project's environment, with ``msoffcrypto-tool``, ``xlwt`` and
``openpyxl`` installed (they are not project dependencies)::

    python tests/corpus/make_corpus.py

- ``legacy.xls``: a real Excel 97-2003 workbook (an OLE2 compound file), as xlwt writes it.
- ``protected.xlsx``: a workbook encrypted with the password ``clinic`` (Excel's "Encrypt with
  Password": an OLE2 file holding an ``EncryptedPackage`` stream), as msoffcrypto-tool writes it.
"""

from __future__ import annotations

import io
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = ["Appointment ID", "Date", "Start", "End", "Provider"]
ROW = ["000101", "12/14/2026", "8:30 AM", "9:00 AM", "Dr. Rivera"]


def write_xls(path: Path) -> None:
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("Appointments")
    for row, values in enumerate([HEADER, ROW]):
        for column, value in enumerate(values):
            sheet.write(row, column, value)
    book.save(str(path))


def write_protected_xlsx(path: Path, password: str = "clinic") -> None:
    import openpyxl
    from msoffcrypto.format.ooxml import OOXMLFile

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Appointments"
    sheet.append(HEADER)
    sheet.append(ROW)
    plain = io.BytesIO()
    book.save(plain)
    plain.seek(0)
    with path.open("wb") as out:
        OOXMLFile(plain).encrypt(password, out)


if __name__ == "__main__":
    write_xls(HERE / "legacy.xls")
    write_protected_xlsx(HERE / "protected.xlsx")
