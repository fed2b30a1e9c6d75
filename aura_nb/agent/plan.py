"""The plan and what its tasks produce: `Plan`, `Task`, `TaskResult`, `Conclusion`.

A plan is a DAG of tasks. `Plan.problems()` lists everything wrong with one
(duplicate ids, dangling dependencies, cycles, unknown tools) so the planner
can be told exactly what to repair.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PlanError(Exception):
    """A plan that could not be made valid."""


class Task(BaseModel):
    """One unit of work for a worker: a goal, the tasks whose results it needs, the tools it may use."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    goal: str = Field(min_length=1)
    depends_on: list[str] = Field(default_factory=list)
    tools: list[str] = Field(default_factory=list, description="tool names this task may call")


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tasks: list[Task] = Field(min_length=1)
    rationale: str = ""

    def task(self, task_id: str) -> Task:
        return next(t for t in self.tasks if t.id == task_id)

    def problems(self, tool_names: Collection[str] | None = None) -> list[str]:
        """Everything that makes this plan unexecutable, as sentences; empty when it is valid."""
        found: list[str] = []
        ids = [t.id for t in self.tasks]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            found.append(f"duplicate task ids: {', '.join(duplicated)}")
        known = set(ids)
        for task in self.tasks:
            dangling = [d for d in task.depends_on if d not in known]
            if dangling:
                found.append(f"task {task.id!r} depends on unknown task(s) {', '.join(map(repr, dangling))}")
            if task.id in task.depends_on:
                found.append(f"task {task.id!r} depends on itself")
            if tool_names is not None:
                unknown = [name for name in task.tools if name not in tool_names]
                if unknown:
                    found.append(f"task {task.id!r} uses unknown tool(s) {', '.join(map(repr, unknown))}")
        cycle = self._cycle()
        if cycle:
            found.append(f"dependency cycle: {' -> '.join(cycle)}")
        return found

    def _cycle(self) -> list[str]:
        deps = {t.id: [d for d in t.depends_on if d != t.id] for t in self.tasks}
        state: dict[str, int] = {}  # 1: on the current path, 2: done
        path: list[str] = []

        def visit(node: str) -> list[str]:
            state[node] = 1
            path.append(node)
            for dep in deps.get(node, []):
                if state.get(dep) == 1:
                    return [*path[path.index(dep) :], dep]
                if dep in deps and dep not in state:
                    found = visit(dep)
                    if found:
                        return found
            path.pop()
            state[node] = 2
            return []

        for task_id in deps:
            if task_id not in state:
                found = visit(task_id)
                if found:
                    return found
        return []


class Evidence(BaseModel):
    """What backs a claim: a tool call (by call id), a Scratchpad blob slice, or a quoted line."""

    model_config = ConfigDict(extra="forbid")

    call_id: str | None = None
    blob_id: str | None = None
    note: str = ""


class TaskResult(BaseModel):
    """What a worker submits; `data` carries structured findings for the tasks that depend on it."""

    model_config = ConfigDict(extra="forbid")

    summary: str
    evidence: list[Evidence] = Field(default_factory=list)
    confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    data: dict[str, Any] = Field(default_factory=dict)


class Conclusion(BaseModel):
    """The synthesizer's structured answer."""

    model_config = ConfigDict(extra="forbid")

    answer: str
    root_cause_service: str | None = None
    fault_type: str | None = None
    triggering_change: str | None = None
    confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    evidence: list[Evidence] = Field(default_factory=list)
