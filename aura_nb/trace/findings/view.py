"""`RunView`: a run's events indexed once for the analysers (steps, turns, agents, plan, tasks, tool schemas).

Every index is built in one pass over the log (or over one kind of event), so the analysers stay linear in
the size of the run.
"""

from __future__ import annotations

import bisect
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

import orjson

from aura_nb.contracts import Evidence
from aura_nb.events import (
    AgentFinished,
    AgentStarted,
    Event,
    EventBase,
    ModelCall,
    PlanCreated,
    PlanEdited,
    RunFinished,
    RunStarted,
    TaskFinished,
    TaskStarted,
    ToolCall,
)
from aura_nb.trace.frames import step_events

E = TypeVar("E", bound=EventBase)
T = TypeVar("T")
DEFAULT_MAX_PARALLEL = 4


@dataclass
class Turn:
    """One model call of an agent and the tool calls it asked for (with their step numbers)."""

    step: int
    call: ModelCall
    index: int
    """The turn's position among its agent's turns (0 for the first)."""
    tools: list[tuple[int, ToolCall]] = field(default_factory=list)


def model_output(call: ModelCall) -> str:
    """What a model turn wrote: its text and, per tool use, the tool name and JSON arguments."""
    if call.response is None:
        return ""
    uses = [f"{u.name} {_arguments_json(u.input)}" for u in call.response.tool_uses]
    return "\n".join([call.response.text(), *uses])


def _arguments_json(arguments: Any) -> str:
    """A tool use's arguments as compact JSON, letters as written (orjson: a run's hand-backs are megabytes; the
    standard library for what orjson refuses, such as an integer beyond 64 bits)."""
    try:
        return orjson.dumps(arguments, default=str).decode()
    except orjson.JSONEncodeError:
        return json.dumps(arguments, default=str, ensure_ascii=False)


class RunView:
    """Read-only indexes over one run's events; step numbers match `aura_nb.trace.frames.step_rows`."""

    def __init__(self, events: Iterable[Event]) -> None:
        self.events: list[Event] = [e for e in events if not e.ephemeral]
        self.steps = step_events(self.events)
        self._numbers = {id(e): n for n, e in enumerate(self.steps, start=1)}
        self._positions = {id(e): i for i, e in enumerate(self.events)}
        self._memo: dict[str, Any] = {}

    def memo(self, key: str, build: Callable[[RunView], T]) -> T:
        """`build(self)`, computed once per view (indexes an analyser module keeps for itself)."""
        if key not in self._memo:
            self._memo[key] = build(self)
        value: T = self._memo[key]
        return value

    def forget(self) -> None:
        """Drop the indexes the analysers built (they refer back to the view: without this, the view and all
        they hold are freed only by the cyclic garbage collector, not as soon as the last reference goes)."""
        self._memo.clear()

    def number(self, step: ModelCall | ToolCall) -> int:
        """The 1-based step number of a model or tool call."""
        return self._numbers[id(step)]

    def position(self, event: EventBase) -> int:
        """The index of `event` in the log."""
        return self._positions[id(event)]

    @cached_property
    def _by_kind(self) -> dict[type, list[Event]]:
        kinds: dict[type, list[Event]] = defaultdict(list)
        for event in self.events:
            kinds[type(event)].append(event)
        return kinds

    def of(self, kind: type[E]) -> list[E]:
        """The events of one class, in log order."""
        return self._by_kind.get(kind, [])  # type: ignore[return-value]

    @cached_property
    def tool_calls(self) -> list[tuple[int, ToolCall]]:
        return [(self.number(e), e) for e in self.steps if type(e) is ToolCall]

    @cached_property
    def model_calls(self) -> list[tuple[int, ModelCall]]:
        return [(self.number(e), e) for e in self.steps if type(e) is ModelCall]

    @cached_property
    def started(self) -> RunStarted | None:
        return next(iter(self.of(RunStarted)), None)

    @cached_property
    def finished(self) -> RunFinished | None:
        found = self.of(RunFinished)
        return found[-1] if found else None

    @cached_property
    def config(self) -> dict[str, Any]:
        return self.started.config if self.started is not None else {}

    @cached_property
    def question(self) -> str:
        return self.started.question if self.started is not None else ""

    @cached_property
    def max_parallel(self) -> int:
        limits = self.config.get("limits") or {}
        return int(limits.get("max_parallel") or DEFAULT_MAX_PARALLEL)

    @cached_property
    def final_texts(self) -> list[str]:
        """The final answer and the structured conclusion (as JSON)."""
        if self.finished is None:
            return []
        conclusion = self.finished.conclusion
        return [self.finished.answer, conclusion.model_dump_json() if conclusion is not None else ""]

    @cached_property
    def evidence(self) -> list[Evidence]:
        """Every evidence item: the tasks' submitted results and the final conclusion."""
        items = [e for t in self.task_results.values() if t.outcome.result for e in t.outcome.result.evidence]
        if self.finished is not None and self.finished.conclusion is not None:
            items += self.finished.conclusion.evidence
        return items

    @cached_property
    def cited_calls(self) -> set[str]:
        return {item.call_id for item in self.evidence if item.call_id}

    @cached_property
    def cited_blobs(self) -> set[str]:
        return {item.blob_id for item in self.evidence if item.blob_id}

    @cached_property
    def turns(self) -> dict[str, list[Turn]]:
        """Per agent, its model turns in log order with the tool calls each asked for."""
        turns: dict[str, list[Turn]] = defaultdict(list)
        owner: dict[tuple[str, str], Turn] = {}
        for number, event in enumerate(self.steps, start=1):
            if isinstance(event, ModelCall):
                turn = Turn(number, event, len(turns[event.agent]))
                turns[event.agent].append(turn)
                for use in event.response.tool_uses if event.response else []:
                    owner[(event.agent, use.id)] = turn
                continue
            latest = turns[event.agent][-1] if turns[event.agent] else None
            turn_of = owner.get((event.agent, event.call_id), latest)
            if turn_of is not None:
                turn_of.tools.append((number, event))
        return dict(turns)

    @cached_property
    def _turn_index(self) -> dict[int, int]:
        return {id(call): turn.index for turns in self.turns.values() for turn in turns for _, call in turn.tools}

    def turn_of(self, call: ToolCall) -> int:
        """The index (among its agent's turns) of the model turn that asked for `call`; -1 before any turn."""
        return self._turn_index.get(id(call), -1)

    def turn_count(self, agent: str) -> int:
        return len(self.turns.get(agent, []))

    @cached_property
    def agent_starts(self) -> dict[str, AgentStarted]:
        """Each agent's first `agent_started` (its brief and the tools it was offered)."""
        starts: dict[str, AgentStarted] = {}
        for event in self.of(AgentStarted):
            starts.setdefault(event.agent, event)
        return starts

    @cached_property
    def agent_ends(self) -> dict[str, AgentFinished]:
        return {e.agent: e for e in self.of(AgentFinished)}

    def brief(self, agent: str) -> str:
        """An agent's system prompt and first messages."""
        started = self.agent_starts.get(agent)
        if started is None:
            return ""
        return "\n".join([started.system, *(m.model_dump_json() for m in started.messages)])

    @cached_property
    def tool_schemas(self) -> dict[str, dict[str, Any]]:
        """The input schema of every tool offered in the run, by name (as recorded in `agent_started`)."""
        schemas: dict[str, dict[str, Any]] = {}
        for started in self.of(AgentStarted):
            schemas.update(started.tool_schemas)
        return schemas

    @cached_property
    def agent_spans(self) -> dict[str, tuple[float, float]]:
        """Per agent, its wall-time interval (start, end)."""
        return {done.agent: (done.ts - done.duration, done.ts) for done in self.of(AgentFinished)}

    @cached_property
    def plans(self) -> list[PlanCreated | PlanEdited]:
        return [e for e in self.events if isinstance(e, PlanCreated | PlanEdited)]

    @cached_property
    def _plan_positions(self) -> list[int]:
        return [self.position(p) for p in self.plans]

    def plan_at(self, event: EventBase) -> dict[str, dict[str, Any]]:
        """The tasks (by id) of the latest plan recorded before `event`."""
        index = bisect.bisect_left(self._plan_positions, self.position(event))
        return self._plan_tasks[index - 1] if index > 0 else {}

    @cached_property
    def _plan_tasks(self) -> list[dict[str, dict[str, Any]]]:
        return [{t.id: t.model_dump() for t in p.plan.tasks} for p in self.plans]

    @cached_property
    def task_starts(self) -> dict[str, TaskStarted]:
        return {e.task_id: e for e in self.of(TaskStarted)}

    @cached_property
    def task_results(self) -> dict[str, TaskFinished]:
        return {e.task_id: e for e in self.of(TaskFinished)}

    def task_span(self, task_id: str) -> tuple[float, float] | None:
        """When a task's worker ran: `task_started.ts` .. `task_finished.ts`."""
        start, end = self.task_starts.get(task_id), self.task_results.get(task_id)
        if start is None or end is None:
            return None
        return start.ts, end.ts

    @cached_property
    def _agent_steps(self) -> dict[str, list[int]]:
        steps: dict[str, list[int]] = defaultdict(list)
        for number, event in enumerate(self.steps, start=1):
            steps[event.agent].append(number)
        return steps

    def steps_of(self, agent: str) -> list[int]:
        return self._agent_steps.get(agent, [])

    @cached_property
    def _agent_calls(self) -> dict[str, list[ToolCall]]:
        calls: dict[str, list[ToolCall]] = defaultdict(list)
        for _, call in self.tool_calls:
            calls[call.agent].append(call)
        return calls

    def calls_of(self, agent: str) -> list[ToolCall]:
        """The tool calls of one agent, in step order."""
        return self._agent_calls.get(agent, [])

    @cached_property
    def _span_steps(self) -> dict[str, int]:
        return {step.span_id: number for number, step in enumerate(self.steps, start=1)}

    def step_of_span(self, span_id: str | None) -> int | None:
        return self._span_steps.get(span_id) if span_id else None

    def step_before(self, event: EventBase) -> int | None:
        """The number of the last step logged before `event`."""
        index = bisect.bisect_left(self._step_positions, self.position(event))
        return index if index > 0 else None

    @cached_property
    def _step_positions(self) -> list[int]:
        return [self.position(step) for step in self.steps]
