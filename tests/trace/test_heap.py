"""`frozen_heap`: the heap that existed before a record build is out of the collector's reach, and automatic
collection paused, only during it; a findings view, once forgotten, is freed by reference counting alone.
`settle`: a kernel's heap when its first run starts stays out of every later collection (in a fresh process)."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
import weakref
from collections.abc import Iterator

import pytest

from aura_nb.content import ModelResponse, TextBlock, ToolResult, ToolUseBlock
from aura_nb.events import Event, ModelCall, RunFinished, RunStarted, ToolCall
from aura_nb.trace import heap
from aura_nb.trace.findings import RunView
from aura_nb.trace.findings.flow import flow
from aura_nb.trace.heap import frozen_heap
from aura_nb.trace.recorder import Recorder


@pytest.fixture(autouse=True)
def unsettled() -> Iterator[None]:
    """This process's heap as before any run (a notebook test may have settled it), settled again after."""
    was = heap._settled
    if was:
        gc.unfreeze()
        heap._settled = False
    yield
    if was:
        gc.freeze()
        heap._settled = True


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


def test_blocks_nest_and_the_heap_is_given_back_when_the_outermost_ends() -> None:
    with frozen_heap():
        with frozen_heap():
            pass
        assert gc.get_freeze_count() > 0, "an inner block (analyse within run_bundle) keeps the outer's freeze"
        assert not gc.isenabled(), "an inner block's end does not resume collection mid-build"
    assert gc.get_freeze_count() == 0


def test_automatic_collection_pauses_during_the_block_and_resumes_as_it_was() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), frozen_heap():
        assert not gc.isenabled()
        raise RuntimeError("build failed")
    assert gc.isenabled(), "collection resumes after a failed build too"
    gc.disable()
    try:
        with frozen_heap():
            pass
        assert not gc.isenabled(), "a caller that had turned collection off keeps it off"
    finally:
        gc.enable()


def _run(turns: int) -> list[Event]:
    recorder = Recorder("heap")
    recorder.emit(RunStarted(agent="run", question="Why is checkout slow?", model="m"))
    for turn in range(turns):
        use = ToolUseBlock(id=f"c{turn}", name="sandbox.search_logs", input={"service": "cart", "n": turn})
        response = ModelResponse(content=[TextBlock(text=f"pod cart-{turn}x looks slow"), use], stop_reason="tool_use")
        recorder.emit(ModelCall(agent="worker:t1", model="m", turn=turn, response=response))
        result = ToolResult.of_text(json.dumps({"pod": f"cart-{turn + 1}x", "latency_ms": 400 + turn}))
        recorder.emit(ToolCall(agent="worker:t1", tool=use.name, call_id=use.id, arguments=use.input, result=result))
    recorder.emit(RunFinished(agent="run", answer="cart is slow"))
    return recorder.events


def test_a_forgotten_view_is_freed_without_the_cyclic_collector() -> None:
    events = _run(20)
    view = RunView(events)
    assert flow(view).view is view  # the flow index refers back to its view: a cycle until forgotten
    freed = weakref.ref(view)
    gc.disable()
    try:
        view.forget()
        del view
        assert freed() is None
    finally:
        gc.enable()


SETTLED = textwrap.dedent(
    """
    import gc, weakref
    from aura_nb.trace.heap import frozen_heap, settle

    class Node:
        other = None

    assert gc.get_freeze_count() == 0
    settle()
    frozen = gc.get_freeze_count()
    settle()
    assert frozen > 1000 and gc.get_freeze_count() == frozen, "settled once, with what the process held"
    with frozen_heap():
        pass
    assert gc.get_freeze_count() == frozen, "a record build leaves the settled heap frozen"
    node = Node()
    node.other = node
    dropped = weakref.ref(node)
    del node
    gc.collect()
    assert dropped() is None, "a cycle made after settling is collected"
    print("ok")
    """
)


def test_a_settled_heap_stays_frozen_across_builds_and_what_comes_after_is_collected() -> None:
    done = subprocess.run([sys.executable, "-c", SETTLED], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
