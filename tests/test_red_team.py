"""Issue 17's low findings on the command line, each reproduced: the report path, a full disk.

Each test is named after the finding it reproduces and failed before the fix.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import httpx
import pytest

from importer.sandbox.app import create_app
from importer.sandbox.server import SandboxHandle
from importer.sandbox.settings import SandboxSettings
from tests.helpers import CLINIC_MAPPING, SAMPLES, env_for, invoke_cli


@pytest.mark.parametrize("target", ["input", "ledger", "ledger-wal", "input-by-another-path"])
def test_report_path_equal_to_the_input_or_the_ledger_is_refused(
    sandbox: SandboxHandle, tmp_path: Path, target: str
) -> None:
    source = shutil.copy(SAMPLES / "appointments.csv", tmp_path / "appointments.csv")
    state = tmp_path / "state.sqlite"
    invoke_cli(["run", str(source), "-m", str(CLINIC_MAPPING), "--state", str(state), "-q"],
               env_for(sandbox))  # fmt: skip
    kept = {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    sent = len(sandbox.requests())
    report = {
        "input": source,
        "ledger": state,
        "ledger-wal": tmp_path / "state.sqlite-wal",
        "input-by-another-path": tmp_path / "sub" / ".." / "appointments.csv",
    }[target]
    (tmp_path / "sub").mkdir()
    for command in (["run"], ["plan"], ["run", "--dry-run"]):
        result = invoke_cli(
            [*command, str(source), "-m", str(CLINIC_MAPPING), "--state", str(state)]
            + ["--report", str(report)],
            env_for(sandbox),
        )
        assert result.exit_code == 2, result.output
        assert "would replace" in result.output
    if target == "input":
        check = invoke_cli(["validate", str(source), "-m", str(CLINIC_MAPPING), "--report",
                            str(report)])  # fmt: skip
        assert check.exit_code == 2 and "would replace the file being imported" in check.output
    assert {p: p.read_bytes() for p in kept} == kept  # the workbook and the ledger untouched
    assert len(sandbox.requests()) == sent


async def control_answers(client_host: str) -> list[int]:
    app = create_app(SandboxSettings())
    transport = httpx.ASGITransport(app=app, client=(client_host, 50_000))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        return [
            (await client.get("/_sandbox/stats")).status_code,
            (await client.get("/_sandbox/events")).status_code,
            (await client.put("/_sandbox/config", json={})).status_code,
            (await client.post("/_sandbox/reset")).status_code,
        ]


def test_sandbox_control_routes_answer_only_on_this_computer() -> None:
    assert asyncio.run(control_answers("192.168.1.20")) == [403] * 4
    assert asyncio.run(control_answers("127.0.0.1")) == [200] * 4
    assert asyncio.run(control_answers("::1")) == [200] * 4
