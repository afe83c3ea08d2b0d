"""The participants of each row: name, email and phone (the first valid of several phones), or
an Apptoto contact, for one participant template of the mapping.

A bad email or phone beside a good other contact detail is left out with a warning, so the
reminder still reaches the patient; with no good contact left, it is the row's problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

from importer.events.cells import IssueCollector, TemplateRenderer, column_name, whole_numbers
from importer.events.row_warnings import same_values
from importer.mapping import ParticipantTemplate, Template
from importer.validate import email_addresses
from importer.values import is_empty, normalise_phones, not_empty


def _blank(cells: TemplateRenderer) -> pd.Series:
    return pd.Series("", index=cells.index, dtype="str")


@dataclass(frozen=True)
class Participants:
    """One participant template's participant on every row."""

    values: dict[str, pd.Series]  # per field, its text on every row ("" where blank)
    who: np.ndarray  # per row, a number shared by rows with the same name, email, phone; -1: nobody
    names: pd.Series  # per row, the name ("" for none)
    # Per row: the participant can be reminded (a usable phone or email, or an Apptoto contact),
    # or a contact detail was written that cannot be used (the row has its own issue for that).
    reachable: np.ndarray

    def people(self) -> list[dict[str, Any] | None]:
        """Per row, the participant's non-blank fields as a dict (None where every one is
        blank): made when the payloads are, never by ``validate``."""
        return _people(self.values)


def participants_of(
    cells: TemplateRenderer,
    participant: ParticipantTemplate,
    number: int,
    region: str,
    issues: IssueCollector,
) -> Participants:
    """The participant of every row, for one participant template of the mapping."""
    values: dict[str, pd.Series] = {}
    key = f"participants[{number}]"
    faults: dict[str, _Fault] = {}
    for field_name, template in participant.templates():
        if field_name == "phone":
            if "phone" not in values:
                values["phone"], faults["phone"] = _phone(
                    cells, participant.phones, key, region, issues
                )
            continue
        text = cells.render(template)
        if field_name == "email":
            written = text
            text, reason = email_addresses(written)
            bad = reason.notna()
            column = column_name(template, f"{key}.email")
            faults["email"] = _Fault(bad, column, written, reason.fillna("") if bad.any() else "")
        elif field_name == "contact_id":
            ids = whole_numbers(cells, template, f"{key}.contact_id", issues, required=False)
            text = ids.where(ids.notna(), "")
        values[field_name] = text
    _contact_faults(values, faults, issues)
    present = {f: v.ne("") for f, v in values.items()}
    no_field = pd.Series(False, index=cells.index)
    contact = present.get("contact_id", no_field) | present.get("contact_external_id", no_field)
    details = no_field.copy()
    for field_name in ("name", "email", "phone"):
        details |= present.get(field_name, no_field)
    issues.add(
        contact & details,
        "",
        "",
        "gives both an Apptoto contact and a name, email or phone for the same person: "
        "Apptoto takes one or the other; leave one of them blank",
    )
    blank = _blank(cells)
    names = values.get("name", blank)
    who = same_values([values.get(f, blank) for f in ("name", "email", "phone")])
    reachable = contact | present.get("email", no_field) | present.get("phone", no_field)
    for fault in faults.values():
        reachable |= fault.where
    return Participants(values, who, names, reachable.to_numpy(dtype=bool))


def _people(values: dict[str, pd.Series]) -> list[dict[str, Any] | None]:
    """Per row, its non-blank fields as a dict (None where every one is blank).

    Rows are grouped by which fields they fill (a handful of shapes), and each group's dicts are
    made by ``map(dict, ...)`` over its rows: no Python statement runs per cell.
    """
    fields = list(values)
    columns = [values[f].to_numpy(dtype=object) for f in fields]
    count = len(columns[0]) if columns else 0
    shape = np.zeros(count, dtype=np.int64)
    for bit, column in enumerate(columns):
        shape |= (column != "").astype(np.int64) << bit
    people: list[dict[str, Any] | None] = [None] * count
    for filled in np.unique(shape).tolist():
        kept = [bit for bit in range(len(fields)) if filled >> bit & 1]
        if not kept:
            continue
        rows = np.flatnonzero(shape == filled)
        keys = [fields[bit] for bit in kept]
        made = map(
            dict,
            map(
                zip, repeat(keys), zip(*[columns[bit][rows].tolist() for bit in kept], strict=True)
            ),
        )
        for row, person in zip(rows.tolist(), made, strict=True):
            people[row] = person
    return people


@dataclass(frozen=True)
class _Fault:
    """The cells of one contact field (email, phone) that cannot be used, and why."""

    where: pd.Series
    column: str | pd.Series
    text: pd.Series
    reason: str | pd.Series


def _phone(
    cells: TemplateRenderer,
    templates: tuple[Template, ...],
    key: str,
    region: str,
    issues: IssueCollector,
) -> tuple[pd.Series, _Fault]:
    """Each row's phone in E.164 ("" for none): the first valid number of ``templates``.

    A blank preferred phone gives way to the next silently; a wrong one gives way with a warning
    naming it. Where no phone is valid, the first wrong one is the row's fault.
    """
    if len(templates) == 1:
        return _one_phone(cells, templates[0], key, region)
    chosen = _blank(cells)
    chosen_column = _blank(cells)
    fault = pd.Series(False, index=cells.index)
    fault_column, fault_text, fault_reason = (
        _blank(cells),
        _blank(cells),
        _blank(cells),
    )
    for template in templates:
        text = cells.render(template)
        e164, reason = normalise_phones(text, region)
        still_open = is_empty(chosen)
        first_fault = still_open & reason.notna() & ~fault
        fault_column = fault_column.mask(first_fault, column_name(template, f"{key}.phone"))
        fault_text = fault_text.mask(first_fault, text)
        fault_reason = fault_reason.mask(first_fault, reason.astype("str"))
        fault |= first_fault
        taken = still_open & e164.notna()
        chosen = chosen.mask(taken, e164.astype("str"))
        chosen_column = chosen_column.mask(taken, column_name(template, f"{key}.phone"))
    warned = fault & not_empty(chosen)
    if warned.any():  # the words made for the rows warned only: string sums cost per row
        issues.add(
            warned,
            fault_column,
            fault_text,
            fault_reason[warned] + ": the number in " + chosen_column[warned] + " is sent instead",
            warning=True,
        )
    return chosen, _Fault(fault & is_empty(chosen), fault_column, fault_text, fault_reason)


def _one_phone(
    cells: TemplateRenderer, template: Template, key: str, region: str
) -> tuple[pd.Series, _Fault]:
    """:func:`_phone` for one phone column (most mappings): a number is valid or it is the row's
    fault, nothing gives way, so the columns of masks the loop keeps are not needed (~10 ms per
    25,000 rows)."""
    text = cells.render(template)
    e164, reason = normalise_phones(text, region)
    fault = reason.notna()
    return e164.astype("str").fillna(""), _Fault(
        fault, column_name(template, f"{key}.phone"), text, reason
    )


_OTHER_CONTACT = {"email": "phone", "phone": "email"}


def _contact_faults(
    values: dict[str, pd.Series], faults: dict[str, _Fault], issues: IssueCollector
) -> None:
    """A bad email or phone blocks the row only when the participant has no good other one.

    Beside a good other contact, the bad one is left out of ``values`` and the row is sent with
    a warning naming what was left out; a reminder then still reaches the patient.
    """
    usable = {name: not_empty(values[name]) & ~fault.where for name, fault in faults.items()}
    for name, fault in faults.items():
        other = _OTHER_CONTACT[name]
        other_usable = usable.get(other, pd.Series(False, index=fault.where.index))
        dropped = fault.where & other_usable
        issues.add(fault.where & ~other_usable, fault.column, fault.text, fault.reason)
        if not dropped.any():
            continue
        reason = (
            fault.reason if isinstance(fault.reason, str) else fault.reason[dropped].astype(object)
        )
        issues.add(
            dropped,
            fault.column,
            fault.text,
            reason + f": this {name} is left out and the reminder goes to the {other} only",
            warning=True,
        )
        values[name] = values[name].where(~dropped, "")


def unreachable_warnings(
    participants: list[Participants],
    templates: tuple[ParticipantTemplate, ...],
    index: pd.Index,
    issues: IssueCollector,
) -> None:
    """Warn on every row whose appointment nobody can be reminded of: no participant with a
    phone, an email or an Apptoto contact. Such a row is sent (it is in the calendar), but
    Apptoto has no one to send its reminder to, and nothing else would say so."""
    reached = np.zeros(len(index), dtype=bool)
    for one in participants:
        reached |= one.reachable
    if reached.all():
        return
    unreached = ~reached
    if not templates:
        issues.add(
            unreached,
            "",
            "",
            "this appointment has no participant: it is sent, but Apptoto has nobody to send "
            "its reminder to; the mapping needs participants, with a phone or email column",
            warning=True,
        )
        return
    first = templates[0]
    contact = first.phone or first.email
    column = column_name(contact, "participants[1].phone") if contact is not None else ""
    reads_contacts = any(t.phones or t.email is not None for t in templates)
    mend = (
        "fill in their mobile number or email"
        if reads_contacts
        else "the mapping reads no phone or email column: add one to its participants"
    )
    names = participants[0].names.to_numpy(dtype=object)[unreached]
    who = [f"for {name!r}" if name else "for anyone on this row" for name in names.tolist()]
    reasons = np.full(len(index), "", dtype=object)
    reasons[unreached] = [
        f"no phone or email {person}: the appointment is sent, but Apptoto has no way to "
        f"remind them; {mend}"
        for person in who
    ]
    issues.add(unreached, column, "", pd.Series(reasons, index=index, dtype="str"), warning=True)
