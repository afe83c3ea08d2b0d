"""Times typed with a slip, named in a reason rather than read: a minute or second of one digit
(``9:5 pm``: 9:05 or 9:50?) and a time without its colon (``0930``). :mod:`importer.values.dates`
refuses such values; the reasons are made here."""

from __future__ import annotations

import re

# A minute or second written with one digit ("9:5 pm", "2026-12-14 9:5", "09:30:5"): is it
# 9:05 or 9:50? strptime would read 9:05. A time alone starts the cell; in a date and time it
# follows a space or "T" (a date's own dots, "1.2.2026", are not minutes).
_ONE_DIGIT = r"[0-9]{1,2}[:.](?:[0-9](?![0-9])|[0-9]{2}[:.][0-9](?![0-9]))"
ONE_DIGIT_TIME = re.compile(rf"^{_ONE_DIGIT}")
ONE_DIGIT_IN_DATETIME = re.compile(rf"[\sT]{_ONE_DIGIT}")
_TIME_FIELDS = re.compile(r"(?P<hour>[0-9]{1,2})(?P<sep>[:.])(?P<minutes>[0-9]+)")


def one_digit_reason(value: str, *, in_datetime: bool = False) -> str:
    """Why ``value`` is not a time when a minute or second of it has one digit, else ""."""
    found = (ONE_DIGIT_IN_DATETIME if in_datetime else ONE_DIGIT_TIME).search(value)
    if found is None:
        return ""
    fields = _TIME_FIELDS.search(value, found.start())
    if fields is None or len(fields["minutes"]) != 1:
        return "has one digit for the seconds: write them with two digits (like 09:30:05)"
    hour, sep, digit = fields["hour"], fields["sep"], fields["minutes"]
    return (
        f"has one digit for the minutes: is it {hour}{sep}0{digit} or {hour}{sep}{digit}0? "
        "Write the minutes with two digits"
    )


# A time typed without its colon ("0930", "930", "1430"): hours up to 23, then the minutes.
_NO_COLON = re.compile(r"(?P<hour>[01]?[0-9]|2[0-3])(?P<minutes>[0-5][0-9])")


def no_colon_reason(value: str, *, twelve_hour: bool) -> str:
    """Why ``value`` is not a time when it is one typed without its colon, else ""."""
    found = _NO_COLON.fullmatch(value)
    if found is None:
        return ""
    time = f"{found['hour']}:{found['minutes']}"
    if twelve_hour and len(found["hour"]) == 1:  # "9:30" alone is refused there
        time = f"{time} AM or {time} PM"
    return f"has no colon between the hours and the minutes: write it as {time}"
