"""Generated clinic rows shared by the re-run and crash tests: row n is the same in every test."""

from __future__ import annotations

HEADER = ["Appointment ID", "Date", "Start", "End", "Provider", "Service", "First Name"]
HEADER += ["Last Name", "Phone", "Email", "DOB", "ZIP", "Location", "Time Zone", "Notes"]


def appointment(n: int) -> dict[str, str]:
    return {
        "Appointment ID": f"{n:06d}",
        "Date": f"{1 + n % 12:02d}/{1 + n % 28:02d}/2027",
        "Start": f"{8 + n % 4}:{15 * (n // 4 % 4):02d} AM",
        "End": f"{8 + n % 4}:{15 * (n // 4 % 4) + 10:02d} AM",
        "Provider": f"Dr. {('Rivera', 'Chen', 'Patel')[n % 3]}",
        "Service": "Check-up",
        "First Name": f"Pat{n}",
        "Last Name": "Doe",
        "Phone": f"(541) 555-01{n % 100:02d}",
        "Email": "",
        "DOB": "",
        "ZIP": "97401",
        "Location": "Eugene",
        "Time Zone": "",
        "Notes": "",
    }
