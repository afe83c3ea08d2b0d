"""``apptoto-import demo`` (and ``make demo``): start the sandbox on loopback, import the sample
spreadsheets with the real CLI, show results.

Everything runs on this machine: the sandbox plays Apptoto, so no account and no network are
needed. The samples and the example mapping ship with the package (``importer/examples/``). The
demo's ledger, reports and the sandbox's database go to ``demo-output/`` of the working folder
(started afresh each time).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from importer.sandbox.server import running_sandbox

EXAMPLES = Path(__file__).resolve().parent / "examples"  # package data: samples, example mapping
OUT = Path("demo-output")


def _step(title: str, args: list[str], env: dict[str, str]) -> int:
    print(f"\n=== {title}\n$ apptoto-import {' '.join(args)}", flush=True)
    done = subprocess.run([sys.executable, "-m", "importer", *args], env=env, check=False)
    print(f"(exit code {done.returncode})", flush=True)
    return done.returncode


def main() -> int:
    """Run the demo; returns 0 when every step behaved as expected."""
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    mapping = str(EXAMPLES / "clinic.yaml")
    xlsx = str(EXAMPLES / "appointments.xlsx")
    csv = str(EXAMPLES / "appointments.csv")
    state = ["--state", str(OUT / "state.sqlite"), "--quiet"]
    with running_sandbox(db_path=str(OUT / "sandbox.sqlite")) as sandbox:
        print(f"Sandbox (a local imitation of Apptoto) listening at {sandbox.base_url}")
        env = {
            **os.environ,
            "APPTOTO_BASE_URL": sandbox.base_url,
            "APPTOTO_USER": sandbox.user,
            "APPTOTO_API_KEY": sandbox.api_key,
        }
        codes = [
            _step(
                "1. Check the clinic's workbook (no network): every mistake at once",
                ["validate", xlsx, "-m", mapping],
                env,
            ),
            _step(
                "2. Import it: valid rows become Apptoto events, invalid rows are reported",
                ["run", xlsx, "-m", mapping, "--report", str(OUT / "xlsx-report.csv"), *state],
                env,
            ),
            _step(
                "3. The same appointments saved as CSV: nothing changed, so nothing is sent",
                ["run", csv, "-m", mapping, "--report", str(OUT / "csv-report.csv"), *state],
                env,
            ),
        ]
        events = [e for e in sandbox.events() if not e.get("is_deleted")]
        stats = sandbox.stats()
    calendars = Counter(str(e.get("calendar_name")) for e in events)
    print("\n=== What the sandbox holds")
    print(
        f"{len(events)} events: " + ", ".join(f"{n} in {c}" for c, n in sorted(calendars.items()))
    )
    for event in sorted(events, key=lambda e: str(e.get("start_time")))[:3]:
        people = ", ".join(
            f"{p.get('name')} {p.get('normalized_phone') or p.get('phone') or ''}".strip()
            for p in event.get("participants", [])
        )
        print(f"  {event.get('start_time')}  {event.get('title')}  ({people})")
    print(f"requests by status: {stats.get('requests_by_status')}")
    print(f"\nReports: {OUT / 'xlsx-report.csv'}, {OUT / 'csv-report.csv'}")
    print(f"The sample spreadsheets and the example mapping are in {EXAMPLES}")
    # validate and the first run find the sample's deliberate mistakes (exit 1); the CSV re-run
    # finds the same invalid rows and sends nothing.
    return 0 if codes == [1, 1, 1] and events else 1


if __name__ == "__main__":
    raise SystemExit(main())
