"""`RunView`: a run's events indexed once for the analysers (steps, turns, evidence, plan, tasks)."""

from __future__ import annotations

import bisect
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

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
from aura_nb.trace.findings.base import result_text
from aura_nb.trace.findings.text import Haystack, salient, tokens
from aura_nb.trace.frames import step_events

E = TypeVar("E", bound=EventBase)
DEFAULT_MAX_PARALLEL = 4


@dataclass
class Turn:
    """One model call of an agent and the tool calls it asked for (with their step numbers)."""

    step: int
    call: ModelCall
    tools: list[tuple[int, ToolCall]] = field(default_factory=list)


def submitted_text(finished: TaskFinished) -> str:
    """A finished task's submitted result as JSON text ("null" when it has none)."""
    result = finished.outcome.result
    return json.dumps(result.model_dump() if result is not None else None, default=str)


def model_output(call: ModelCall) -> str:
    """What a model turn wrote: its text and, per tool use, the tool name and JSON arguments."""
    if call.response is None:
        return ""
    uses = [f"{u.name} {json.dumps(u.input, default=str)}" for u in call.response.tool_uses]
    return "\n".join([call.response.text(), *uses])


class RunView:
    """Read-only indexes over one run's events; step numbers match `aura_nb.trace.frames.step_rows`."""

    def __init__(self, events: Iterable[Event]) -> None:
        self.events: list[Event] = [e for e in events if not e.ephemeral]
        self.steps = step_events(self.events)
        self._numbers = {id(e): n for n, e in enumerate(self.steps, start=1)}
        self._positions = {id(e): i for i, e in enumerate(self.events)}
        self._briefs_tokens: dict[str, set[str]] = {}

    def number(self, step: ModelCall | ToolCall) -> int:
        """The 1-based step number of a model or tool call."""
        return self._numbers[id(step)]

    def position(self, event: EventBase) -> int:
        """The index of `event` in the log."""
        return self._positions[id(event)]

    def of(self, kind: type[E]) -> list[E]:
        """The events of one class, in log order."""
        return [e for e in self.events if isinstance(e, kind)]

    @cached_property
    def tool_calls(self) -> list[tuple[int, ToolCall]]:
        return [(self.number(e), e) for e in self.steps if isinstance(e, ToolCall)]

    @cached_property
    def model_calls(self) -> list[tuple[int, ModelCall]]:
        return [(self.number(e), e) for e in self.steps if isinstance(e, ModelCall)]

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
    def max_parallel(self) -> int:
        limits = self.config.get("limits") or {}
        return int(limits.get("max_parallel") or DEFAULT_MAX_PARALLEL)

    @cached_property
    def wall(self) -> float:
        """The run's wall time: `run_finished.duration`, else first to last event."""
        if self.finished is not None and self.finished.duration > 0:
            return self.finished.duration
        if not self.events:
            return 0.0
        return max(e.ts + e.duration for e in self.events) - min(e.ts for e in self.events)

    @cached_property
    def final(self) -> Haystack:
        """The final answer and the structured conclusion."""
        if self.finished is None:
            return Haystack("")
        conclusion = self.finished.conclusion.model_dump() if self.finished.conclusion else {}
        return Haystack.of([self.finished.answer, json.dumps(conclusion, default=str)])

    @cached_property
    def submitted(self) -> Haystack:
        """What the tasks handed back (summaries, evidence, data)."""
        return Haystack.of(submitted_text(t) for t in self.task_results.values())

    @cached_property
    def evidence(self) -> list[dict[str, Any]]:
        """Every evidence item: the tasks' submitted results and the final conclusion."""
        items = [e for t in self.task_results.values() if t.outcome.result for e in t.outcome.result.evidence]
        if self.finished is not None and self.finished.conclusion is not None:
            items += self.finished.conclusion.evidence
        return [item.model_dump() for item in items]

    @cached_property
    def cited_calls(self) -> set[str]:
        return {str(item["call_id"]) for item in self.evidence if item.get("call_id")}

    @cached_property
    def cited_blobs(self) -> set[str]:
        return {str(item["blob_id"]) for item in self.evidence if item.get("blob_id")}

    @cached_property
    def turns(self) -> dict[str, list[Turn]]:
        """Per agent, its model turns with the tool calls each asked for."""
        turns: dict[str, list[Turn]] = defaultdict(list)
        owner: dict[tuple[str, str], Turn] = {}
        for number, event in enumerate(self.steps, start=1):
            if isinstance(event, ModelCall):
                turn = Turn(number, event)
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
    def _turn_order(self) -> dict[str, tuple[list[int], list[ModelCall]]]:
        """Per agent, its model turns in log order with their positions (for bisecting)."""
        order: dict[str, tuple[list[int], list[ModelCall]]] = {}
        for agent, turns in self.turns.items():
            calls = sorted((t.call for t in turns), key=self.position)
            order[agent] = ([self.position(c) for c in calls], calls)
        return order

    def outputs_after(self, agent: str, event: EventBase) -> Haystack:
        """Everything `agent` wrote in the model turns after `event`."""
        positions, calls = self._turn_order.get(agent, ([], []))
        after = calls[bisect.bisect_right(positions, self.position(event)) :]
        known: set[str] = set().union(*(self._output_tokens[id(c)] for c in after))
        return Haystack("\n".join(self._output_texts[id(c)] for c in after), known)

    def has_turn_after(self, agent: str, event: EventBase) -> bool:
        after = self.position(event)
        return any(self.position(t.call) > after for t in self.turns.get(agent, []))

    @cached_property
    def _briefs(self) -> dict[str, AgentStarted]:
        return {e.agent: e for e in self.of(AgentStarted)}

    def brief(self, agent: str) -> str:
        """An agent's system prompt and first messages."""
        started = self._briefs.get(agent)
        if started is None:
            return ""
        return "\n".join([started.system, *(m.model_dump_json() for m in started.messages)])

    @cached_property
    def _result_tokens(self) -> dict[int, set[str]]:
        return {id(call): tokens(result_text(call)) for _, call in self.tool_calls}

    @cached_property
    def _agent_result_counts(self) -> dict[str, Counter[str]]:
        """Per agent, in how many of its tool results each token occurs."""
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for _, call in self.tool_calls:
            counts[call.agent].update(self._result_tokens[id(call)])
        return counts

    @cached_property
    def _output_texts(self) -> dict[int, str]:
        return {id(t.call): model_output(t.call) for turns in self.turns.values() for t in turns}

    @cached_property
    def _output_tokens(self) -> dict[int, set[str]]:
        return {key: tokens(text) for key, text in self._output_texts.items()}

    def _brief_tokens(self, agent: str) -> set[str]:
        if agent not in self._briefs_tokens:
            self._briefs_tokens[agent] = tokens(self.brief(agent))
        return self._briefs_tokens[agent]

    @cached_property
    def _first_written(self) -> dict[str, dict[str, int]]:
        """Per agent, the log position of the first model turn in which it wrote each token."""
        first: dict[str, dict[str, int]] = defaultdict(dict)
        for agent, turns in self.turns.items():
            for turn in sorted(turns, key=lambda t: self.position(t.call)):
                seen, at = first[agent], self.position(turn.call)
                for token in self._output_tokens[id(turn.call)]:
                    seen.setdefault(token, at)
        return first

    def new_tokens(self, call: ToolCall) -> frozenset[str]:
        """Salient tokens of `call`'s result the agent had not seen before it (brief, earlier turns, arguments)."""
        before = self.position(call)
        written = self._first_written.get(call.agent, {})
        known = self._brief_tokens(call.agent) | tokens(json.dumps(call.arguments, default=str))
        return frozenset(
            t
            for t in self._result_tokens[id(call)]
            if salient(t) and t not in known and written.get(t, before) >= before
        )

    def distinctive_result(self, call: ToolCall) -> frozenset[str]:
        """`new_tokens` of `call` that none of the agent's other results contains either."""
        counts = self._agent_result_counts[call.agent]
        return frozenset(t for t in self.new_tokens(call) if counts[t] == 1)

    @cached_property
    def agent_spans(self) -> dict[str, tuple[float, float]]:
        """Per agent, its wall-time interval (start, end)."""
        spans: dict[str, tuple[float, float]] = {}
        for done in self.of(AgentFinished):
            spans[done.agent] = (done.ts - done.duration, done.ts)
        return spans

    @cached_property
    def plans(self) -> list[PlanCreated | PlanEdited]:
        return [e for e in self.events if isinstance(e, PlanCreated | PlanEdited)]

    def plan_at(self, event: EventBase) -> dict[str, dict[str, Any]]:
        """The tasks (by id) of the latest plan recorded before `event`."""
        before = [p for p in self.plans if self.position(p) < self.position(event)]
        if not before:
            return {}
        return {t.id: t.model_dump() for t in before[-1].plan.tasks}

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

    def steps_of(self, agent: str) -> list[int]:
        return [n for n, e in enumerate(self.steps, start=1) if e.agent == agent]
