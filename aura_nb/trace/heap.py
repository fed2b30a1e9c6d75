"""Building a long run's record without the garbage collector re-reading the whole heap.

A record build allocates hundreds of thousands of small objects (steps, value keys, index entries), and
CPython's cyclic collector runs a full collection once enough of them survive: it then walks every object in
the process (the run's events, the kernel's modules), which cost 0.3 s of a 10,000-event run's 1.9 s build
(benchmarks/findings_speed.py). `frozen_heap()` moves the objects that existed before the build out of the
collector's reach for its duration (`gc.freeze`), so its collections read only what the build allocates;
nothing is left uncollected afterwards (`gc.unfreeze` gives them back to the oldest generation).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Collect only the objects allocated inside the block (see the module docstring). The freeze is
    process-wide: a build in another thread meanwhile is unfrozen with this one, which only costs it time."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
