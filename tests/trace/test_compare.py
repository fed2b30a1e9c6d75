"""Two runs compared step by step: what counts as the same path, and where paths part."""

from __future__ import annotations

from aura_nb.content import ModelResponse, ToolResult, ToolUseBlock
from aura_nb.events import Event, ModelCall, RunFinished, RunStarted, ToolCall
from aura_nb.trace.compare import compare
from aura_nb.trace.projection import project

CALLS = {"c1": ("srv.logs", {"service": "cart"}), "c2": ("srv.metrics", {"service": "cart"})}


def turn(agent: str, request: str, calls: list[str]) -> ModelCall:
    uses = [ToolUseBlock(id=c, name=CALLS[c][0], input=CALLS[c][1]) for c in calls]
    return ModelCall(agent=agent, request_hash=request, response=ModelResponse(content=uses))


def call(agent: str, call_id: str) -> ToolCall:
    tool, arguments = CALLS[call_id]
    return ToolCall(agent=agent, tool=tool, call_id=call_id, arguments=arguments, result=ToolResult.of_text("ok"))


def run(*steps: Event) -> list[Event]:
    return [RunStarted(question="q"), *steps, RunFinished(status="finished")]


def test_calls_of_one_turn_finishing_in_another_order_are_the_same_path() -> None:
    a = run(turn("w", "h1", ["c1", "c2"]), call("w", "c1"), call("w", "c2"), turn("w", "h2", []))
    b = run(turn("w", "h1", ["c1", "c2"]), call("w", "c2"), call("w", "c1"), turn("w", "h2", []))
    comparison = compare(project(a), project(b))
    assert comparison.diverges_at is None
    assert comparison.steps["same"].all() and len(comparison.steps) == 4


def test_paths_part_at_the_first_step_that_asked_for_something_else() -> None:
    a = run(turn("w", "h1", ["c1"]), call("w", "c1"), turn("w", "h2", ["c2"]), call("w", "c2"))
    b = run(turn("w", "h1", ["c1"]), call("w", "c1"), turn("w", "h3", ["c1"]), call("w", "c1"))
    comparison = compare(project(a), project(b))
    assert comparison.diverges_at == 3
    assert comparison.steps["same"].tolist() == [True, True, False, False]


def test_the_same_calls_spread_over_other_turns_are_another_path() -> None:
    a = run(turn("w", "h1", ["c1", "c2"]), call("w", "c1"), call("w", "c2"))
    b = run(turn("w", "h1", ["c1", "c2"]), call("w", "c2"), turn("w", "h2", ["c1"]), call("w", "c1"))
    comparison = compare(project(a), project(b))
    assert comparison.diverges_at == 2
