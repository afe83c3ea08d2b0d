"""What the forkserver loads before it forks the worker processes (:mod:`importer.workers`).

A worker forked from the server shares the server's memory until one of them writes to it. Here
the server loads the pipeline, checks one made-up row with it (which loads what the checks only
load on first use: pandera's pandas backends, a zone, phone metadata), and then freezes its
objects for the cycle collector:

- each worker no longer loads those on its first part (~0.15 s of each worker's time);
- a worker's collector never walks the frozen objects. A walk writes to every object it visits,
  so each page they lie on would be copied into the worker. Measured on 1,000,000 rows with 2
  workers: ~20 MB less memory per worker, ~0.5 s less processor time in all.

Imported by the forkserver only. Imported elsewhere it freezes that process's objects too, which
does no harm beyond keeping what is garbage now from ever being collected. Windows starts workers
with ``spawn``, where nothing is shared and this module is not used.
"""

from __future__ import annotations

import gc

from importer.own_process import keep_text_as_python_strings, leave_out_test_only_modules

leave_out_test_only_modules()  # before pandera is imported
keep_text_as_python_strings()  # before the warm-up below makes its first frames

import importer.streaming  # noqa: E402, F401 (the pipeline each worker runs)
from importer.warm_up import head_start  # noqa: E402

head_start()
gc.collect()
gc.freeze()
