"""Seeded clinic-like spreadsheets for the benchmarks: the columns of the example mapping
(``importer/examples/clinic.yaml``).

The rows look like what front desks type: phone numbers in a dozen shapes (some international,
some blank), US dates and 12-hour times mostly, ISO ones sometimes, a few time zones and many
blank ones (the mapping's default then applies), names with accents, locations with commas.
A small share of rows (``mistake_share``) carries the mistakes of ``samples/make_samples.py``:
short phone, email without domain, day-first date, blank start, end before start, repeated id,
zone written with a space. The same ``(rows, seed, mistake_share)`` always gives the same table.

Built with numpy over whole columns, so a 1,000,000-row CSV takes seconds, not minutes.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

HEADERS = [
    "Appointment ID", "Date", "Start", "End", "Provider", "Service", "First Name", "Last Name",
    "Phone", "Email", "DOB", "ZIP", "Location", "Time Zone", "Notes",
]  # fmt: skip

# Assigned US area codes (phonenumbers accepts every one of them).
AREA_CODES = np.array(
    [201, 202, 203, 205, 206, 207, 208, 209, 210, 212, 213, 214, 215, 216, 217, 224, 225, 228,
     229, 231, 234, 239, 240, 248, 251, 252, 253, 254, 256, 260, 262, 267, 269, 270, 276, 281,
     301, 302, 303, 304, 305, 307, 308, 309, 310, 312, 313, 314, 315, 316, 317, 318, 319, 320,
     321, 323, 330, 334, 336, 337, 339, 347, 352, 360, 361, 385, 386, 401, 402, 404, 405, 406,
     407, 408, 409, 410, 412, 413, 414, 415, 417, 419, 423, 424, 425, 432, 434, 435, 440, 443,
     458, 469, 470, 478, 479, 480, 484, 501, 502, 503, 504, 505, 507, 508, 509, 510, 512, 513,
     515, 516, 517, 518, 520, 530, 540, 541, 551, 559, 561, 562, 563, 570, 571, 573, 574, 575,
     580, 585, 586, 601, 602, 603, 605, 606, 607, 608, 609, 610, 612, 614, 615, 616, 617, 618,
     619, 620, 623, 626, 630, 631, 636, 646, 650, 651, 660, 661, 662, 678, 701, 702, 703, 704,
     706, 707, 708, 712, 713, 714, 715, 716, 717, 718, 719, 720, 724, 727, 731, 732, 734, 740,
     757, 760, 763, 765, 770, 772, 773, 774, 775, 781, 785, 786, 801, 802, 803, 804, 805, 806,
     808, 810, 812, 813, 814, 815, 816, 817, 818, 828, 830, 831, 832, 843, 845, 847, 850, 856,
     858, 859, 860, 862, 863, 864, 865, 870, 901, 903, 904, 907, 908, 909, 910, 912, 913, 914,
     915, 916, 917, 918, 919, 920, 925, 928, 931, 936, 937, 940, 941, 949, 951, 952, 954, 956,
     970, 971, 972, 973, 978, 979, 980, 985, 989]
)  # fmt: skip
# How staff write a US number: (share, numpy format over area, exchange, line).
PHONE_SHAPES = [
    (0.30, "({a}) {e}-{l}"),
    (0.15, "{a}-{e}-{l}"),
    (0.12, "{a}.{e}.{l}"),
    (0.12, "{a}{e}{l}"),
    (0.08, "{a} {e} {l}"),
    (0.08, "+1 {a}-{e}-{l}"),
    (0.04, "+1{a}{e}{l}"),
    (0.04, "1-{a}-{e}-{l}"),
    (0.03, "+1 ({a}) {e}-{l}"),
    (0.02, "1 ({a}) {e}-{l}"),
]
FOREIGN_PHONES = [
    "+44 20 7946 0958", "+39 06 6982 0000", "+52 55 5555 1234", "+33 1 42 68 53 00",
    "+49 30 901820", "+61 2 9374 4000", "+1 604 555 0199",
]  # fmt: skip
FOREIGN_SHARE = 0.01
BLANK_PHONE_SHARE = 0.02
PROVIDERS = [f"Dr. {name}" for name in (
    "Rivera", "Chen", "Patel", "Okafor", "Nguyen", "Schmidt", "Kowalski", "García", "Haddad",
    "Johansson", "O’Brien", "Tanaka", "Dubois", "Silva", "Cohen", "Murphy", "Kim", "Rossi",
    "Novak", "Larsen", "Singh", "Müller", "Ibrahim", "Park", "Walsh",
)]  # fmt: skip
SERVICES = [
    "Annual physical", "Flu shot", "Follow-up", "Consultation", "Lab review", "New patient visit",
    "Physiotherapy", "Vaccination", "Dermatology check", "Mole removal", "Six-month review",
    "Blood draw", "Telehealth check-in", "Allergy test",
]  # fmt: skip
FIRST_NAMES = [
    "Maria", "James", "Aiko", "Noah", "Fatima", "Liam", "Zoë", "Ethan", "Sofia", "Omar", "Grace",
    "Henry", "Ava", "Lucas", "Chloé", "Mason", "Isla", "Leo", "Mia", "Ella", "José", "Siobhán",
    "Björn", "Nadia", "Kwame", "Priya", "Mateo", "Hana", "Yusuf", "Olivia",
]  # fmt: skip
LAST_NAMES = [
    "Gómez", "O’Connor", "Tanaka", "Becker", "Haddad", "Walsh", "Lefèvre", "Brooks", "Rossi",
    "Farouk", "Kim", "Adams", "Nguyen", "Martin", "Dubois", "Clark", "Murphy", "Schmidt",
    "Fischer", "Novak", "Núñez", "Øster", "Smith", "Johnson", "Williams", "Brown", "Jones",
    "Miller", "Davis", "Wilson",
]  # fmt: skip
LOCATIONS = [
    "Eugene clinic, room 2", "Eugene clinic, room 5", "Boise clinic", "Downtown office",
    "Main St. clinic, 2nd floor", "Telehealth (video link sent by email)", "",
]  # fmt: skip
# Zones: blank (the mapping's default, America/Los_Angeles) for most rows.
ZONES = [
    ("", 0.45), ("America/Los_Angeles", 0.15), ("America/Denver", 0.08),
    ("America/Chicago", 0.1), ("America/New_York", 0.12), ("America/Phoenix", 0.04),
    ("America/Boise", 0.04), ("Pacific/Honolulu", 0.02),
]  # fmt: skip
NOTES = [
    "", "", "", "", "Fasting since midnight", "Bring glucose log", "Interpreter (Arabic) booked",
    'Patient says "call before 5"', "Knee, 3rd session", "Guardian: Leila Farouk",
    "Prefers text messages", "Wheelchair access, ground floor",
]  # fmt: skip
LENGTHS_MINUTES = np.array([15, 20, 30, 45, 60])
FIRST_DAY = dt.date(2026, 12, 1)
DAYS = 365
MISTAKES = ("short_phone", "bad_email", "day_first", "blank_start", "end_first", "same_id", "zone")


def _choice(
    rng: np.random.Generator, options: list[str], size: int, p: list[float] | None = None
) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=size, p=p)]


def _ascii(name: str) -> str:
    """``"Zoë"`` -> ``"zoe"``, ``"O’Connor"`` -> ``"oconnor"``: the part of an email address."""
    folded = unicodedata.normalize("NFKD", name.replace("ø", "o").replace("Ø", "O"))
    return "".join(c for c in folded.lower() if c.isascii() and c.isalnum())


def _digits(values: np.ndarray, width: int) -> pd.Series:
    return pd.Series(values).astype(str).str.zfill(width)


def _twelve_hour(minutes: np.ndarray, shapes: np.ndarray) -> pd.Series:
    """Minutes after midnight as staff write them: ``9:30 AM``, ``09:30 am``, ``9:30am``, ``14:30``.

    ``shapes`` picks the way per row (0 to 3, in that order).
    """
    hours, mins = minutes // 60, minutes % 60
    twelve = (hours - 1) % 12 + 1
    ampm = np.where(hours < 12, "AM", "PM")
    h, m = pd.Series(twelve).astype(str), _digits(mins, 2)
    upper = pd.Series(ampm, dtype=str)
    lower = pd.Series(np.char.lower(ampm), dtype=str)
    written: pd.Series = h + ":" + m + " " + upper  # 9:30 AM
    padded = h.str.zfill(2) + ":" + m + " " + lower  # 09:30 am
    tight = h + ":" + m + lower  # 9:30am
    iso = _digits(hours, 2) + ":" + m  # 14:30
    return written.where(shapes == 0, padded.where(shapes == 1, tight.where(shapes == 2, iso)))


def _phones(rng: np.random.Generator, size: int) -> pd.Series:
    area = pd.Series(AREA_CODES[rng.integers(0, len(AREA_CODES), size)]).astype(str)
    exchange = pd.Series(rng.integers(200, 1000, size)).astype(str)
    line = _digits(rng.integers(0, 10_000, size), 4)
    shares = np.array([share for share, _ in PHONE_SHAPES])
    shape = rng.choice(len(PHONE_SHAPES), size=size, p=shares / shares.sum())
    phones = pd.Series("", index=range(size), dtype=object)
    for i, (_, pattern) in enumerate(PHONE_SHAPES):
        picked = shape == i
        parts = {"a": area[picked], "e": exchange[picked], "l": line[picked]}
        text = pd.Series("", index=parts["a"].index, dtype=object)
        rest = pattern
        while rest:  # "({a}) {e}-{l}" -> literal and column pieces, concatenated per column
            brace = rest.find("{")
            if brace < 0:
                text = text + rest
                break
            text = text + rest[:brace] + parts[rest[brace + 1]]
            rest = rest[brace + 3 :]
        phones[picked] = text
    draw = rng.random(size)
    phones[draw < FOREIGN_SHARE] = _choice(rng, FOREIGN_PHONES, int((draw < FOREIGN_SHARE).sum()))
    phones[(draw >= FOREIGN_SHARE) & (draw < FOREIGN_SHARE + BLANK_PHONE_SHARE)] = ""
    return phones


def clinic_table(rows: int, seed: int, mistake_share: float = 0.005) -> pd.DataFrame:
    """``rows`` appointments as text cells (blank = ""), columns as in ``HEADERS``.

    Also returns, in ``frame.attrs``, the typed values the XLSX writer needs: ``day`` (dates),
    ``start_minutes``/``end_minutes`` (minutes after midnight, -1 for a blank start).
    """
    rng = np.random.default_rng(seed)
    ids = _digits(np.arange(1, rows + 1) + 1_000_000, 7)
    day = pd.Timestamp(FIRST_DAY) + pd.to_timedelta(rng.integers(0, DAYS, rows), unit="D")
    us_date = pd.Series(day.strftime("%m/%d/%Y"))
    iso_date = pd.Series(day.strftime("%Y-%m-%d"))
    date = us_date.where(rng.random(rows) < 0.9, iso_date)
    start = 7 * 60 + 15 * rng.integers(0, 44, rows)  # 7:00 AM .. 5:45 PM
    end = start + LENGTHS_MINUTES[rng.integers(0, len(LENGTHS_MINUTES), rows)]
    time_shape = rng.choice(4, size=rows, p=[0.7, 0.1, 0.05, 0.15])
    first = _choice(rng, FIRST_NAMES, rows)
    last = _choice(rng, LAST_NAMES, rows)
    email_user = pd.Series(first).map(_ascii) + "." + pd.Series(last).map(_ascii)
    email = email_user + pd.Series(np.arange(rows) % 9973).astype(str) + "@example.com"
    email = email.where(rng.random(rows) > 0.05, "")
    dob = pd.Timestamp("1935-01-01") + pd.to_timedelta(rng.integers(0, 32_000, rows), unit="D")
    zones, zone_shares = zip(*ZONES, strict=True)
    frame = pd.DataFrame(
        {
            "Appointment ID": ids,
            "Date": date,
            "Start": _twelve_hour(start, time_shape),
            "End": _twelve_hour(end, time_shape),
            "Provider": _choice(rng, PROVIDERS, rows),
            "Service": _choice(rng, SERVICES, rows),
            "First Name": first,
            "Last Name": last,
            "Phone": _phones(rng, rows),
            "Email": email,
            "DOB": pd.Series(dob.strftime("%m/%d/%Y")),
            "ZIP": _digits(rng.integers(501, 99_951, rows), 5),
            "Location": _choice(rng, LOCATIONS, rows),
            "Time Zone": _choice(rng, list(zones), rows, p=list(zone_shares)),
            "Notes": _choice(rng, NOTES, rows),
        }
    )
    frame.attrs["day"] = day
    frame.attrs["start_minutes"] = start.copy()
    frame.attrs["end_minutes"] = end.copy()
    _add_mistakes(frame, rng, mistake_share)
    return frame


def _add_mistakes(frame: pd.DataFrame, rng: np.random.Generator, share: float) -> None:
    """Spoil ``share`` of the rows, each with one mistake of ``MISTAKES`` (row 0 stays clean)."""
    count = int(len(frame) * share)
    if count == 0:
        return
    picked = rng.choice(np.arange(1, len(frame)), size=count, replace=False)
    kinds = rng.integers(0, len(MISTAKES), count)
    for position, kind in zip(picked.tolist(), kinds.tolist(), strict=True):
        mistake = MISTAKES[kind]
        if mistake == "short_phone":
            frame.iat[position, 8] = "555-012"
        elif mistake == "bad_email":
            frame.iat[position, 9] = "someone@gmail"
        elif mistake == "day_first":
            day = frame.attrs["day"][position]
            frame.iat[position, 1] = f"{max(day.day, 13):02d}/{day.month:02d}/{day.year}"
        elif mistake == "blank_start":
            frame.iat[position, 2] = ""
            frame.attrs["start_minutes"][position] = -1
        elif mistake == "end_first":
            frame.iat[position, 3] = "6:00 AM"
            frame.attrs["end_minutes"][position] = 6 * 60
        elif mistake == "same_id":
            frame.iat[position, 0] = str(frame.iat[position - 1, 0])
        else:
            frame.iat[position, 13] = "America/Los Angeles"


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """The table as Excel's "CSV UTF-8" writes it (BOM, commas, quotes where needed)."""
    frame.to_csv(path, index=False, encoding="utf-8-sig")


def write_xlsx(frame: pd.DataFrame, path: Path) -> None:
    """The table as a workbook with Excel's habits: date and time cells, digit-only phones as
    numbers, ids and ZIP codes as text (leading zeros kept), text in a shared-strings table.

    Sheet "Appointments". openpyxl's normal mode, not its write-only one: that one writes every
    text cell inline, which Excel never does, and which makes a sheet twice as large to parse.
    """
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Appointments"
    sheet.append(HEADERS)
    days = [d.date() for d in frame.attrs["day"]]
    starts, ends = frame.attrs["start_minutes"], frame.attrs["end_minutes"]
    records = frame.itertuples(index=False, name=None)
    for position, values in enumerate(records):
        row: list[object] = list(values)
        if row[1] == days[position].strftime("%m/%d/%Y") or row[1] == days[position].isoformat():
            row[1] = days[position]  # a day-first mistake stays the text that was typed
        for column, minutes in ((2, int(starts[position])), (3, int(ends[position]))):
            if minutes >= 0 and row[column]:
                row[column] = dt.time(minutes // 60, minutes % 60)
        phone = row[8]
        if isinstance(phone, str) and phone.isdigit():
            row[8] = int(phone)
        sheet.append([value if value != "" else None for value in row])
    workbook.save(path)
    share_strings(path)


_INLINE_TEXT = re.compile(
    r'<c r="([A-Z]+[0-9]+)"((?: s="[0-9]+")?) t="inlineStr"><is><t( xml:space="preserve")?>'
    r"(.*?)</t></is></c>",
    re.DOTALL,
)
_SHARED_STRINGS_TYPE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
)
_SHARED_STRINGS_RELATION = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
)


def share_strings(path: Path) -> None:
    """Move a workbook's inline text cells into a shared-strings table, as Excel saves them.

    openpyxl 3.1 writes every text cell inline (``t="inlineStr"``); Excel never does, and inline
    text makes the sheet twice as large to parse. The text stays XML-escaped as it was.
    """
    with zipfile.ZipFile(path) as workbook:
        parts = {name: workbook.read(name) for name in workbook.namelist()}
    index: dict[str, int] = {}
    count = 0

    def shared(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        number = index.setdefault(match.group(4), len(index))
        return f'<c r="{match.group(1)}"{match.group(2)} t="s"><v>{number}</v></c>'

    for name in [n for n in parts if n.startswith("xl/worksheets/") and n.endswith(".xml")]:
        parts[name] = _INLINE_TEXT.sub(shared, parts[name].decode("utf-8")).encode("utf-8")
    items = "".join(f'<si><t xml:space="preserve">{text}</t></si>' for text in index)
    parts["xl/sharedStrings.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{count}" uniqueCount="{len(index)}">{items}</sst>'
    ).encode()
    types = parts["[Content_Types].xml"].decode("utf-8")
    override = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_SHARED_STRINGS_TYPE}"/>'
    parts["[Content_Types].xml"] = types.replace("</Types>", override + "</Types>").encode()
    relations = parts["xl/_rels/workbook.xml.rels"].decode("utf-8")
    relation = (
        f'<Relationship Type="{_SHARED_STRINGS_RELATION}" Target="sharedStrings.xml" '
        'Id="rIdSharedStrings"/>'
    )
    parts["xl/_rels/workbook.xml.rels"] = relations.replace(
        "</Relationships>", relation + "</Relationships>"
    ).encode()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as workbook:
        for name, content in parts.items():
            workbook.writestr(name, content)
