"""What is kept when work does not finish: a failed worker's gathered result, a stopped run's raw results.

A worker that ends without submitting (after its correction turn) keeps its last text and the tool
results it saw, as a soft-failed `TaskResult` the coordinator reads. A run that ends before a conclusion
(token budget, provider errors, a coordinator that does not decide) answers with every task's raw result
and says why, rather than with nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from aura_nb.agent.loop import AgentResult
from aura_nb.content import ToolResultBlock, ToolUseBlock
from aura_nb.contracts import HANDBACK_TOOLS, Evidence, TaskOutcome, TaskResult

EXCERPT_CHARS = 600


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


def gathered_result(result: AgentResult) -> TaskResult | None:
    """What a worker that did not submit had gathered: its last text and the tool results it saw (None: nothing)."""
    uses: dict[str, ToolUseBlock] = {}
    evidence: list[Evidence] = []
    last_text = ""
    for message in result.messages[1:]:
        if message.role == "assistant" and message.text().strip():
            last_text = message.text().strip()
        for block in message.content:
            if isinstance(block, ToolUseBlock):
                uses[block.id] = block
            elif isinstance(block, ToolResultBlock) and block.tool_use_id in uses:
                use = uses[block.tool_use_id]
                if use.name not in HANDBACK_TOOLS:
                    flag = " (error)" if block.is_error else ""
                    note = f"{use.name}{flag}: {_excerpt(block.content)}"
                    evidence.append(Evidence(call_id=block.tool_use_id, note=note))
    if not last_text and not evidence:
        return None
    summary = last_text or f"no summary: the worker made {len(evidence)} tool call(s) before it stopped"
    return TaskResult(summary=summary, evidence=evidence, confidence=0.1, data={"submitted": False})


def raw_results(reason: str, outcomes: Mapping[str, TaskOutcome]) -> str:
    """The answer of a run that ended before a conclusion: why, then every task's outcome as it stands."""
    lines = [f"No conclusion: {reason}.", "", "Raw task results:"]
    for task_id, outcome in outcomes.items():
        lines += ["", f"## {task_id}: {outcome.status}"]
        if outcome.error:
            lines.append(f"Failed: {outcome.error}")
        if outcome.result is not None:
            lines.append(outcome.result.summary)
            lines += [f"- {e.note}" for e in outcome.result.evidence if e.note]
    if not outcomes:
        lines.append("(no task ran)")
    return "\n".join(lines)
