"""The full state of a run at any step, rebuilt from its event log alone.

After every model turn the log holds everything needed to continue: the plan,
each task's state and result, each agent's conversation (its first messages,
its turns, the results of its calls, the analyst's instructions) and the
Scratchpad blobs it refers to. `state_at` rebuilds that state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from aura_nb.agent.conversation import append_text, instruction_text
from aura_nb.content import Message, ToolResultBlock, ToolUseBlock
from aura_nb.contracts import Plan, Role, TaskOutcome, TaskState
from aura_nb.events import (
    AgentFinished,
    AgentStarted,
    Event,
    HarnessNote,
    Instruction,
    ModelCall,
    PlanCreated,
    PlanEdited,
    ScratchpadStored,
    TaskFinished,
    TaskStarted,
    ToolCall,
)


@dataclass
class AgentState:
    name: str
    role: Role
    system: str
    messages: list[Message]
    status: str = "running"
    pending: list[ToolUseBlock] = field(default_factory=list)
    results: dict[str, ToolResultBlock] = field(default_factory=dict)


@dataclass
class TaskProgress:
    """A task as far as it got: started (`running`) or ended with its outcome."""

    status: TaskState
    goal: str
    depends_on: list[str]
    outcome: TaskOutcome | None = None


@dataclass
class RunState:
    """What a run knew at a step: plan, tasks, conversations, blobs."""

    step: int
    plan: Plan | None = None
    tasks: dict[str, TaskProgress] = field(default_factory=dict)
    agents: dict[str, AgentState] = field(default_factory=dict)
    blobs: list[str] = field(default_factory=list)


def _deliver(agent: AgentState) -> None:
    """Once every call of the last turn has its result, they become the next user message (in call order)."""
    if agent.pending and all(use.id in agent.results for use in agent.pending):
        agent.messages.append(Message(role="user", content=[agent.results[use.id] for use in agent.pending]))
        agent.pending, agent.results = [], {}


def state_at(events: Iterable[Event], step: int | None = None) -> RunState:
    """The state after step `step` (1-based; None: the end of the log)."""
    state = RunState(step=0)
    for event in events:
        if isinstance(event, ModelCall | ToolCall):
            if step is not None and state.step >= step:
                break
            state.step += 1
        _apply(state, event)
    return state


def _apply(state: RunState, event: Event) -> None:
    agent = state.agents.get(event.agent)
    if isinstance(event, AgentStarted):
        state.agents[event.agent] = AgentState(event.agent, event.role, event.system, list(event.messages))
    elif isinstance(event, PlanCreated | PlanEdited):
        state.plan = event.plan
    elif isinstance(event, TaskStarted):
        state.tasks[event.task_id] = TaskProgress("running", event.goal, event.depends_on)
    elif isinstance(event, TaskFinished):
        task = state.tasks.setdefault(event.task_id, TaskProgress("running", "", []))
        task.status, task.outcome = event.status, event.outcome
    elif isinstance(event, ScratchpadStored):
        state.blobs.append(event.blob_id)
    elif agent is None:
        return
    elif isinstance(event, Instruction):
        append_text(agent.messages, [instruction_text(event.text)])
    elif isinstance(event, HarnessNote):
        append_text(agent.messages, [event.text])
    elif isinstance(event, ModelCall) and event.response is not None:
        agent.messages.append(event.response.as_message())
        agent.pending = event.response.tool_uses
    elif isinstance(event, ToolCall):
        text = event.error if event.result is None else event.result.text()
        is_error = event.result.is_error if event.result is not None else True
        agent.results[event.call_id] = ToolResultBlock(tool_use_id=event.call_id, content=text or "", is_error=is_error)
        _deliver(agent)
    elif isinstance(event, AgentFinished):
        agent.status = event.status
