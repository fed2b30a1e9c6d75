"""One agent: model turn -> tool calls -> results -> next turn, until an answer or a limit.

Every step is an event: `agent_started`, one `model_call` per turn, one
`tool_call` per call, `agent_finished`. Tool calls asked for in one turn run
concurrently. A duplicate call (same tool, same arguments) is not executed:
the model is told once, and a second duplicate ends the loop.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from aura_nb.agent.control import RunControl, RunStopped
from aura_nb.content import (
    ContentBlock,
    Message,
    ModelResponse,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    Usage,
    call_fingerprint,
)
from aura_nb.contracts import AgentStatus, Role, ToolErrorType
from aura_nb.events import (
    AgentFinished,
    AgentStarted,
    ErrorEvent,
    Instruction,
    ModelCall,
    ModelDelta,
    ToolCall,
    new_span_id,
)
from aura_nb.mcp.toolbox import Toolbox, ToolContext, ToolOutcome
from aura_nb.models.base import Delta, Model, ModelError, ModelRequest
from aura_nb.trace.recorder import Recorder


@dataclass(frozen=True)
class LoopLimits:
    """Bounds on one agent: turns, total tokens (input + output), tokens per response."""

    max_turns: int = 24
    token_budget: int | None = None
    max_tokens: int = 4096


@dataclass
class AgentResult:
    status: AgentStatus
    answer: str
    messages: list[Message]
    usage: Usage = field(default_factory=Usage)
    turns: int = 0
    error: str | None = None
    submitted: dict[str, Any] | None = None
    """The arguments of the successful terminal call (e.g. `submit_result`) that ended the loop."""


class AgentLoop:
    """Runs one agent's conversation against a model and a toolbox, recording every step."""

    def __init__(
        self,
        *,
        model: Model,
        toolbox: Toolbox,
        recorder: Recorder,
        name: str = "agent",
        role: Role = "agent",
        system: str = "",
        limits: LoopLimits | None = None,
        parent_span_id: str | None = None,
        control: RunControl | None = None,
        task_id: str | None = None,
    ) -> None:
        self.model = model
        self.toolbox = toolbox
        self.recorder = recorder
        self.name = name
        self.role = role
        self.system = system
        self.limits = limits or LoopLimits()
        self.parent_span_id = parent_span_id
        self.control = control or RunControl()
        self.task_id = task_id
        self.span_id = new_span_id()
        self._seen_calls: dict[str, int] = {}
        self._duplicate_warnings = 0

    async def run(self, messages: list[Message]) -> AgentResult:
        """Run until the model answers or a limit is reached; never raises for model or tool failures."""
        tools = await self.toolbox.list_tools()
        unrecorded = set(self.recorder.first_time(t.name for t in tools))
        self.recorder.emit(
            AgentStarted(
                span_id=self.span_id,
                parent_span_id=self.parent_span_id,
                agent=self.name,
                role=self.role,
                task_id=self.task_id,
                system=self.system,
                messages=messages,
                tools=[t.name for t in tools],
                tool_schemas={t.name: t.input_schema for t in tools if t.name in unrecorded},
            )
        )
        started = time.time()
        result = AgentResult(status="max_turns", answer="", messages=list(messages))
        try:
            await self._turns(result)
        except RunStopped:
            result.status = "stopped"
        except asyncio.CancelledError:
            result.status = "interrupted"
            self._finish(result, started)
            raise
        self._finish(result, started)
        return result

    def _finish(self, result: AgentResult, started: float) -> None:
        self.recorder.emit(
            AgentFinished(
                span_id=self.span_id,
                parent_span_id=self.parent_span_id,
                agent=self.name,
                duration=time.time() - started,
                status=result.status,
                answer=result.answer,
                turns=result.turns,
                usage=result.usage,
                error=result.error,
            )
        )

    async def _turns(self, result: AgentResult) -> None:
        while result.turns < self.limits.max_turns:
            await self.control.checkpoint()
            self._take_instructions(result)
            tools = await self.toolbox.list_tools()
            request = ModelRequest(
                system=self.system,
                messages=result.messages,
                tools=tools,
                max_tokens=self.limits.max_tokens,
                agent=self.name,
            )
            result.turns += 1
            response = await self._model_turn(request, result.turns)
            if isinstance(response, ModelError):
                result.status = "model_error"
                result.error = f"{response.kind}: {response}"
                return
            result.usage = result.usage + response.usage
            result.messages.append(response.as_message())
            uses = response.tool_uses
            if not uses:
                result.status = "answered"
                result.answer = response.text()
                return
            if self.limits.token_budget is not None and result.usage.total >= self.limits.token_budget:
                result.status = "budget_exhausted"
                result.error = f"token budget of {self.limits.token_budget} reached ({result.usage.total} used)"
                result.answer = response.text()
                return
            await self.control.checkpoint()
            blocks, stop, submitted = await self._tool_turn(uses)
            result.messages.append(Message(role="user", content=list(blocks)))
            if submitted is not None:
                result.status = "submitted"
                result.submitted = submitted
                result.answer = response.text()
                return
            if stop:
                result.status = "duplicate_calls"
                result.error = "the model repeated an identical tool call after being told it was a duplicate"
                return

    def _take_instructions(self, result: AgentResult) -> None:
        """Apply the system prompt and any analyst instructions the run's control has for this agent."""
        self.system, notes = self.control.steer(self.name, self.role, self.system)
        if not notes:
            return
        for text in notes:
            self.recorder.emit(Instruction(parent_span_id=self.span_id, agent=self.name, text=text))
        added: list[ContentBlock] = [TextBlock(text=f"Instruction from the analyst: {text}") for text in notes]
        last = result.messages[-1] if result.messages else None
        if last is not None and last.role == "user":
            result.messages[-1] = Message(role="user", content=[*last.content, *added])
        else:
            result.messages.append(Message(role="user", content=added))

    async def _model_turn(self, request: ModelRequest, turn: int) -> ModelResponse | ModelError:
        """One model call, recorded as a `model_call` event whether it succeeds or fails."""
        event = ModelCall(
            parent_span_id=self.span_id,
            agent=self.name,
            provider=self.model.provider,
            model=self.model.name,
            turn=turn,
            request_hash=request.digest(),
            input_messages=len(request.messages),
        )

        def on_delta(delta: Delta) -> None:
            if delta.retry:  # an attempt failed and is retried: recorded, as the run recovers from it
                self.recorder.emit(
                    ErrorEvent(
                        parent_span_id=event.span_id,
                        agent=self.name,
                        message=f"{self.model.provider} {self.model.name}: {delta.retry}",
                        error_type=delta.error_type,
                        where="model",
                        recoverable=True,
                    )
                )
                return
            self.recorder.emit(
                ModelDelta(parent_span_id=event.span_id, agent=self.name, text=delta.text, tool_input=delta.tool_input)
            )

        try:
            response = await self.model.complete(request, on_delta=on_delta)
        except ModelError as exc:
            event.duration = time.time() - event.ts
            event.retries, event.error, event.error_type = exc.retries, str(exc), exc.kind
            self.recorder.emit(event)
            self.recorder.emit(
                ErrorEvent(
                    parent_span_id=event.span_id,
                    agent=self.name,
                    message=str(exc),
                    error_type=exc.kind,
                    where="model",
                    recoverable=False,
                )
            )
            return exc
        event.duration = time.time() - event.ts
        event.response, event.usage = response, response.usage
        event.retries, event.time_to_first_token = response.retries, response.time_to_first_token
        if response.replayed:
            event.replayed, event.model = True, response.model or event.model
        self.recorder.emit(event)
        return response

    async def _tool_turn(self, uses: list[ToolUseBlock]) -> tuple[list[ToolResultBlock], bool, dict[str, Any] | None]:
        """Run this turn's calls concurrently.

        Returns the result blocks, whether to stop for duplicates, and the arguments of a successful
        terminal call if there was one.
        """
        fresh: list[ToolUseBlock] = []
        duplicates: dict[str, int] = {}
        for block in uses:
            if block.input_error is not None:
                continue
            key = call_fingerprint(block.name, block.input)
            if key in self._seen_calls:
                duplicates[block.id] = self._seen_calls[key]
            else:
                self._seen_calls[key] = len(self._seen_calls) + 1
                fresh.append(block)
        if duplicates:
            self._duplicate_warnings += 1
        outcomes = dict(zip([b.id for b in fresh], await asyncio.gather(*(self._call(b) for b in fresh)), strict=True))
        blocks: list[ToolResultBlock] = []
        submitted: dict[str, Any] | None = None
        for block in uses:
            if block.input_error is not None:
                message = (
                    f"the call was not made: your {block.name} input was rejected, {block.input_error}. "
                    "Call it again with the arguments as one JSON object."
                )
                self._record_refused(block, message, "invalid_tool_input")
                blocks.append(ToolResultBlock(tool_use_id=block.id, content=message, is_error=True))
            elif block.id in duplicates:
                message = (
                    f"duplicate call: {block.name} was already called with these exact arguments; "
                    "its result is earlier in this conversation. Use it, or change the arguments."
                )
                self._record_refused(block, message, "duplicate_call")
                blocks.append(ToolResultBlock(tool_use_id=block.id, content=message, is_error=True))
            else:
                outcome = outcomes[block.id]
                if outcome.terminal and not outcome.result.is_error and submitted is None:
                    submitted = block.input
                result = outcome.result
                blocks.append(
                    ToolResultBlock(
                        tool_use_id=block.id, content=result.text(), is_error=result.is_error, images=result.images
                    )
                )
        return blocks, self._duplicate_warnings > 1, submitted

    def _record_refused(self, block: ToolUseBlock, message: str, error_type: ToolErrorType) -> None:
        self.recorder.emit(
            ToolCall(
                parent_span_id=self.span_id,
                agent=self.name,
                tool=block.name,
                call_id=block.id,
                arguments=block.input,
                error=message,
                error_type=error_type,
            )
        )

    async def _call(self, block: ToolUseBlock) -> ToolOutcome:
        span_id = new_span_id()
        ctx = ToolContext(agent=self.name, span_id=span_id, call_id=block.id, emit=self.recorder.emit)
        started = time.time()
        try:
            outcome = await self.toolbox.call_tool(block.name, block.input, ctx)
        except Exception as exc:  # a toolbox must not raise; if one does, the model still gets an answer
            outcome = ToolOutcome.failure(f"{block.name} failed inside the harness: {exc!r}", "harness_error")
        self.recorder.emit(
            ToolCall(
                span_id=span_id,
                parent_span_id=self.span_id,
                agent=self.name,
                ts=started,
                duration=time.time() - started,
                server=outcome.server,
                tool=block.name,
                call_id=block.id,
                arguments=block.input,
                result=outcome.result,
                result_ref=outcome.result_ref,
                result_bytes=outcome.result_bytes or len(outcome.result.text()),
                intercepted=outcome.intercepted,
                replayed=outcome.replayed,
                error=outcome.error,
                error_type=outcome.error_type,
            )
        )
        return outcome
