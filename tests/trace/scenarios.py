"""Scripted behaviour to plant in runs: single-agent scripts and an orchestrated policy with knobs for misbehaving."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policies import results

from aura_nb.agent.run import Run, investigate
from aura_nb.agent.setup import Setup
from aura_nb.config import Limits, ScratchpadSettings
from aura_nb.content import ModelResponse, TextBlock, ToolResultBlock, ToolUseBlock
from aura_nb.contracts import SynthesisBrief, WorkerBrief, read_brief
from aura_nb.mcp.toolbox import Toolbox
from aura_nb.models.base import ModelRequest
from aura_nb.models.scripted import ScriptedModel, say

Calls = Sequence[tuple[str, dict[str, Any]]]
Step = ModelResponse | Callable[[ModelRequest], ModelResponse]
_ids = itertools.count(1)


def ask(*calls: tuple[str, dict[str, Any]]) -> ModelResponse:
    """One turn asking for `calls` (run concurrently by the loop)."""
    blocks: list[TextBlock | ToolUseBlock] = [
        ToolUseBlock(id=f"toolu_planted_{next(_ids):05d}", name=n, input=dict(a)) for n, a in calls
    ]
    return ModelResponse(content=blocks, stop_reason="tool_use")


def read(request: ModelRequest, *, errors: bool = False) -> list[ToolResultBlock]:
    """The tool results the conversation holds so far (successful ones unless `errors`)."""
    return [r for r in results(request) if errors or not r.is_error]


def quoting(extra: str = "") -> Callable[[ModelRequest], ModelResponse]:
    """A final answer that quotes every successful result read so far (then `extra`)."""
    return lambda request: say("; ".join(r.content for r in read(request)) + extra)


class Script:
    """A single-agent policy: turn n plays step n (a response, or a function of the request)."""

    def __init__(self, *steps: Step) -> None:
        self.steps = steps

    def __call__(self, request: ModelRequest) -> ModelResponse:
        done = sum(1 for m in request.messages if m.role == "assistant")
        step = self.steps[min(done, len(self.steps) - 1)]
        return step(request) if callable(step) else step


async def single(pool: Toolbox, *steps: Step, runs_dir: Path, scratchpad: bool = False) -> Run:
    """Run a single agent playing `steps`, with or without the Scratchpad."""
    pad = ScratchpadSettings() if scratchpad else None
    return await investigate(
        "why?", Setup(ScriptedModel(Script(*steps)), pool, plan=False, scratchpad=pad), runs_dir=runs_dir
    )


def respond(request: ModelRequest, calls: Calls) -> ModelResponse:
    """Tool uses with ids derived from the agent and turn (stable across runs)."""
    turn = sum(1 for m in request.messages if m.role == "assistant") + 1
    safe = request.agent.replace(":", "_")
    blocks: list[TextBlock | ToolUseBlock] = [
        ToolUseBlock(id=f"toolu_{safe}_{turn}_{i}", name=n, input=dict(a)) for i, (n, a) in enumerate(calls)
    ]
    return ModelResponse(content=blocks, stop_reason="tool_use")


@dataclass
class Planted:
    """An orchestrated policy: workers make their task's `calls` (one turn per entry), then submit what they read,
    citing it; workers cite and quote their dependencies unless listed in `independent`; the synthesizer answers
    from every task result except the `ignored` ones, citing their evidence."""

    plan: dict[str, Any]
    calls: Mapping[str, Sequence[Calls]] = field(default_factory=dict)
    independent: set[str] = field(default_factory=set)
    ignored: set[str] = field(default_factory=set)

    def __call__(self, request: ModelRequest) -> ModelResponse:
        if request.agent == "planner":
            return respond(request, [("submit_plan", self.plan)])
        if request.agent == "synthesizer":
            return respond(request, [("submit_answer", self._answer(request))])
        task = request.agent.removeprefix("worker:")
        turns = self.calls.get(task, [])
        done = sum(1 for m in request.messages if m.role == "assistant")
        if done < len(turns):
            return respond(request, turns[done])
        return respond(request, [("submit_result", self._result(task, request))])

    def _result(self, task: str, request: ModelRequest) -> dict[str, Any]:
        got = read(request)
        summary = f"{task} read {[r.content for r in got]}"
        evidence = [{"call_id": r.tool_use_id} for r in got]
        brief = read_brief(request.messages[0].text(), WorkerBrief)
        assert brief is not None
        if task not in self.independent:
            for outcome in brief.dependencies.values():
                assert outcome.result is not None
                summary += f" after {outcome.result.summary}"
                evidence += [e.model_dump() for e in outcome.result.evidence]
        return {"summary": summary, "evidence": evidence, "confidence": 0.8}

    def _answer(self, request: ModelRequest) -> dict[str, Any]:
        brief = read_brief(request.messages[0].text(), SynthesisBrief)
        assert brief is not None
        used = {t: o.result for t, o in brief.results.items() if t not in self.ignored and o.result}
        return {
            "answer": "; ".join(f"{t}={r.summary}" for t, r in used.items()),
            "evidence": [e.model_dump() for r in used.values() for e in r.evidence],
        }


async def orchestrated(pool: Toolbox, policy: Planted, *, runs_dir: Path, max_parallel: int = 4) -> Run:
    setup = Setup(ScriptedModel(policy), pool, limits=Limits(max_parallel=max_parallel))
    return await investigate("why?", setup, runs_dir=runs_dir)
