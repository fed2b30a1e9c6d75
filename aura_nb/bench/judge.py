"""An LLM judge: a model grades a run's answer on the rubric's `judge` criteria (and reference answer).

The judge sees the question, the answer with its evidence notes, the criteria and the reference — never the
run's configuration — and answers through a `verdict` tool (`passed`, `score` 0..1, `reason`); a judge that
answers in prose with that JSON is read too. The judge's model is `--judge`, else the rubric's
`judge.model`, else the model the run itself used unless that is the offline investigator: with none of
these, the criterion is not graded (and nothing leaves the machine).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from aura_nb.bench.runconfig import DEFAULT_MODEL, RunConfig
from aura_nb.bench.suite import Judge
from aura_nb.config import ModelSettings
from aura_nb.content import Message, ToolSpec, Usage
from aura_nb.models.base import Model, ModelRequest
from aura_nb.models.factory import make_model, parse_model

SYSTEM = (
    "You grade the answer of an investigation. Judge only what the answer says against the criteria (and "
    "the reference answer, when there is one): is it correct, specific and supported by its evidence? Do not "
    "reward length. Call the `verdict` tool once: `passed` (the criteria are met), `score` (0 to 1) and a "
    "one-sentence `reason`."
)
VERDICT = ToolSpec(
    name="verdict",
    description="Your grade of the answer.",
    input_schema={
        "type": "object",
        "properties": {
            "passed": {"type": "boolean", "description": "whether the answer meets the criteria"},
            "score": {"type": "number", "minimum": 0, "maximum": 1, "description": "how well, 0 to 1"},
            "reason": {"type": "string", "description": "why, in one sentence"},
        },
        "required": ["passed", "score", "reason"],
    },
)


@dataclass(frozen=True)
class Verdict:
    """What the judge decided (`error` when it could not decide), and what judging cost."""

    passed: bool
    score: float | None
    reason: str
    model: str
    usage: Usage = field(default_factory=Usage)
    error: str | None = None


def judge_model(
    judge: Judge, config: RunConfig, override: str | None, configured: ModelSettings
) -> ModelSettings | None:
    """The judge's model settings: `override` (`--judge`), the rubric's, or the run's own unless offline."""
    spec = override or judge.model or (config.model if config.model.split(":")[0] != DEFAULT_MODEL else None)
    return parse_model(spec, configured) if spec else None


def _prompt(question: str, answer: str, judge: Judge) -> str:
    parts = [f"Question:\n{question}", f"Answer to grade:\n{answer or '(no answer)'}", f"Criteria:\n{judge.criteria}"]
    if judge.reference:
        parts.append(f"Reference answer:\n{judge.reference}")
    return "\n\n".join(parts)


def _read(arguments: dict[str, Any], judge: Judge) -> tuple[bool, float, str]:
    score = float(arguments.get("score", 1.0 if arguments.get("passed") else 0.0))
    if not 0.0 <= score <= 1.0:
        raise ValueError(f"score {score} is not between 0 and 1")
    passed = bool(arguments.get("passed", score >= judge.pass_score)) and score >= judge.pass_score
    return passed, score, str(arguments.get("reason", ""))


async def judge_answer(
    question: str, answer: str, judge: Judge, settings: ModelSettings, model: Model | None = None
) -> Verdict:
    """Ask the judge (`model`, or the one `settings` describe) for a verdict on `answer`."""
    name = f"{settings.provider}:{settings.name}" if settings.name else str(settings.provider)
    try:
        model = model or make_model(settings)
        request = ModelRequest(
            system=SYSTEM, messages=[Message.user(_prompt(question, answer, judge))], tools=[VERDICT], agent="judge"
        )
        response = await model.complete(request)
    except Exception as exc:
        return Verdict(False, None, "", name, error=f"the judge failed: {exc}")
    call = next((use for use in response.tool_uses if use.name == VERDICT.name), None)
    found = re.search(r"\{.*\}", response.text(), re.DOTALL)
    try:
        arguments = call.input if call is not None else json.loads(found.group(0)) if found else None
        if not isinstance(arguments, dict):
            raise ValueError("it gave no verdict")
        passed, score, reason = _read(arguments, judge)
    except (ValueError, TypeError) as exc:
        return Verdict(False, None, "", name, response.usage, f"the judge's reply is not a verdict: {exc}")
    return Verdict(passed, score, reason, name, response.usage)
