"""Plain helpers the tests share: where things are, credentials for the sandbox, running the CLI
(in process or as a real process), reading a report, writing a sheet, what the server holds.

Fixtures live in ``conftest.py``; these are functions a test calls with what it has.
"""

from __future__ import annotations

import csv
import gc
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from importer.cli import app
from importer.client import ClientConfig
from importer.mapping import Mapping as ImportMapping
from importer.pipeline import RunRequest, RunSummary, run_import
from importer.sandbox.server import SandboxHandle

ROOT = Path(__file__).resolve().parent.parent
# The sample spreadsheets and the example mapping ship with the package (apptoto-import demo).
SAMPLES = ROOT / "importer" / "examples"
MAPPINGS = SAMPLES  # a folder whose one mapping is clinic.yaml
CLINIC_MAPPING = MAPPINGS / "clinic.yaml"
CORPUS = ROOT / "tests" / "corpus"
# The external_ids of the 14 valid rows in the clinic sample (importer/examples/appointments.*).
PAGE_URL = "http://127.0.0.1"  # the web page's address in in-process tests: a loopback Host
VALID_IDS = [f"clinic-0001{n:02d}" for n in range(1, 15)]
# Its 8 invalid rows: row -> (the column named in the message and marked on the review page,
# words of the reason).
INVALID_ROWS = {
    16: ("Phone", "not a valid phone number"),
    17: ("Email", "not an email address"),
    18: ("Date", "there is no month 14"),
    19: ("Start", "required but blank"),
    20: ("End", "ends before it starts"),
    21: ("Appointment ID", "more than one row"),
    22: ("Appointment ID", "more than one row"),
    23: ("Time Zone", "did you mean 'America/Los_Angeles'"),
}
# Why a number that is not a US one is refused, as a row's message says it.
NOT_US_PHONE = (
    "is not a valid phone number in the United States (US); a number from another country "
    "needs + and its country code"
)
# The importer as a console script would start it: ``python -m importer``.
IMPORTER = (sys.executable, "-m", "importer")


def env_for(
    sandbox: SandboxHandle, *, api_key: str | None = None, base_url: str | None = None
) -> dict[str, str]:
    """The APPTOTO_* variables that point the importer at ``sandbox`` with its credentials."""
    return {
        "APPTOTO_BASE_URL": base_url or sandbox.base_url,
        "APPTOTO_USER": sandbox.user,
        "APPTOTO_API_KEY": sandbox.api_key if api_key is None else api_key,
    }


def invoke_cli(args: Sequence[str], env: Mapping[str, str] | None = None) -> Result:
    """``apptoto-import ARGS`` in process (typer's runner); an unexpected exception propagates."""
    return CliRunner().invoke(app, list(args), env=dict(env or {}), catch_exceptions=False)


def run_process(
    command: Sequence[str], env: Mapping[str, str], **options: Any
) -> subprocess.CompletedProcess[str]:
    """``command`` in a real process with ``env`` added to ours; text output captured, 2 minutes."""
    return subprocess.run(
        list(command),
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **options,
    )


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """The header and the lines of a CSV file (UTF-8, with or without a BOM)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def read_report(path: Path) -> list[dict[str, str]]:
    """The lines of a CSV or XLSX report, as dicts by header (XLSX cells as Excel shows them)."""
    if path.suffix.lower() == ".xlsx":
        from importer.load import load_table

        frame = load_table(path).frame.astype("string").fillna("")
        return [{str(k): str(v) for k, v in row.items()} for row in frame.to_dict("records")]
    return read_csv(path)[1]


def write_csv(
    path: Path,
    header: Sequence[str],
    rows: Iterable[Mapping[str, Any]],
    *,
    encoding: str = "utf-8",
) -> Path:
    """A CSV sheet of ``rows`` under ``header``; returns ``path``."""
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(header))
        writer.writeheader()
        writer.writerows(rows)
    return path


def live_events(sandbox: SandboxHandle) -> dict[str, dict[str, Any]]:
    """The events the sandbox holds and has not deleted, by external_id."""
    return {e["external_id"]: e for e in sandbox.events() if not e["is_deleted"]}


def fast_client_config(sandbox: SandboxHandle, **changes: Any) -> ClientConfig:
    """A client for ``sandbox`` that barely paces and backs off for milliseconds, not seconds."""
    fields: dict[str, Any] = {
        "user": sandbox.user,
        "api_key": sandbox.api_key,
        "base_url": sandbox.base_url,
        "requests_per_minute": 60_000,
        "backoff_base": 0.01,
        "backoff_cap": 0.05,
    }
    fields.update(changes)
    return ClientConfig(**fields)


def reachable(root: object) -> list[object]:
    """Every object ``root`` holds, at any depth (what it keeps alive)."""
    seen: dict[int, object] = {}
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type):
            continue
        seen[id(obj)] = obj
        stack.extend(gc.get_referents(obj))
    return list(seen.values())


def run_in_process(
    sandbox: SandboxHandle,
    source: Path,
    mapping: ImportMapping,
    tmp_path: Path,
    **options: Any,
) -> tuple[RunSummary, list[dict[str, str]]]:
    """``run`` of ``source`` against ``sandbox`` in this process (ledger and report in
    ``tmp_path``): the summary and the report's lines."""
    report = tmp_path / "report.csv"
    summary = run_import(
        RunRequest(
            source=source,
            mapping=mapping,
            client_config=fast_client_config(sandbox),
            report_path=report,
            ledger_path=tmp_path / "state.sqlite",
            **options,
        )
    )
    return summary, read_report(report)
