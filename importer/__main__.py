"""``python -m importer`` is the ``apptoto-import`` command."""

from importer.cli import main

# Guarded: a worker process (importer.workers) started by spawn imports this module again.
if __name__ == "__main__":
    main()
