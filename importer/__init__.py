"""apptoto-importer: spreadsheets of appointments into Apptoto events.

The pipeline, one module per stage: ``load`` -> ``validate`` -> ``events`` (map) -> ``client``
(send) -> ``report``, tied together by ``pipeline``. Only ``cli`` prints and picks exit codes.
"""

__version__ = "0.1.0"
