"""One agent: model turn -> tool calls -> results -> next turn, until an answer or a limit.

Every step is an event: `agent_started`, one `model_call` per turn, one `tool_call` per call,
`agent_finished`. Tool calls asked for in one turn run concurrently, through the agent's toolbox chain
(allow-list, Scratchpad, then the `LoopGuard`, which judges repeated calls by their outputs). The loop
itself adds the turn-level steps, each recorded as a `harness_note` the model reads after the turn's
results: a wrap-up note when `wrap_up_turns` turns remain, and one *correction* turn for an agent that
ends without handing back its result (it forgot, ran out of turns or was stopped looping), in which only
its hand-back tools run. The run's `TokenBudget` is checked before every turn.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from aura_nb.agent.budget import TokenBudget
from aura_nb.agent.control import RunControl, RunStopped
from aura_nb.agent.conversation import append_text, instruction_text
from aura_nb.agent.guard import LoopGuard
from aura_nb.config import Limits
from aura_nb.content import Message, ModelResponse, ToolResultBlock, ToolUseBlock, Usage
from aura_nb.contracts import AgentStatus, Role
from aura_nb.events import (
    AgentFinished,
    AgentStarted,
    ErrorEvent,
    HarnessNote,
    Instruction,
    ModelCall,
    ModelDelta,
    ToolCall,
    ToolStarted,
    new_span_id,
)
from aura_nb.mcp.toolbox import Toolbox, ToolContext, ToolOutcome
from aura_nb.models.base import Delta, Model, ModelError, ModelRequest
from aura_nb.trace.recorder import Recorder

CORRECTED: frozenset[AgentStatus] = frozenset({"max_turns", "duplicate_calls"})
"""Endings that earn a correction turn (plus `answered` for an agent that has a hand-back tool)."""


@dataclass(frozen=True)
class LoopLimits:
    """Bounds on one agent: turns, tokens per response, the wrap-up note, the loop guard, corrections."""

    max_turns: int = 24
    max_tokens: int = 4096
    wrap_up_turns: int = 0
    """Add a wrap-up note to the turn's results when this many turns (or fewer) remain (0: never)."""
    loop_guidance: int = 3
    loop_stop: int = 5
    corrections: int = 1
    """Correction turns for an agent that ends without handing back (or, without one, answering)."""

    @staticmethod
    def of(limits: Limits, *, max_turns: int | None = None, wrap_up: bool = True) -> LoopLimits:
        """The loop bounds `limits` sets (`max_turns` overrides its turns; `wrap_up=False`: no wrap-up note)."""
        return LoopLimits(
            max_turns=max_turns or limits.max_turns,
            wrap_up_turns=limits.wrap_up_turns if wrap_up else 0,
            loop_guidance=limits.loop_guidance,
            loop_stop=limits.loop_stop,
        )


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
        budget: TokenBudget | None = None,
        handback: frozenset[str] = frozenset(),
        parent_span_id: str | None = None,
        control: RunControl | None = None,
        task_id: str | None = None,
        finish: str | None = None,
    ) -> None:
        """`handback` names the tools whose accepted call ends the agent (e.g. `submit_result`); `budget` is
        the run's token budget, shared with its other agents; `finish` says, in the harness's notes, how the
        agent should end (default: call its hand-back tool with what it found, or give its final answer)."""
        self.model = model
        self.limits = limits or LoopLimits()
        self.handback = handback
        self.finish = finish or (
            f"call {' or '.join(sorted(handback))} with what you found" if handback else "give your final answer"
        )
        self.guard = LoopGuard(
            toolbox, guidance_after=self.limits.loop_guidance, stop_after=self.limits.loop_stop, finish=self.finish
        )
        self.toolbox: Toolbox = self.guard
        self.recorder = recorder
        self.name = name
        self.role = role
        self.system = system
        self.budget = budget or TokenBudget()
        self.parent_span_id = parent_span_id
        self.control = control or RunControl()
        self.task_id = task_id
        self.span_id = new_span_id()
        self._correcting = False
        self._tried_handback = False

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
            await self._turns(result, self.limits.max_turns)
            for _ in range(self.limits.corrections):
                if not self._needs_correction(result):
                    break
                await self._correct(result)
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

    def _needs_correction(self, result: AgentResult) -> bool:
        """It ended without handing back (and did not just try to), for a reason another turn can mend."""
        if self._tried_handback or self.budget.exhausted:
            return False
        return result.status in CORRECTED or (result.status == "answered" and bool(self.handback))

    async def _correct(self, result: AgentResult) -> None:
        """One more turn in which only the hand-back tools run."""
        why = {
            "answered": "You answered in text without handing back your result.",
            "max_turns": f"You used all {self.limits.max_turns} of your turns.",
            "duplicate_calls": "You were stopped for repeating a call that kept returning the same output.",
        }[result.status]
        tools = "no tool will run" if not self.handback else f"only {' or '.join(sorted(self.handback))} will run"
        text = f"[correction] {why} Now {self.finish}, in this turn: {tools}."
        self._note([HarnessNote(reason="correction", text=text)], result)
        self._correcting = True
        ending = result.status, result.error
        await self._turns(result, result.turns + 1)
        if result.status != "submitted" and result.status not in ("model_error", "budget_exhausted"):
            if result.status == "answered" and not self.handback:
                return  # the single agent answered after all
            result.status, result.error = ending

    def _note(self, notes: list[HarnessNote], result: AgentResult) -> None:
        """Record harness notes and add them to the conversation."""
        for note in notes:
            note.agent, note.parent_span_id = self.name, self.span_id
            self.recorder.emit(note)
        append_text(result.messages, [note.text for note in notes])

    async def _turns(self, result: AgentResult, max_turns: int) -> None:
        while result.turns < max_turns:
            await self.control.checkpoint()
            self._take_instructions(result)
            if self.budget.exhausted:
                result.status, result.error = "budget_exhausted", self.budget.describe()
                return
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
            self.budget.spend(response.usage)
            result.messages.append(response.as_message())
            uses = response.tool_uses
            self._tried_handback = any(use.name in self.handback for use in uses)
            if not uses:
                result.status = "answered"
                result.answer = response.text()
                return
            if self.budget.exhausted and not self._tried_handback:
                result.status, result.error = "budget_exhausted", self.budget.describe()
                result.answer = response.text()
                return
            await self.control.checkpoint()
            blocks, notes, submitted = await self._tool_turn(uses)
            result.messages.append(Message(role="user", content=list(blocks)))
            if submitted is not None:
                result.status = "submitted"
                result.submitted = submitted
                result.answer = response.text()
                return
            remaining = max_turns - result.turns
            if not self._correcting and 0 < remaining <= self.limits.wrap_up_turns:
                text = (
                    f"[wrap-up] {remaining} turn(s) left before this agent is stopped: make only the calls that "
                    f"matter most, then {self.finish}."
                )
                notes.append(HarnessNote(reason="wrap_up", text=text))
            self._note(notes, result)
            if self.guard.stop_reason is not None:
                result.status = "duplicate_calls"
                result.error = self.guard.stop_reason
                return

    def _take_instructions(self, result: AgentResult) -> None:
        """Apply the system prompt and any analyst instructions the run's control has for this agent."""
        self.system, notes = self.control.steer(self.name, self.role, self.system)
        for text in notes:
            self.recorder.emit(Instruction(parent_span_id=self.span_id, agent=self.name, text=text))
        append_text(result.messages, [instruction_text(text) for text in notes])

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
            response = await self.control.step(self.model.complete(request, on_delta=on_delta))
        except RunStopped:
            event.duration = time.time() - event.ts
            event.error, event.error_type = "stopped by the analyst during the model turn", "stopped"
            self.recorder.emit(event)
            raise
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

    async def _tool_turn(
        self, uses: list[ToolUseBlock]
    ) -> tuple[list[ToolResultBlock], list[HarnessNote], dict[str, Any] | None]:
        """Run this turn's calls concurrently.

        Returns the result blocks, the harness notes the calls brought (in call order), and the arguments of
        a successful terminal call if there was one.
        """
        outcomes = await asyncio.gather(*(self._call(block) for block in uses))
        if self.control.stopped:
            raise RunStopped  # the calls it cancelled are recorded (outcome unknown); the agent ends here
        blocks: list[ToolResultBlock] = []
        notes: list[HarnessNote] = []
        submitted: dict[str, Any] | None = None
        for block, outcome in zip(uses, outcomes, strict=True):
            if outcome.terminal and not outcome.result.is_error and submitted is None:
                submitted = block.input
            notes.extend(note.model_copy(update={"call_id": block.id}) for note in outcome.notes)
            result = outcome.result
            blocks.append(
                ToolResultBlock(
                    tool_use_id=block.id, content=result.text(), is_error=result.is_error, images=result.images
                )
            )
        return blocks, notes, submitted

    async def _execute(self, block: ToolUseBlock, ctx: ToolContext) -> ToolOutcome:
        if block.input_error is not None:
            message = (
                f"the call was not made: your {block.name} input was rejected, {block.input_error}. "
                "Call it again with the arguments as one JSON object."
            )
            return ToolOutcome.failure(message, "invalid_tool_input")
        if self._correcting and block.name not in self.handback:
            message = f"{block.name} did not run: this is the correction turn, in which {self.finish}"
            return ToolOutcome.failure(message, "correction_only", server="aura")
        self.recorder.emit(  # before it runs: a resume knows a call without a result may have run
            ToolStarted(
                parent_span_id=ctx.span_id, agent=self.name, tool=block.name, call_id=block.id, arguments=block.input
            )
        )
        try:
            return await self.control.step(self.toolbox.call_tool(block.name, block.input, ctx))
        except RunStopped:
            message = (
                f"outcome unknown: {block.name} was cancelled by a stop while it ran (its server was told); "
                "it may have run, so it is not run again"
            )
            return ToolOutcome.failure(message, "outcome_unknown")
        except Exception as exc:  # a toolbox must not raise; if one does, the model still gets an answer
            return ToolOutcome.failure(f"{block.name} failed inside the harness: {exc!r}", "harness_error")

    async def _call(self, block: ToolUseBlock) -> ToolOutcome:
        span_id = new_span_id()
        ctx = ToolContext(agent=self.name, span_id=span_id, call_id=block.id, emit=self.recorder.emit)
        started = time.time()
        outcome = await self._execute(block, ctx)
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
