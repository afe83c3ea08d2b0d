"""Date and time formats in the words office staff read: ``%m/%d/%Y`` is ``MM/DD/YYYY``."""

from __future__ import annotations

import datetime as dt
import re

EXAMPLE = dt.datetime(2026, 12, 31, 14, 30, 0)  # the moment messages show a format with

_WORDS = {
    "%Y": "YYYY",
    "%y": "YY",
    "%m": "MM",
    "%d": "DD",
    "%b": "Mon",
    "%B": "Month",
    "%a": "Day",
    "%A": "Weekday",
    "%H": "HH",
    "%I": "hh",
    "%M": "mm",
    "%S": "ss",
    "%p": "AM/PM",
    "%%": "%",
}


def shape_in_words(fmt: str) -> str:
    """``"%m/%d/%Y"`` -> ``"MM/DD/YYYY"``."""
    return re.sub(r"%.", lambda m: _WORDS.get(m.group(0), m.group(0)), fmt)


def format_in_words(fmt: str) -> str:
    """``"%m/%d/%Y"`` -> ``"MM/DD/YYYY (e.g. 12/31/2026)"``, for messages to office staff."""
    return f"{shape_in_words(fmt)} (e.g. {EXAMPLE.strftime(fmt)})"
