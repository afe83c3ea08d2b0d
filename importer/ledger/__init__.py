"""The ledger: what this program has sent, so a re-run sends only what changed.

A SQLite file (:class:`Ledger`, its tables in :mod:`importer.ledger.schema`) keeps each row's
``external_id``, Apptoto id and payload hash; one run at a time holds its lock
(:mod:`importer.ledger.lock`); payloads are compared by a stable hash of their canonical JSON
(:mod:`importer.ledger.hashing`).
"""

from importer.ledger.appointments import appointment_keys, names_of, payload_names, same_person
from importer.ledger.hashing import (
    canonical_json,
    changed_fields,
    changed_words,
    field_hashes,
    payload_hash,
)
from importer.ledger.lock import StateFileLock, held_by_another
from importer.ledger.lost_zeros import TryBudget, zeros_put_back
from importer.ledger.store import DEFAULT_LEDGER_PATH, Ledger, LedgerEntry, utc_now

__all__ = [
    "DEFAULT_LEDGER_PATH",
    "Ledger",
    "LedgerEntry",
    "StateFileLock",
    "TryBudget",
    "appointment_keys",
    "names_of",
    "payload_names",
    "canonical_json",
    "changed_fields",
    "changed_words",
    "field_hashes",
    "held_by_another",
    "payload_hash",
    "same_person",
    "utc_now",
    "zeros_put_back",
]
