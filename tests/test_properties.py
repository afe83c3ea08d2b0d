"""Property tests: whatever the rows and the sandbox's faults, nothing lost, nothing doubled.

For random rows (odd text, times on clock-change days, rows that are invalid) and a random fault
schedule (5xx, answers stored then dropped or failed, malformed or too-slow answers, seeded), the
import is run, and run again with the same ledger while rows are left ``failed``, as a user would.
Then the server must hold exactly what one fault-free run puts there, and every report of every
run must list each input row exactly once.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.client import ClientConfig
from importer.mapping import parse_mapping
from importer.pipeline import RunRequest, RunSummary, run_import
from importer.sandbox.server import SandboxHandle

MAPPING = parse_mapping(
    {
        "name": "Properties",
        "defaults": {"time_zone": "America/Chicago", "dst": "reject"},
        "event": {
            "calendar": "{Provider}",
            "external_id": "p-{Id}",
            "title": "{Title}",
            "start": {"datetime": "{When}"},
            "duration_minutes": "{Minutes}",
            "content": "{Notes}",
            "custom_data": {"code": "{Code}"},
        },
    }
)
MAX_RUNS = 10  # a run, then re-runs while rows are left failed
SLOW_SECONDS = 0.35  # a slow answer outlasts the client's timeout below
TIMEOUT_SECONDS = 0.25

# Text as staff type it, and worse: accents, emoji, RTL, quotes, separators, line breaks,
# formula-looking starts, leading zeros. No NUL (CSV cannot hold it) and no lone surrogates.
cell_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("aZ09 ,;\"'=+-@\t\r\n#éß’–😀مר")),
        st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")),
    ),
    max_size=12,
)
rows = st.lists(
    st.fixed_dictionaries(
        {
            "Provider": st.sampled_from(["Dr A", "Dr B", "Dr Ç"]),
            # Mostly valid rows, so there is plenty to send: a title starts with some text.
            "Title": st.builds(
                str.__add__,
                st.sampled_from(["Check", "Écho", "😀", "=SUM(1)", "+1", "0042"]),
                cell_text,
            ),
            # March and November hold Chicago's clock changes: some times do not exist or
            # happen twice, and those rows are invalid in every run alike.
            "When": st.builds(
                "2026-{:02d}-{:02d} {:02d}:{:02d}".format,
                st.sampled_from([3, 11, 12]),
                st.sampled_from([1, 8, 15]),
                st.integers(0, 23),
                st.sampled_from([0, 30]),
            ),
            "Minutes": st.sampled_from(["15", "30", "90", "15", "30", "x"]),  # "x": invalid
            "Notes": cell_text,
            "Code": st.from_regex(r"0{0,3}[0-9]{1,4}", fullmatch=True),
        }
    ),
    min_size=1,
    max_size=15,
)
faults = st.fixed_dictionaries(
    {
        "fault_seed": st.integers(0, 2**16),
        "fault_rate": st.sampled_from([0.0, 0.2, 0.4]),
        "fault_codes": st.sampled_from([[500], [502], [503], [500, 502, 503]]),
        "commit_then_error_rate": st.sampled_from([0.0, 0.2]),
        "commit_then_drop_rate": st.sampled_from([0.0, 0.2, 0.3]),
        "malformed_rate": st.sampled_from([0.0, 0.2]),
        "slow_rate": st.sampled_from([0.0, 0.1]),
        "slow_seconds": st.just(SLOW_SECONDS),
    }
)
# Few tries leave rows failed, so the re-runs that finish them are exercised too.
client_shape = st.fixed_dictionaries(
    {
        "batch_size": st.integers(1, 5),
        "max_in_flight": st.integers(1, 4),
        "max_tries": st.sampled_from([3, 10]),
    }
)


def write_rows(path: Path, table: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, ["Id", *table[0]])
        writer.writeheader()
        writer.writerows({"Id": str(n), **cells} for n, cells in enumerate(table, start=1))
    return path


def run(
    sandbox: SandboxHandle, source: Path, folder: Path, ledger: bool, shape: dict[str, int]
) -> RunSummary:
    config = ClientConfig(
        user=sandbox.user,
        api_key=sandbox.api_key,
        base_url=sandbox.base_url,
        requests_per_minute=60_000,
        timeout_seconds=TIMEOUT_SECONDS,
        backoff_base=0.005,
        backoff_cap=0.02,
        **shape,
    )
    return run_import(
        RunRequest(
            source=source,
            mapping=MAPPING,
            client_config=config,
            report_path=folder / "report.csv",
            ledger_path=folder / "state.sqlite" if ledger else None,
        )
    )


def report_rows(folder: Path) -> list[int]:
    with (folder / "report.csv").open(encoding="utf-8-sig", newline="") as handle:
        return [int(line["row"]) for line in csv.DictReader(handle)]


def server_state(sandbox: SandboxHandle) -> dict[str, dict[str, Any]]:
    """Every event by external_id, without the ids the server picked; duplicates fail here."""
    events = sandbox.events()
    state = {
        e["external_id"]: {k: v for k, v in e.items() if k not in ("id", "calendar_id")}
        for e in events
    }
    assert len(state) == len(events), "an external_id was stored twice"
    return state


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(table=rows, schedule=faults, shape=client_shape)
def test_faults_never_change_what_the_server_ends_up_holding(
    sandbox_server: SandboxHandle,
    table: list[dict[str, str]],
    schedule: dict[str, Any],
    shape: dict[str, int],
) -> None:
    every_row = list(range(2, len(table) + 2))
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        source = write_rows(folder / "in.csv", table)

        sandbox_server.reset(startup_settings=True)
        sandbox_server.configure(rate_limit_requests=0)
        clean = run(sandbox_server, source, folder, ledger=False, shape=shape)
        assert "failed" not in clean.counts, clean.results
        assert report_rows(folder) == every_row
        expected = server_state(sandbox_server)

        sandbox_server.reset(startup_settings=True)
        sandbox_server.configure(rate_limit_requests=0, **schedule)
        for _ in range(MAX_RUNS):
            summary = run(sandbox_server, source, folder, ledger=True, shape=shape)
            assert report_rows(folder) == every_row  # each row once, in sheet order
            assert summary.counts.get("invalid", 0) == clean.counts.get("invalid", 0)
            if "failed" not in summary.counts:
                break
        assert "failed" not in summary.counts, summary.results
        assert server_state(sandbox_server) == expected
