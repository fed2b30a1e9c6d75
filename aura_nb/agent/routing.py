"""The coordinator's routing tools: one call decides what happens next.

At the start the planner routes the question: `answer_directly`, `submit_plan` or `ask_clarification`
(config may forbid the first and the last: then they are not offered). After each iteration the
coordinator decides again from the results: `submit_answer`, or — while iterations remain — `submit_plan`
(and `ask_clarification`). A `Router` offers them as one toolbox: the first accepted call decides, any
later routing call is refused, saying which decision stands.

A fork continuing a run that asked for clarification gives the router the analyst's `answer`: the
recorded `ask_clarification` call then returns it instead of deciding, and the coordinator goes on.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from pydantic import BaseModel

from aura_nb.agent.submit import SubmitTool, inline_schema
from aura_nb.content import ToolResult, ToolSpec
from aura_nb.contracts import Clarification, Conclusion, DirectAnswer, Plan, Route
from aura_nb.mcp.toolbox import ToolContext, ToolOutcome

ROUTES: dict[str, Route] = {
    "answer_directly": "answer",
    "submit_plan": "plan",
    "ask_clarification": "clarify",
    "submit_answer": "conclude",
}


def answer_tool() -> SubmitTool:
    return SubmitTool(
        "answer_directly",
        "Answer the question yourself, without an investigation, when it needs no tool (e.g. a definition, "
        "or what the tools cannot tell). The answer is final.",
        DirectAnswer,
    )


def clarification_tool() -> SubmitTool:
    return SubmitTool(
        "ask_clarification",
        "Ask the analyst a question when the request cannot be investigated as asked (it is ambiguous, or names "
        "nothing to look at). The run ends until the analyst answers.",
        Clarification,
    )


def conclusion_tool() -> SubmitTool:
    return SubmitTool(
        "submit_answer", "Submit the answer: root cause, triggering change, evidence, confidence.", Conclusion
    )


def plan_tool(
    tool_names: list[str],
    workers: dict[str, list[str]],
    *,
    earlier: Collection[str] = (),
    max_tasks: int | None = None,
) -> SubmitTool:
    """`submit_plan`, checked against the tools that exist, the specialists and their allow-lists, the earlier
    iterations' task ids and the plan-size cap."""
    schema = inline_schema(Plan)
    del schema["properties"]["iteration"]  # the orchestrator numbers its plans
    task = schema["properties"]["tasks"]["items"]["properties"]
    task["tools"]["items"] = {"type": "string", "enum": tool_names}
    if workers:
        task["worker"] = {"anyOf": [{"type": "string", "enum": sorted(workers)}, {"type": "null"}], "default": None}
    else:
        del task["worker"]

    def check(plan: BaseModel) -> list[str]:
        assert isinstance(plan, Plan)
        return plan.problems(tool_names, workers, earlier=earlier, max_tasks=max_tasks, worker_tools=workers)

    return SubmitTool(
        "submit_plan",
        "Submit a plan: tasks with ids, goals, dependencies (task ids), the tools each may use and, when a "
        "specialist fits, the worker to assign it to. Independent tasks run in parallel.",
        Plan,
        check=check,
        schema=schema,
    )


class Router:
    """Routing tools as one toolbox; `decision` is the first accepted call's tool and value."""

    def __init__(self, tools: Sequence[SubmitTool], *, answer: str | None = None) -> None:
        self.tools = {tool.spec.name: tool for tool in tools}
        self.answer = answer
        self.decision: tuple[str, BaseModel] | None = None

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.tools)

    @property
    def route(self) -> Route | None:
        return ROUTES[self.decision[0]] if self.decision is not None else None

    @property
    def rejections(self) -> list[str]:
        """Why calls were rejected, over every tool, in the order they came."""
        return [message for tool in self.tools.values() for message in tool.rejections]

    async def list_tools(self) -> list[ToolSpec]:
        return [tool.spec for tool in self.tools.values()]

    async def call_tool(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        tool = self.tools.get(name)
        if tool is None:
            return ToolOutcome.failure(f"unknown tool {name!r}", "unknown_tool")
        if self.decision is not None:
            decided = self.decision[0]
            message = f"{name} was not carried out: {decided} already decided this turn (the first routing call wins)"
            return ToolOutcome.failure(message, "invalid_submission", server="aura")
        outcome = await tool.call_tool(name, arguments, ctx)
        if not outcome.terminal or tool.accepted is None:
            return outcome
        if name == "ask_clarification" and self.answer is not None:
            answer, self.answer = self.answer, None
            return ToolOutcome(ToolResult.of_text(f"The analyst answered: {answer}"), server="aura")
        self.decision = (name, tool.accepted)
        return outcome
