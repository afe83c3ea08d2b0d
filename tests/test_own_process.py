"""importer.own_process: what the importer's own processes set up first."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

from importer.own_process import keep_text_as_python_strings


def _with_pyarrow(found: bool) -> str:
    """The start of a process where pyarrow looks installed (its spec found) or not."""
    spec = "real('json')" if found else "None"
    return (
        "import importlib.util, sys\n"
        "real = importlib.util.find_spec\n"
        f"importlib.util.find_spec = lambda n, *a: {spec} if n == 'pyarrow' else real(n, *a)\n"
        "from importer.own_process import keep_text_as_python_strings\n"
        "keep_text_as_python_strings()\n"
        "print('pandas' in sys.modules)\n"
        "import pandas as pd\n"
        "print(pd.get_option('mode.string_storage'))\n"
    )


def _printed(code: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.split()


def test_where_pyarrow_is_installed_text_is_kept_as_python_strings() -> None:
    # pandas would store text in pyarrow, and the checks' loops over Python strings pay for it.
    assert _printed(_with_pyarrow(found=True)) == ["True", "python"]


def test_where_pyarrow_is_not_installed_pandas_is_not_imported_for_it() -> None:
    # Python strings are then pandas' default; --help stays as quick as without pandas.
    assert _printed(_with_pyarrow(found=False)) == ["False", "auto"]


def test_where_pandas_is_loaded_already_the_setting_is_made() -> None:
    with pd.option_context("mode.string_storage", "auto"):
        keep_text_as_python_strings()
        assert pd.get_option("mode.string_storage") == "python"
