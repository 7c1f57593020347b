"""A process's start-up without the cyclic garbage collector's passes.

Loading the service allocates 240,000 (worker) to 310,000 (API) objects that live as long as
the process (modules, classes, pydantic and SQLAlchemy schemas). With the collector on, each 700
allocations trigger a pass and the growing heap is walked again and again; at exit, the
interpreter walks it once more. Measured on this machine with hyperfine, 8 runs each
(bench/RESULTS.md, eighth round), importing the process's modules from start to exit: the
API's 1.01 s instead of 1.78 s, the worker's 0.71 s instead of 1.30 s, ``ptce --help`` 0.56 s
instead of 0.87 s.

``loading()`` turns the collector off for the imports, then moves everything alive into the
permanent generation (``gc.freeze``: never examined again, still freed by reference counting)
and turns it back on. What the process allocates afterwards is collected as usual.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def loading() -> Iterator[None]:
    """Imports (and one-off set-up) made with the collector off, their objects then frozen."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
