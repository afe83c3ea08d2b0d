"""The ``apptoto-import`` command: the layer that parses options and prints.

One module per command group: ``importing`` (validate, plan, run), ``servers`` (serve, sandbox),
``proposing`` (init); ``options`` holds the options ``run`` and ``plan`` share, ``console`` the
terminal side (progress bar, logging, messages), ``commands`` the typer app. Exit codes come from
:mod:`importer.exit_codes`, which the web page's run records use too. The pipeline's stages never
import this package.
"""

from importer.cli.commands import app, main

__all__ = ["app", "main"]
