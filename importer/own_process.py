"""What a process that is the importer's own leaves out: modules only its tests use.

pandera imports hypothesis' strategies (made to generate test data) whenever hypothesis is
installed, as it is in the environment ``make install`` builds for running and testing alike:
~0.1 s and ~10 MB of every command's start, and of the workers' server's, for nothing, as no
command generates data. The processes that are the importer's own (the console script, the
workers' server) mark those modules absent before pandera is imported; pandera then goes without
them, as where hypothesis is not installed. A module already imported (a test run's) is kept,
and a program that imports the importer as a library is left as it is.
"""

from __future__ import annotations

import sys

TEST_ONLY = ("hypothesis",)


def leave_out_test_only_modules() -> None:
    """Mark :data:`TEST_ONLY` absent from this process, unless already imported (an import of
    them then fails as if they were not installed)."""
    for name in TEST_ONLY:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]
