# ruff: noqa: E501  (the sample table reads best one appointment per line)
"""Write importer/examples/appointments.csv and .xlsx (shipped for `apptoto-import demo`): one
realistic clinic day.

Run from the repository root: ``.venv/bin/python samples/make_samples.py``. The two files hold the
same appointments; the CSV as staff type them (cp1252 would also do; this one is UTF-8 with BOM, as
Excel's "CSV UTF-8" writes it), the workbook with Excel's habits: real date and time cells, phone
numbers in numeric cells, ZIP codes and ids as text with their leading zeros.

Most rows are good. Some carry the mistakes staff make, each explained in the last column of this
table (not in the files): a short phone, an email without a domain, a day-first date, a blank start,
an end before the start, a repeated appointment id, a time zone written with a space.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

HEADERS = [
    "Appointment ID", "Date", "Start", "End", "Provider", "Service", "First Name", "Last Name",
    "Phone", "Email", "DOB", "ZIP", "Location", "Time Zone", "Notes",
]

# (id, date, start, end, provider, service, first, last, phone, email, dob, zip, location, zone, notes)
ROWS = [
    ("000101", "12/14/2026", "8:30 AM", "9:00 AM", "Dr. Rivera", "Annual physical", "Maria", "Gómez", "(541) 555-0104", "maria.gomez@example.com", "03/02/1985", "97401", "Eugene clinic, room 2", "America/Los_Angeles", "Fasting since midnight"),
    ("000102", "12/14/2026", "9:00 AM", "9:20 AM", "Dr. Rivera", "Flu shot", "James", "O’Connor", "541.555.0123", "jim.oconnor@example.com", "11/23/1972", "97402", "Eugene clinic, room 2", "", ""),
    ("000103", "12/14/2026", "9:30 AM", "10:15 AM", "Dr. Rivera", "Follow-up", "Aiko", "Tanaka", "5415550142", "aiko.t@example.org", "07/30/1990", "97403", "Eugene clinic, room 2", "America/Los_Angeles", "Bring glucose log"),
    ("000104", "12/14/2026", "10:30 AM", "11:00 AM", "Dr. Rivera", "Consultation", "Noah", "Becker", "+1 541-555-0177", "", "01/15/2001", "97404", "Eugene clinic, room 2", "", ""),
    ("000105", "12/14/2026", "1:00 PM", "1:30 PM", "Dr. Rivera", "Lab review", "Fatima", "Haddad", "541 555 0188", "f.haddad@example.com", "09/09/1968", "97405", "Eugene clinic, room 2", "", "Interpreter (Arabic) booked"),
    ("000106", "12/14/2026", "8:00 AM", "8:45 AM", "Dr. Chen", "New patient visit", "Liam", "Walsh", "(208) 555-0111", "liam.walsh@example.com", "05/05/1995", "83702", "Boise clinic", "America/Boise", ""),
    ("000107", "12/14/2026", "9:00 AM", "9:30 AM", "Dr. Chen", "Physiotherapy", "Zoë", "Lefèvre", "208-555-0122", "zoe.lefevre@example.fr", "12/12/1988", "83703", "Boise clinic", "America/Boise", "Knee, 3rd session"),
    ("000108", "12/14/2026", "10:00 AM", "10:30 AM", "Dr. Chen", "Follow-up", "Ethan", "Brooks", "2085550133", "ethan.brooks@example.com", "04/18/1979", "02134", "Boise clinic", "America/Boise", "Patient moved from Boston"),
    ("000109", "12/14/2026", "11:00 AM", "11:45 AM", "Dr. Chen", "Consultation", "Sofia", "Rossi", "+39 06 6982 0000", "sofia.rossi@example.it", "06/21/1993", "83704", "Boise clinic", "America/Boise", "Prefers text messages"),
    ("000110", "12/14/2026", "2:00 PM", "2:20 PM", "Dr. Chen", "Vaccination", "Omar", "Farouk", "208.555.0155", "omar.farouk@example.com", "10/02/2010", "83705", "Boise clinic", "America/Boise", "Guardian: Leila Farouk"),
    ("000111", "12/14/2026", "3:00 PM", "3:30 PM", "Dr. Patel", "Dermatology check", "Grace", "Kim", "(541) 555-0166", "grace.kim@example.com", "02/14/1983", "97401", "Eugene clinic, room 5", "", ""),
    ("000112", "12/14/2026", "3:45 PM", "4:15 PM", "Dr. Patel", "Mole removal", "Henry", "Adams", "541-555-0199", "henry.adams@example.com", "08/08/1960", "97408", "Eugene clinic, room 5", "", "=Bring referral letter"),
    ("000113", "07/01/2027", "9:00 AM", "9:30 AM", "Dr. Patel", "Six-month review", "Grace", "Kim", "(541) 555-0166", "grace.kim@example.com", "02/14/1983", "97401", "Eugene clinic, room 5", "", "Booked at the December visit"),
    ("000114", "07/01/2027", "10:00 AM", "10:30 AM", "Dr. Chen", "Six-month review", "Liam", "Walsh", "(208) 555-0111", "liam.walsh@example.com", "05/05/1995", "83702", "Boise clinic", "America/Boise", ""),
    # The mistakes staff make:
    ("000115", "12/14/2026", "11:00 AM", "11:30 AM", "Dr. Patel", "Consultation", "Ava", "Nguyen", "555-012", "", "03/03/1999", "97401", "Eugene clinic, room 5", "", "Phone number is missing digits, no email"),
    ("000116", "12/14/2026", "11:30 AM", "12:00 PM", "Dr. Patel", "Consultation", "Lucas", "Martin", "", "lucas.martin@gmail", "09/19/1987", "97402", "Eugene clinic, room 5", "", "Email has no domain ending, no phone"),
    ("000117", "14/12/2026", "1:00 PM", "1:30 PM", "Dr. Patel", "Follow-up", "Chloe", "Dubois", "(541) 555-0112", "chloe.dubois@example.com", "12/01/1975", "97403", "Eugene clinic, room 5", "", "Date typed day-first"),
    ("000118", "12/14/2026", "", "2:30 PM", "Dr. Rivera", "Follow-up", "Mason", "Clark", "(541) 555-0113", "mason.clark@example.com", "06/06/1966", "97404", "Eugene clinic, room 2", "", "Start time left blank"),
    ("000119", "12/14/2026", "4:00 PM", "3:30 PM", "Dr. Rivera", "Consultation", "Isla", "Murphy", "(541) 555-0114", "isla.murphy@example.com", "01/01/2000", "97405", "Eugene clinic, room 2", "", "End before start"),
    ("000120", "12/14/2026", "4:30 PM", "5:00 PM", "Dr. Chen", "Consultation", "Leo", "Schmidt", "(208) 555-0115", "leo.schmidt@example.com", "02/02/1992", "83706", "Boise clinic", "America/Boise", "Same id as the next row"),
    ("000120", "12/14/2026", "5:00 PM", "5:30 PM", "Dr. Chen", "Consultation", "Mia", "Fischer", "(208) 555-0116", "mia.fischer@example.com", "03/03/1993", "83707", "Boise clinic", "America/Boise", "Same id as the row above"),
    ("000122", "12/14/2026", "2:00 PM", "2:30 PM", "Dr. Rivera", "Consultation", "Ella", "Novak", "(541) 555-0117", "ella.novak@example.com", "04/04/1984", "97406", "Eugene clinic, room 2", "America/Los Angeles", "Zone written with a space"),
]


def _date(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%m/%d/%Y").date()


def _time(text: str) -> dt.time:
    return dt.datetime.strptime(text, "%I:%M %p").time()


def write_csv(path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(ROWS)


def write_xlsx(path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Appointments"
    sheet.append(HEADERS)
    for values in ROWS:
        row: list[object] = list(values)
        # Excel's habits: typed dates and times, phone digits as numbers; a day-first date or a
        # blank cell stays as the text the person typed.
        for i in (1,):
            try:
                row[i] = _date(str(row[i]))
            except ValueError:
                pass
        for i in (2, 3):
            if row[i]:
                row[i] = _time(str(row[i]))
        if str(row[8]).isdigit():
            row[8] = int(str(row[8]))
        sheet.append(row)
    for cells in sheet.iter_rows(min_row=2):
        for cell in (cells[1],):
            if isinstance(cell.value, dt.date):
                cell.number_format = "mm/dd/yyyy"
        for cell in (cells[2], cells[3]):
            if isinstance(cell.value, dt.time):
                cell.number_format = "h:mm AM/PM"
        cells[8].number_format = "0"
        # Text that starts with "=" is text in the clinic's sheet (typed as '=...), not a formula.
        if isinstance(cells[14].value, str) and cells[14].value.startswith("="):
            cells[14].data_type = "s"
    notes = workbook.create_sheet("Read me")
    notes.append(["Appointments for Monday 14 December 2026, two clinics, three providers."])
    workbook.save(path)


if __name__ == "__main__":
    examples = Path(__file__).resolve().parent.parent / "importer" / "examples"
    write_csv(examples / "appointments.csv")
    write_xlsx(examples / "appointments.xlsx")
    print(f"wrote {here / 'appointments.csv'} and {here / 'appointments.xlsx'}")
