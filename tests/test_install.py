"""Installed like a tool: the wheel built from this checkout, installed into a fresh virtual
environment in a temporary folder, and run from another temporary folder with no checkout in
sight: ``--version``, ``demo`` (the samples and example mapping ship in the wheel), ``init`` and
``validate`` with the mapping in the per-user data folder.

To stay fast and offline, the wheel is built without build isolation and installed with
``--no-deps --no-index``; the new environment finds its dependencies through a ``.pth`` file naming
the test environment's site-packages (whose editable ``importer`` it does not see: ``.pth`` files
in a folder added that way are not run).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from importer._version import __version__
from tests.helpers import ROOT

BIN = "Scripts" if os.name == "nt" else "bin"
EXE = ".exe" if os.name == "nt" else ""


@dataclass(frozen=True)
class Elsewhere:
    """A working folder away from the checkout, and an environment with no path into it."""

    cwd: Path | None = None
    env: dict[str, str] | None = None


def call(
    command: Sequence[str | Path], at: Elsewhere = Elsewhere(), expect: int = 0
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=at.cwd,
        env=at.env,
    )
    assert done.returncode == expect, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the package's sources (the checkout stays untouched)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    ignored = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "importer", source / "importer", ignore=ignored)
    out = tmp_path_factory.mktemp("dist")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    call([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", out, source])
    [built] = out.glob("apptoto_importer-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``apptoto-import`` command of a fresh environment with only the wheel installed."""
    venv = tmp_path_factory.mktemp("venv")
    call([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / BIN / f"python{EXE}"
    purelib = call([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
    ours = sysconfig.get_path("purelib")
    (Path(purelib.stdout.strip()) / "test-dependencies.pth").write_text(ours + "\n")
    pip: list[str | Path] = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    call([*pip, "--python", python, "install", "--no-deps", "--no-index", wheel])
    return venv / BIN / f"apptoto-import{EXE}"


@pytest.fixture
def elsewhere(tmp_path: Path, data_folder: Path) -> Elsewhere:
    """Run from a temporary folder, the environment without any path into the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    work = tmp_path / "somewhere"
    work.mkdir()
    return Elsewhere(work, env)


def test_the_wheel_ships_the_pages_the_samples_and_the_example_mapping(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in (
        "importer/examples/clinic.yaml",
        "importer/examples/appointments.csv",
        "importer/examples/appointments.xlsx",
        "importer/py.typed",
        "importer/web/templates/base.html",
    ):
        assert shipped in names
    assert not [n for n in names if n.startswith(("tests/", "bench/", "samples/"))]


def test_the_installed_command_runs_the_installed_package(
    installed: Path, elsewhere: Elsewhere
) -> None:
    version = call([installed, "--version"], elsewhere)
    assert version.stdout == f"apptoto-import {__version__}\n"
    python = installed.parent / f"python{EXE}"
    where = call([python, "-c", "import importer; print(importer.__file__)"], elsewhere)
    assert Path(where.stdout.strip()).is_relative_to(installed.parent.parent)


def test_the_installed_demo_imports_the_shipped_samples(
    installed: Path, elsewhere: Elsewhere
) -> None:
    demo = call([installed, "demo"], elsewhere)
    assert demo.stdout.count("(exit code 1)") == 3  # the samples' deliberate mistakes
    assert "14 events:" in demo.stdout
    assert elsewhere.cwd is not None
    assert (elsewhere.cwd / "demo-output" / "xlsx-report.csv").is_file()


def test_init_writes_into_the_data_folder_and_the_mapping_validates(
    installed: Path, elsewhere: Elsewhere, data_folder: Path
) -> None:
    python = installed.parent / f"python{EXE}"
    shipped = call([python, "-c", "from importer.demo import EXAMPLES; print(EXAMPLES)"], elsewhere)
    sample = Path(shipped.stdout.strip()) / "appointments.csv"
    init = call([installed, "init", sample, "--time-zone", "America/Los_Angeles"], elsewhere)
    mapping = data_folder / "mappings" / "appointments.yaml"
    assert f"wrote {mapping}" in init.stdout
    # exit 1: the sample's own mistakes
    checked = call([installed, "validate", sample, "-m", mapping], elsewhere, expect=1)
    assert "14 valid, 8 invalid rows" in checked.stdout


def get_when_listening(url: str) -> httpx.Response:
    """GET ``url``, trying again while the server is still starting (up to a minute)."""
    for _ in range(600):
        try:
            return httpx.get(url, timeout=30)
        except httpx.ConnectError:
            time.sleep(0.1)
    return httpx.get(url, timeout=30)  # its error says why


def test_the_installed_page_serves_its_templates_with_the_data_folders_mappings(
    installed: Path, elsewhere: Elsewhere, data_folder: Path
) -> None:
    with socket.socket() as probe:  # a free port on loopback
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(installed), "serve", "--port", str(port)],
        cwd=elsewhere.cwd,
        env=elsewhere.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        started = [server.stdout.readline() for _ in range(3)]
        assert f"mappings: {data_folder / 'mappings'}" in "".join(started)
        page = get_when_listening(f"http://127.0.0.1:{port}/")
        assert page.status_code == 200 and "<form" in page.text
    finally:
        server.terminate()
        server.communicate(timeout=30)
