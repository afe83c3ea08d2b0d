"""Column checks: required, unique and typed cells, every failure of every row reported at once.

The mapping's ``columns:`` section becomes a pandera schema (:func:`build_schema`). Its checks are
vectorised (one call per column, not per cell) so a 100,000-row sheet validates in well under a
second. Pandera's failure cases are turned into :class:`~importer.outcomes.RowIssue` values with
reasons in plain words for office staff, never pandera's own jargon.

Cells are compared with surrounding whitespace removed, and a whitespace-only cell is blank.
Blank cells fail only ``required``; the type checks and ``unique`` skip them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.config import ValidationDepth, config_context
from pandera.errors import SchemaErrors

from importer.mapping import ColumnCheck, ColumnType, Mapping
from importer.outcomes import RowIssue
from importer.values import is_empty, known_zones, normalise_phones, zone_cell_problem

REQUIRED_BLANK = "is required but blank: fill it in"
NOT_EMAIL = "is not an email address: check it for a typo (one looks like name@example.com)"
NOT_WHOLE_NUMBER = "is not a whole number"
DUPLICATED = "appears in more than one row (rows {rows}): each row needs its own value"
FAILED_CHECK = "does not pass the check {check!r}"  # a check this module does not know (a bug)

ROWS_SHOWN = 10  # a duplicated value names at most this many rows in its reason

# Check names as they appear in pandera's ``failure_cases["check"]``: pandera's own name for a
# blank cell in a non-nullable column, ours for the rest.
_PANDERA_REQUIRED = "not_nullable"
_UNIQUE = "unique"

# Email syntax, written with negated character classes only so it means the same in Python's
# ``re`` and in RE2 (pandas uses RE2 when strings are stored in pyarrow): unicode letters are
# allowed in both the local part and the domain (internationalised addresses), ASCII punctuation
# that cannot appear unquoted is not. Quoted local parts and IP-literal domains are rejected on
# purpose: nobody books a clinic appointment with one, and they are usually typos.
_NOT_LOCAL = r"\s@<>()\[\]\\,;:\".\u00a0"
_NOT_LABEL = _NOT_LOCAL + r"\-_+!#$%&'*/=?^`{|}~"
_LOCAL_ATOM = f"[^{_NOT_LOCAL}]+"
_LABEL_CHAR = f"[^{_NOT_LABEL}]"
# A domain label: letters and digits with inner hyphens only (no "-example" or "example-"),
# written so every character has one way to match (no backtracking blow-up on long cells).
_LABEL = f"{_LABEL_CHAR}(?:-*{_LABEL_CHAR})*"
EMAIL_PATTERN = (
    f"{_LOCAL_ATOM}(?:\\.{_LOCAL_ATOM})*"
    f"@(?:{_LABEL}\\.)+"
    f"(?:[^{_NOT_LABEL}0-9]{{2,}}|[xX][nN]--[a-zA-Z0-9-]+)"
)
EMAIL_MAX_LENGTH = 254  # RFC 5321: longer addresses cannot be delivered
INTEGER_PATTERN = r"[+-]?[0-9]+"  # [0-9], not \d: other scripts' digits are not whole numbers here


# Most addresses are plain ASCII (ann.lee+clinic@mail.example.org): this narrower pattern
# matches only addresses EMAIL_PATTERN matches too, in ~60% of its time; the others are asked of
# EMAIL_PATTERN (tests/test_validate.py checks the one is within the other).
PLAIN_EMAIL_PATTERN = (
    r"[A-Za-z0-9_%+'-]+(?:\.[A-Za-z0-9_%+'-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}"
)


@functools.cache
def _email_syntax() -> re.Pattern[str]:
    return re.compile(EMAIL_PATTERN)


@functools.cache
def _plain_email() -> re.Pattern[str]:
    return re.compile(PLAIN_EMAIL_PATTERN)


# Answers by text: the column checks and the map stage both check the same email column (one
# part of a file at a time), and the second pass then costs a dict lookup per address instead of
# the regex (~25 ms per 50,000 rows). Forgotten once a part is checked and mapped
# (importer.prepare.validate_and_map). Bounded to a bit more than the biggest part
# (importer.load.parts.WHOLE_ROWS, 100,000 rows): cleared when an answer would not fit, so a
# pass over known addresses never clears it; a column longer than the bound is not remembered
# (120,000 addresses hold ~15 MB).
_email_answers: dict[str, bool] = {}
EMAIL_MEMO_SIZE = 120_000


def forget_email_answers() -> None:
    """Empty the memo of email answers (see above)."""
    _email_answers.clear()


def emails_ok(cells: pd.Series) -> pd.Series:
    """Per cell, True when it is an email address (blank cells are not)."""
    # One compiled regex in a plain loop: pandas' .str.fullmatch costs ~3x more per cell.
    texts = cells.to_numpy(dtype=object)
    known = _email_answers if len(texts) <= EMAIL_MEMO_SIZE else {}
    plain, matches = _plain_email().fullmatch, _email_syntax().fullmatch
    ok = []
    for text in texts:
        if type(text) is not str:
            ok.append(False)
            continue
        answer = known.get(text)
        if answer is None:
            if len(known) >= EMAIL_MEMO_SIZE:
                known.clear()
            answer = known[text] = len(text) <= EMAIL_MAX_LENGTH and (
                plain(text) is not None or matches(text) is not None
            )
        ok.append(answer)
    return pd.Series(ok, index=cells.index, dtype=bool)


# An address as mail programs copy it: "Ann Lee <ann@example.com>", "mailto:ann@example.com",
# "ann@example.com;" (Outlook's separator). What is around the address is not sent.
_MAILTO = re.compile(r"(?i)^mailto:\s*")
_BRACKETED = re.compile(r"^[^<>]*<\s*([^<>\s]+)\s*>$")
_SEPARATORS = re.compile(r"[\s;,]+")


def two_addresses_reason(count: int) -> str:
    """Why a cell holding ``count`` (2 or more) email addresses has none to send to."""
    return (
        f"holds {count} email addresses: a reminder goes to one address; keep only the one to "
        "send to"
    )


def _unwrapped(text: str) -> tuple[str, str | None]:
    """The address in ``text`` (a cell that is not one as written) and None, or ``text`` and
    why it holds none."""
    matches = _email_syntax().fullmatch
    bare = _MAILTO.sub("", text.strip()).strip(" ;,")
    bracketed = _BRACKETED.fullmatch(bare)
    if bracketed is not None:
        bare = _MAILTO.sub("", bracketed.group(1))
    if len(bare) <= EMAIL_MAX_LENGTH and matches(bare) is not None:
        return bare, None
    pieces = [_MAILTO.sub("", p.strip("<>")) for p in _SEPARATORS.split(text) if "@" in p]
    found = [p for p in pieces if matches(p) is not None]
    if len(found) >= 2:
        return text, two_addresses_reason(len(found))
    return text, NOT_EMAIL


def email_addresses(cells: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Per cell (stripped text; blank ``""`` or NA), the address to send to, and where there is
    none, why (NA elsewhere).

    An address as mail programs copy it is that address (``Ann Lee <ann@example.com>``,
    ``mailto:ann@example.com``, ``ann@example.com;``). A cell of two addresses has none: a
    reminder goes to one, and which one is not the importer's to choose.
    """
    ok = emails_ok(cells).to_numpy() | pd.isna(cells.to_numpy(dtype=object)) | is_empty(cells)
    addresses = cells
    reasons = pd.Series(pd.NA, index=cells.index, dtype="str")
    if not ok.all():
        addresses = cells.copy()
        others = cells[~ok]
        found = {text: _unwrapped(text) for text in pd.unique(others.to_numpy(dtype=object))}
        addresses[~ok] = [found[t][0] for t in others]
        reasons[~ok] = [found[t][1] for t in others]
    return addresses, reasons


def _emails_ok_or_unwrapped(cells: pd.Series) -> pd.Series:
    return email_addresses(cells)[1].isna()


# Each check passes blank cells (NA) itself: pandera's ``ignore_na`` would look for them and
# drop them before every check and add them back after (~2% of checking a part).


def _or_blank(ok: pd.Series, cells: pd.Series) -> pd.Series:
    """``ok``, and True for every blank cell (looked for only when a cell failed)."""
    return ok if bool(ok.all()) else ok | cells.isna()


def _integer_ok(cells: pd.Series) -> pd.Series:
    return _or_blank(cells.str.fullmatch(INTEGER_PATTERN).fillna(False).astype(bool), cells)


def _unique_ok(cells: pd.Series) -> pd.Series:
    # keep=False: every row sharing a value fails, never "all but the first".
    return _or_blank(~cells.duplicated(keep=False), cells)


def _timezone_ok(cells: pd.Series) -> pd.Series:
    return _or_blank(cells.isin(known_zones()), cells)


def _phone_check(region: str) -> Callable[[pd.Series], pd.Series]:
    def phone_ok(cells: pd.Series) -> pd.Series:
        _, reason = normalise_phones(cells, region)
        return reason.isna()

    return phone_ok


def _check(passes: Callable[[pd.Series], pd.Series], name: str) -> pa.Check:
    """A pandera check of ``passes``, which passes blank cells (NA) itself (see above)."""
    return pa.Check(passes, name=name, ignore_na=False)


def _unique_checks(check: ColumnCheck) -> list[pa.Check]:
    # Not pandera's ``unique=True``: that one counts blank cells as duplicates of each other.
    return [_check(_unique_ok, _UNIQUE)] if check.unique else []


def _type_checks(column_type: ColumnType, phone_region: str) -> list[pa.Check]:
    """The vectorised pandera checks of one column type; the check name is the type's name.
    Every check passes blank cells: only ``required`` fails them."""
    if column_type is ColumnType.EMAIL:
        return [_check(_emails_ok_or_unwrapped, ColumnType.EMAIL.value)]
    if column_type is ColumnType.PHONE:
        return [_check(_phone_check(phone_region), ColumnType.PHONE.value)]
    if column_type is ColumnType.TIMEZONE:
        return [_check(_timezone_ok, ColumnType.TIMEZONE.value)]
    if column_type is ColumnType.INTEGER:
        return [_check(_integer_ok, ColumnType.INTEGER.value)]
    return []


def build_schema(checks: Sequence[ColumnCheck], phone_region: str) -> pa.DataFrameSchema:
    """The pandera schema for the given column checks (cells are stripped text, blank = NA).

    No dtype and no coercion: every cell is text already, and coercion would cost time and hide
    what was written.
    """
    columns = {
        check.name: pa.Column(
            nullable=not check.required,
            checks=_unique_checks(check) + _type_checks(check.type, phone_region),
            coerce=False,
        )
        for check in checks
    }
    return pa.DataFrameSchema(columns, coerce=False, strict=False, ordered=False)


def blank_to_na(cells: pd.Series) -> pd.Series:
    """Cell text with surrounding whitespace removed; blank and whitespace-only cells become NA."""
    written = cells.astype("str").to_numpy(dtype=object, na_value="")
    # A plain loop over Python strings: pandas' .str.strip() costs ~5x more per cell.
    stripped = [text.strip() or None for text in written]
    return pd.Series(stripped, index=cells.index, name=cells.name, dtype="str")


def _is_active(check: ColumnCheck) -> bool:
    return check.required or check.unique or check.type is not ColumnType.TEXT


def _duplicate_reasons(values: pd.Series, rows: np.ndarray) -> list[str]:
    """One reason per failing cell, naming every row (up to ROWS_SHOWN) that shares its value."""
    rows_of_value = pd.Series(rows).groupby(values.to_numpy(), sort=False).agg(list)
    text_of_value = {value: duplicated_reason(shared) for value, shared in rows_of_value.items()}
    return [text_of_value[v] for v in values]


def duplicated_reason(rows: Sequence[int]) -> str:
    """Why a cell of a ``unique`` column fails: every row (up to ROWS_SHOWN) with its value."""
    ordered = sorted(rows)
    shown = ", ".join(str(r) for r in ordered[:ROWS_SHOWN])
    more = len(ordered) - ROWS_SHOWN
    if more > 0:
        shown += f" and {more} more"
    return DUPLICATED.format(rows=shown)


def _phone_reasons(values: pd.Series, region: str) -> list[str]:
    _, reason = normalise_phones(values, region)
    return [str(r) for r in reason.fillna(FAILED_CHECK.format(check=ColumnType.PHONE.value))]


def _timezone_reasons(values: pd.Series, column: str) -> list[str]:
    # zone_cell_problem is not cached: ask once per distinct wrong zone, not once per row.
    problem_of = {v: zone_cell_problem(v, column) for v in pd.unique(values.to_numpy())}
    fallback = FAILED_CHECK.format(check=ColumnType.TIMEZONE.value)
    return [problem_of[v] or fallback for v in values]


def _reasons(
    check: str, column: str, values: pd.Series, rows: np.ndarray, phone_region: str
) -> list[str]:
    """Plain-words reasons for the failing cells of one column and one check."""
    if check == _PANDERA_REQUIRED:
        return [REQUIRED_BLANK] * len(values)
    if check == _UNIQUE:
        return _duplicate_reasons(values, rows)
    if check == ColumnType.EMAIL.value:
        return [str(r) for r in email_addresses(values)[1].fillna(NOT_EMAIL)]
    if check == ColumnType.INTEGER.value:
        return [NOT_WHOLE_NUMBER] * len(values)
    if check == ColumnType.PHONE.value:
        return _phone_reasons(values, phone_region)
    if check == ColumnType.TIMEZONE.value:
        return _timezone_reasons(values, column)
    return [FAILED_CHECK.format(check=check)] * len(values)


def _shared_issues(
    frame: pd.DataFrame, shared: dict[str, dict[int, tuple[int, ...]]], positions: dict[str, int]
) -> pd.DataFrame:
    """The ``unique`` failures of ``frame``'s rows whose value other rows of the file have."""
    found = []
    for name, rows_of in shared.items():
        column = frame.iloc[:, positions[name]]
        rows = [row for row in frame.index.tolist() if row in rows_of]
        if not rows:
            continue
        found.append(
            pd.DataFrame(
                {
                    "row": rows,
                    "sheet_position": positions[name],
                    "check_order": _CHECK_ORDER[_UNIQUE],
                    "column": name,
                    "value": column.loc[rows].astype("str").fillna("").to_numpy(dtype=object),
                    "reason": [duplicated_reason(rows_of[row]) for row in rows],
                }
            )
        )
    return pd.concat(found, ignore_index=True) if found else pd.DataFrame()


# Order of issues within one cell: blank first, then duplicates, then the type's complaint.
_CHECK_ORDER = {_PANDERA_REQUIRED: 0, _UNIQUE: 1}


def validate_columns(
    frame: pd.DataFrame,
    mapping: Mapping,
    shared: dict[str, dict[int, tuple[int, ...]]] | None = None,
) -> list[RowIssue]:
    """Check every cell against the mapping's ``columns:`` rules; return every failure at once.

    ``frame`` holds text cells (blank = NA), headers as column names, and the spreadsheet row
    number (header = row 1) as index. Each issue names that row, the column, the cell as written
    ("" when blank) and a plain-words reason. Issues are sorted by row, then by the column's
    place in the sheet. Mapped columns missing from the frame are skipped (they are reported
    earlier, by :func:`importer.mapping.check_columns`). An empty list means every cell passed.
    ``shared`` (``frame`` is one part of a file): column -> row -> every row of the file with
    the row's value; for those columns the ``unique`` check is that, not the frame's own.
    """
    first_position: dict[str, int] = {}
    for position, name in enumerate(frame.columns):
        first_position.setdefault(name, position)  # a repeated header: check the first one
    checks = [c for c in mapping.columns if c.name in first_position and _is_active(c)]
    if not checks or frame.empty:
        return []
    shared = {name: rows for name, rows in (shared or {}).items() if name in first_position}
    checks = [replace(c, unique=False) if c.name in shared else c for c in checks]
    elsewhere = _shared_issues(frame, shared, first_position)

    # Validate positions (0..n-1), not row labels: failure cases then map back to rows without
    # ambiguity even if the caller's index repeats a label.
    written = {c.name: frame.iloc[:, first_position[c.name]] for c in checks}
    cells = pd.DataFrame(
        {name: blank_to_na(column).reset_index(drop=True) for name, column in written.items()}
    )
    schema = build_schema(checks, mapping.defaults.phone_region)
    # Force validation on: PANDERA_VALIDATION_ENABLED / _DEPTH in the environment would
    # otherwise skip the checks silently and let bad rows through.
    with config_context(validation_enabled=True, validation_depth=ValidationDepth.SCHEMA_AND_DATA):
        try:
            schema.validate(cells, lazy=True, inplace=True)
        except SchemaErrors as exc:
            failures = exc.failure_cases
        else:
            failures = None
    parts: list[pd.DataFrame] = [elsewhere] if len(elsewhere) else []
    if failures is None and not parts:
        return []
    if failures is None:
        failures = pd.DataFrame({"index": [], "column": [], "check": []})

    row_numbers = np.asarray(frame.index, dtype=np.int64)
    broken = failures[failures["index"].isna()]
    if not broken.empty:
        # A check that raised instead of answering: a bug here, never bad input. Stop loudly
        # rather than let the rows it should have caught through.
        first = broken.iloc[0]
        raise RuntimeError(
            f"the {first['check']!r} check of column {first['column']!r} failed to run: "
            f"{first['failure_case']}"
        )
    for (column, check), group in failures.groupby(["column", "check"], sort=False):
        positions = group["index"].to_numpy(dtype=np.int64)
        rows = row_numbers[positions]
        values = cells[column].iloc[positions]
        as_written = written[column].iloc[positions].astype("str").fillna("")
        if check == _PANDERA_REQUIRED:
            as_written = pd.Series([""] * len(positions))
        parts.append(
            pd.DataFrame(
                {
                    "row": rows,
                    "sheet_position": first_position[str(column)],
                    "check_order": _CHECK_ORDER.get(str(check), 2),
                    "column": str(column),
                    "value": as_written.to_numpy(dtype=object),
                    "reason": _reasons(
                        str(check), str(column), values, rows, mapping.defaults.phone_region
                    ),
                }
            )
        )
    if not parts:
        return []
    issues = pd.concat(parts, ignore_index=True).sort_values(
        ["row", "sheet_position", "check_order"], kind="stable"
    )
    # .tolist() first: iterating pandas columns item by item costs seconds at 500,000 issues.
    return [
        RowIssue(row=row, column=column, value=value, reason=reason)
        for row, column, value, reason in zip(
            issues["row"].tolist(),
            issues["column"].tolist(),
            issues["value"].tolist(),
            issues["reason"].tolist(),
            strict=True,
        )
    ]
