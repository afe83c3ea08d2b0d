"""A stable content hash of one Apptoto event payload, to tell "unchanged" rows from changed ones.

The ledger stores the hash of what was last sent for each ``external_id``; a re-run sends a row
again only when the hash of its new payload differs. It also stores a short hash per field
(:func:`field_hashes`), never the values, to say which fields an update changes. Like
sqlite-utils ``hash_record``: a digest of canonical JSON, so the hash does not depend on key
order, whitespace or the Python version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

# Apptoto's own id is left out: an update carries it, the create of the same row did not, and both
# must hash the same. Only the top-level key: a participant's fields are content like any other.
EXCLUDED_KEYS = frozenset({"id"})


def canonical_json(payload: Mapping[str, Any]) -> str:
    """The payload as canonical JSON text: sorted keys, no whitespace, non-ASCII kept as is.

    The top-level ``id`` key is dropped. Lists keep their order (the order of participants is
    content). Raises ``TypeError`` for a value JSON cannot hold (a datetime, a set) and
    ``ValueError`` for NaN or infinity: both mean the payload was built wrongly, and hashing it
    anyway would hide the mistake.
    """
    kept = {key: value for key, value in payload.items() if key not in EXCLUDED_KEYS}
    return _dumps(kept)


def _dumps(value: Any) -> str:
    """Sorted keys, no whitespace, non-ASCII kept as is, NaN refused: canonical JSON text."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def payload_hash(payload: Mapping[str, Any]) -> str:
    """SHA-256 hex digest (64 characters) of the payload's canonical JSON, UTF-8 encoded.

    Equal for payloads that differ only in key order (at any depth) or in the top-level ``id``;
    different as soon as any other value, key or list order differs. Bad values raise as in
    :func:`canonical_json`.
    """
    return _sha256(canonical_json(payload))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


FIELD_HASH_CHARACTERS = 16  # 64 bits: enough to tell a changed field, too short to be a record


def field_hashes(payload: Mapping[str, Any]) -> dict[str, str]:
    """A digest of each top-level field's value (``id`` left out), keyed by field name.

    What the ledger keeps instead of the payload: enough to say *which* fields a later payload
    changes (``changes: start_time, location``), nothing to read a patient's details from.
    Participants and custom data are hashed as one value each (a name with its phone and email
    together), and each hash includes its field's name. Bad values raise as in
    :func:`canonical_json`.
    """
    return {
        key: _sha256(_dumps([key, value]))[:FIELD_HASH_CHARACTERS]
        for key, value in payload.items()
        if key not in EXCLUDED_KEYS
    }


# A changed field in the words staff use (an update's message: "changes: start, notes").
_CHANGE_WORDS = {
    "start_time": "start",
    "end_time": "end",
    "time_zone": "time zone",
    "all_day": "all day",
    "show_as": "show as",
    "content": "notes",
    "participants": "patient details",
    "custom_data": "extra details",
    "calendar_id": "calendar",
    "external_id": "appointment id",
}


def changed_fields(before: Mapping[str, str], after: Mapping[str, Any]) -> list[str]:
    """Top-level fields of payload ``after`` whose value differs from the one hashed in ``before``.

    ``before`` is the ledger's :func:`field_hashes` of the payload sent last. In
    the new payload's order, then removed fields. ``id`` is never a change: an update carries it,
    the payload it replaces did not.
    """
    now = field_hashes(after)
    keys = [*now, *(k for k in before if k not in now)]
    return [k for k in keys if before.get(k) != now.get(k)]


def changed_words(before: Mapping[str, str], after: Mapping[str, Any]) -> list[str]:
    """:func:`changed_fields` in the words staff use, each once ("start", "patient details")."""
    words = [_CHANGE_WORDS.get(field, field) for field in changed_fields(before, after)]
    return list(dict.fromkeys(words))
