"""Building a long run's record without the garbage collector re-reading the whole heap.

A record build allocates hundreds of thousands of small objects (steps, value keys, index entries), and
CPython's cyclic collector runs a full collection once enough of them survive: it then walks every object in
the process (the run's events, the kernel's modules), which cost 0.3 s of a 10,000-event run's 1.9 s build
(benchmarks/findings_speed.py). `frozen_heap()` moves the objects that existed before the build out of the
collector's reach for its duration (`gc.freeze`) and pauses automatic collection while it runs: what a build
allocates it keeps until it ends (its one cycle, a view and its indexes, is broken by `RunView.forget`), so
collecting mid-build only re-read its survivors, 10-25% of a 10,000-event build. Nothing is left uncollected
afterwards: `gc.unfreeze` gives the old objects back to the oldest generation and collection resumes.

A kernel that runs investigations is settled once (`settle()`): what it holds when its first run starts (the
imported libraries, the kernel's own state, the notebook's data so far) is kept out of every later
collection for good, so that a full collection walks only what came after. With three runs in flight a full
collection of the ~480,000 objects a kernel holds by then took 445 ms, a stall of every cell that waited.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_builds = 0
"""Builds under way (nested or in other threads): the first freezes, the last gives the heap back."""
_was_enabled = True
"""Whether automatic collection was on when the first build began (it is restored as it was)."""
_settled = False
"""Whether `settle()` froze the heap for good (builds then leave the frozen objects frozen)."""


def settle() -> None:
    """Keep every object the process holds now out of all later collections (once per process; later calls do
    nothing). The young generations are collected first; an unreachable cycle that survived to the oldest
    generation before this is kept (as one full collection would have freed it, at most once)."""
    global _settled
    with _lock:
        if _settled:
            return
        gc.collect(1)
        gc.freeze()
        _settled = True


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Collect nothing while the outermost block runs, and afterwards (as before) only what it left (see the
    module docstring). Blocks nest, in one thread or several: the heap is given back when the last one ends."""
    global _builds, _was_enabled
    with _lock:
        if _builds == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
            if not _settled:
                gc.freeze()
        _builds += 1
    try:
        yield
    finally:
        with _lock:
            _builds -= 1
            if _builds == 0:
                if not _settled:
                    gc.unfreeze()
                if _was_enabled:
                    gc.enable()
