"""`frozen_heap`: the heap that existed before a record build is out of the collector's reach only during it."""

from __future__ import annotations

import gc
import weakref

import pytest

from aura_nb.trace.heap import frozen_heap


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_the_heap_is_frozen_during_the_block_and_given_back_after_it_even_when_it_raises() -> None:
    with frozen_heap():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), frozen_heap():
        raise RuntimeError("build failed")
    assert gc.get_freeze_count() == 0


def test_cycles_made_inside_the_block_and_before_it_are_still_collected() -> None:
    before = _Node()
    before.other = before
    old = weakref.ref(before)
    with frozen_heap():
        del before
        young = _Node()
        young.other = young
        new = weakref.ref(young)
        del young
        gc.collect()
        assert new() is None, "a cycle the build made and dropped is collected during the build"
    gc.collect()
    assert old() is None, "a cycle dropped during the build is collected once the heap is given back"
