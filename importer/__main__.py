"""``python -m importer`` is the ``apptoto-import`` command."""

from importer.cli import main

main()
