"""A process's start-up without the cyclic garbage collector's passes.

Loading the service allocates some 300,000 objects that live as long as the process (modules,
classes, pydantic and SQLAlchemy schemas). With the collector on, each 700 allocations trigger a
pass and the growing heap is walked again and again; at exit, the interpreter walks it once
more. Measured on this machine with hyperfine (bench/RESULTS.md, eighth round): the API's
process from start to exit in 1.44 s with the collector off while it loads and its objects
frozen, 2.46 s without; the worker's 0.5 s less.

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
