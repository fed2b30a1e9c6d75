"""A role-aware scripted policy for orchestrated runs: plans, workers and a synthesizer, all deterministic.

Tool-use ids derive from the request (agent and turn), so the same conversation always yields the same ids,
in any process: what fork and resume-after-crash need to match recorded steps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aura_nb.content import ModelResponse, TextBlock, ToolResultBlock, ToolUseBlock
from aura_nb.contracts import SynthesisBrief, WorkerBrief, read_brief
from aura_nb.models.base import ModelRequest
from aura_nb.models.scripted import ScriptedModel, say


def _uses(request: ModelRequest, calls: Sequence[tuple[str, dict[str, Any]]]) -> ModelResponse:
    turn = sum(1 for m in request.messages if m.role == "assistant") + 1
    safe = request.agent.replace(":", "_")
    blocks = [ToolUseBlock(id=f"toolu_{safe}_{turn}_{i}", name=n, input=a) for i, (n, a) in enumerate(calls)]
    return ModelResponse(content=blocks, stop_reason="tool_use")


Calls = list[tuple[str, dict[str, Any]]]
Turn = Calls | Callable[[ModelRequest], Calls]
"""One worker turn: fixed calls, or calls computed from the conversation so far."""


def results(request: ModelRequest) -> list[ToolResultBlock]:
    return [b for m in request.messages for b in m.content if isinstance(b, ToolResultBlock)]


@dataclass
class Orchestrated:
    """Plans `plans` in turn (the next one after each rejection); each worker makes its task's `calls`,
    one turn per entry (an entry may hold several concurrent calls), then submits what it read."""

    plans: list[dict[str, Any]]
    calls: dict[str, list[Turn]] = field(default_factory=dict)
    answer_prefix: str = "answer"

    def __call__(self, request: ModelRequest) -> ModelResponse:
        if request.agent == "planner":
            attempt = len(results(request))
            return _uses(request, [("submit_plan", self.plans[min(attempt, len(self.plans) - 1)])])
        if request.agent.startswith("worker:"):
            return self._worker(request)
        if request.agent == "synthesizer":
            brief = read_brief(request.messages[0].text(), SynthesisBrief)
            assert brief is not None
            parts = [
                f"{task}={o.result.summary if o.result and o.status == 'finished' else o.status}"
                for task, o in brief.results.items()
            ]
            return _uses(request, [("submit_answer", {"answer": f"{self.answer_prefix}: " + "; ".join(parts)})])
        return say("single agent: nothing to do")

    def _worker(self, request: ModelRequest) -> ModelResponse:
        task = request.agent.removeprefix("worker:")
        turns = self.calls.get(task, [])
        done = sum(1 for m in request.messages if m.role == "assistant")
        instructions = [b.text for m in request.messages for b in m.content if isinstance(b, TextBlock)][1:]
        if done < len(turns):
            turn = turns[done]
            return _uses(request, turn(request) if callable(turn) else turn)
        read = [r.content for r in results(request)]
        worker = read_brief(request.messages[0].text(), WorkerBrief)
        assert worker is not None
        deps = {d: o.result.summary if o.result else None for d, o in worker.dependencies.items()}
        summary = (
            f"{task} read {read}"
            + (f" after {deps}" if deps else "")
            + (f" told {instructions}" if instructions else "")
        )
        evidence = [{"call_id": r.tool_use_id} for r in results(request)]
        return _uses(request, [("submit_result", {"summary": summary, "evidence": evidence, "confidence": 0.8})])


def orchestrated_model(policy: Orchestrated, name: str = "scripted-orchestra") -> ScriptedModel:
    return ScriptedModel(policy, name=name)


def plan(*tasks: tuple[str, list[str], list[str]]) -> dict[str, Any]:
    """A plan payload from (id, depends_on, tools) triples."""
    return {"tasks": [{"id": i, "goal": f"do {i}", "depends_on": d, "tools": t} for i, d, t in tasks]}


LONG = Orchestrated(
    plans=[plan(("a", [], ["bad.probe"]), ("b", ["a"], ["bad.probe"]))],
    calls={
        "a": [[("bad.probe", {"label": f"a{i}", "seconds": 0.25})] for i in range(4)],
        "b": [[("bad.probe", {"label": f"b{i}", "seconds": 0.25})] for i in range(4)],
    },
)
"""A run long enough to be killed in the middle: two sequential workers, four slow calls each."""


IN_FLIGHT = Orchestrated(
    plans=[plan(("a", [], ["bad.probe"]), ("b", ["a"], ["bad.probe"]))],
    calls={
        "a": [
            [("bad.probe", {"label": "a0"})],
            [("bad.probe", {"label": "a1", "seconds": 120})],
            [("bad.probe", {"label": "a2"})],
        ],
        "b": [[("bad.probe", {"label": "b0"})]],
    },
)
"""Task a's second call runs for two minutes: a process killed during it leaves a call with no result."""
