"""Run ``apptoto-import`` (or ``-c CODE``) as Windows would: without the POSIX-only parts of Python.

``python tests/no_posix.py ARGS...`` starts the command line with ARGS after making unavailable:
``pwd``, ``grp`` and the other POSIX-only modules to everyone; ``fcntl`` to the importer's own
modules (libraries such as portalocker import it on Linux and macOS, and ``msvcrt`` on Windows,
where the importer's code must run unchanged); ``os.pread``, ``os.pwrite`` and ``os.fork``.
``python tests/no_posix.py -c CODE`` runs CODE that way instead.
"""

from __future__ import annotations

import builtins
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType

# Modules of the standard library that exist only on POSIX systems.
POSIX_ONLY_MODULES = frozenset(
    {"fcntl", "pwd", "grp", "termios", "tty", "pty", "resource", "syslog", "posix", "crypt"}
    | {"spwd", "nis", "readline", "curses", "_posixsubprocess", "_posixshmem", "posixpath"}
)
# Blocked for the importer's modules only: libraries choose their Windows backend themselves.
LIBRARY_BACKENDS = frozenset({"fcntl", "posix", "posixpath", "_posixsubprocess"})
# Functions of ``os`` that Windows does not have.
POSIX_ONLY_OS = ("pread", "pwrite", "fork")


def _importer_module(namespace: Mapping[str, object] | None) -> bool:
    name = str((namespace or {}).get("__name__", ""))
    return name == "importer" or name.startswith("importer.")


def install() -> None:
    """Make the POSIX-only modules and functions unavailable to what this process imports next."""
    real_import = builtins.__import__

    def guarded(
        name: str,
        globals: Mapping[str, object] | None = None,
        locals: Mapping[str, object] | None = None,
        fromlist: Sequence[str] | None = (),
        level: int = 0,
    ) -> ModuleType:
        top = name.split(".")[0]
        if level == 0 and top in POSIX_ONLY_MODULES:
            if top not in LIBRARY_BACKENDS or _importer_module(globals):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, globals, locals, fromlist, level)

    builtins.__import__ = guarded
    for module in POSIX_ONLY_MODULES - LIBRARY_BACKENDS:
        sys.modules.pop(module, None)
    for function in POSIX_ONLY_OS:
        if hasattr(os, function):
            delattr(os, function)


def main(argv: list[str]) -> None:
    """``-c CODE`` runs CODE; anything else is the command line's arguments."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    install()
    if argv[:1] == ["-c"]:
        exec(compile(argv[1], "<no_posix -c>", "exec"), {"__name__": "__main__"})
        return
    from importer.cli import main as cli_main

    sys.argv = ["apptoto-import", *argv]
    cli_main()


if __name__ == "__main__":
    main(sys.argv[1:])
