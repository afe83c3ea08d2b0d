"""What a process that is the importer's own sets up first: modules only its tests use left out,
and text kept as Python strings where pyarrow is installed.

pandera imports hypothesis' strategies (made to generate test data) whenever hypothesis is
installed, as it is in the environment ``make install`` builds for running and testing alike:
~0.1 s and ~10 MB of every command's start, and of the workers' server's, for nothing, as no
command generates data. The processes that are the importer's own (the console script, the
workers' server) mark those modules absent before pandera is imported; pandera then goes without
them, as where hypothesis is not installed. A module already imported (a test run's) is kept,
and a program that imports the importer as a library is left as it is.

pandas 3 stores text columns in pyarrow when pyarrow is installed (as it is in many data
environments), and as Python strings otherwise. The checks and the map loop over Python strings
(faster than pandas' own string methods on them, see :mod:`importer.events.cells`): over pyarrow
each loop first turns every cell into one. Same results, more time: the 1,000,000-row bench
file's ``validate``, 17.3 s with pyarrow installed against 10.8 s without (2026-12-08, 2 cores).
The importer's own processes keep text as Python strings either way
(:func:`keep_text_as_python_strings`); a program using the library chooses for itself (the
README's "Python API" says how).
"""

from __future__ import annotations

import importlib.util
import sys

TEST_ONLY = ("hypothesis",)


def leave_out_test_only_modules() -> None:
    """Mark :data:`TEST_ONLY` absent from this process, unless already imported (an import of
    them then fails as if they were not installed)."""
    for name in TEST_ONLY:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


def keep_text_as_python_strings() -> None:
    """pandas' text columns in this process stored as Python strings, where pyarrow is installed
    too (see the module). pandas is not imported for it where pyarrow is not installed (that is
    then its default): ``--help`` stays as quick as before."""
    if "pandas" not in sys.modules and importlib.util.find_spec("pyarrow") is None:
        return
    import pandas as pd  # noqa: PLC0415 (only where pyarrow is installed)

    pd.set_option("mode.string_storage", "python")
