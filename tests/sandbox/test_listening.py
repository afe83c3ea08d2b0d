"""Issue 17 (red team, low): a sandbox listening beyond this computer says so when it starts.

Each test is named after the finding it reproduces and failed before the fix.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Any

import pytest

from importer.sandbox import server

WARNING = "warning: the sandbox listens on"
STARTUP_LIMIT_SECONDS = 60  # a safety bound only: the warning comes before the server starts


def test_a_sandbox_listening_on_every_address_prints_a_warning() -> None:
    command = [sys.executable, "-m", "importer", "sandbox", "--host", "0.0.0.0", "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stopper = threading.Timer(STARTUP_LIMIT_SECONDS, process.kill)  # so readline cannot hang
    stopper.start()
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
    finally:
        stopper.cancel()
        process.terminate()
        process.communicate(timeout=30)
    assert first.startswith(f"{WARNING} 0.0.0.0: other computers can use it"), first
    assert "made-up data only" in first


class NotServing:
    def __init__(self, config: Any) -> None:
        self.config = config

    def run(self) -> None:
        return None


@pytest.mark.parametrize(
    ("host", "warned"),
    [
        ("127.0.0.1", False),
        ("localhost", False),
        ("::1", False),
        ("0.0.0.0", True),
        ("::", True),
        ("192.168.1.20", True),
        ("sandbox.example", True),  # a name may stand for any address
    ],
)
def test_only_a_sandbox_listening_beyond_this_computer_prints_the_warning(
    host: str, warned: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(server, "uvicorn_config", lambda *args, **kwargs: None)
    monkeypatch.setattr(server, "quiet_dropped_answers", lambda: None)
    monkeypatch.setattr(server.uvicorn, "Server", NotServing)
    server.serve(host=host, port=0)
    printed = capsys.readouterr()
    assert (WARNING in printed.err) is warned
    assert WARNING not in printed.out
