"""The ``apptoto-import`` command: the layer that parses options, prints and picks exit codes.

One module per command group: ``importing`` (validate, plan, run), ``servers`` (serve, sandbox),
``propose`` (init); ``options`` holds the options ``run`` and ``plan`` share, ``exit_codes`` the
exit codes, ``console`` the terminal side (progress bar, logging, messages), ``commands`` the typer
app. The pipeline's stages never import this package; the web page's run records use
``importer.cli.exit_codes``, plain Python that loads neither typer nor the commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importer.cli.commands import app, main

__all__ = ["app", "main"]


def __getattr__(name: str) -> Any:
    # Lazy: ``import importer.cli.exit_codes`` must not load typer and every command.
    if name in __all__:
        from importer.cli import commands

        return getattr(commands, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
