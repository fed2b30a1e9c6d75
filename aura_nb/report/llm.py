"""The LLM writer: a model drafts the prose sections (summary, impact, root cause and trigger, detection) from
a digest of the run's steps, citing step numbers; every sentence is then checked against the run
(`citations.check`) — an uncited one is removed, a wrongly cited one flagged. Tables, timeline, evidence and
charts stay the offline writer's. A section with no sentence left, or a model that fails, falls back to the
offline writer's text, and the document says so.
"""

from __future__ import annotations

import json
import re

from aura_nb.content import Message
from aura_nb.errors import ModelError
from aura_nb.events import ToolCall
from aura_nb.models.base import Model, ModelRequest
from aura_nb.report.citations import Checked, check
from aura_nb.report.compose import Material
from aura_nb.report.document import Note, Paragraph, Section
from aura_nb.report.evidence import call_text
from aura_nb.report.offline import PROSE_SECTIONS, PROSE_TITLES, prose_section
from aura_nb.report.text import clip

RESULT_CHARS = 700
DIGEST_CHARS = 60_000
MAX_TOKENS = 3000
SYSTEM = """You draft the prose of a blameless incident postmortem from the recorded steps of an investigation.
Write only what the steps show; never guess. End EVERY sentence with the steps that show it, as [step 12] or
[steps 12, 14], using the step numbers given. A sentence without a citation, or citing a step that does not
show what it says, is removed or flagged. Blameless: describe systems and changes, not people.
Answer with exactly these four sections, each a short paragraph (write "Unknown from the trace [step N]." citing
the step that shows the gap when the steps do not say):
## Summary
## Impact
## Root cause and trigger
## Detection"""


def digest(made: Material) -> str:
    """The question, the conclusion, the derived facts and the tool steps, for the model to cite."""
    facts = made.facts
    record = facts.record
    conclusion = record.conclusion
    parts = [f"Question: {record.question}", f"Run status: {record.status}"]
    if conclusion is not None:
        parts.append("Conclusion: " + json.dumps(conclusion.model_dump(exclude={"answer"}), default=str))
    derived = [prose_section(key, facts, made.story) for key in PROSE_SECTIONS]
    lines = [
        f"- {s.text} [steps {', '.join(map(str, s.steps))}]"
        for section in derived
        for block in section.blocks
        if isinstance(block, Paragraph)
        for s in block.sentences
        if s.steps
    ]
    if lines:
        parts.append("Facts already derived from the data (with their steps):\n" + "\n".join(lines))
    steps = []
    for number, call in facts.tool_steps():
        shown = call.error or (call.result.text() if call.result is not None else "")
        steps.append(f"[step {number}] {call.agent}: {call_text(call)} -> {clip(shown, RESULT_CHARS)}")
    if made.story.conclusion_step is not None:
        final = facts.step(made.story.conclusion_step)
        if isinstance(final, ToolCall):
            steps.append(f"[step {made.story.conclusion_step}] {final.agent}: handed in the conclusion")
    text = "\n".join(parts) + "\n\nSteps:\n"
    budget = DIGEST_CHARS - len(text)
    for line in steps:
        if budget - len(line) < 0:
            text += "(later steps left out for length)\n"
            break
        text += line + "\n"
        budget -= len(line) + 1
    return text


def sections_of(reply: str) -> dict[str, str]:
    """The reply's text under each of the four headings (by key)."""
    found: dict[str, str] = {}
    parts = re.split(r"^#{1,6}\s*(.+?)\s*$", reply, flags=re.M)
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        title = heading.lower()
        key = next((k for k, h in PROSE_TITLES.items() if h.lower().split()[0] in title), None)
        if key is not None and key not in found:
            found[key] = body.strip()
    return found


async def draft(made: Material, model: Model) -> tuple[dict[str, Section], str]:
    """The prose sections drafted by `model` and checked, and the writer's label for the document."""
    request = ModelRequest(
        system=SYSTEM, messages=[Message.user(digest(made))], max_tokens=MAX_TOKENS, agent="postmortem"
    )
    offline = {key: prose_section(key, made.facts, made.story) for key in PROSE_SECTIONS}
    name = f"{model.provider}:{model.name}"
    try:
        response = await model.complete(request)
    except ModelError as exc:
        label = f"offline writer — the LLM writer ({name}) failed: {exc}"
        return offline, label
    drafted = sections_of(response.text())
    names = sorted(made.facts.services())
    prose: dict[str, Section] = {}
    kept = flagged = removed = 0
    for key in PROSE_SECTIONS:
        checked: Checked = check(drafted.get(key, ""), made.facts.steps, names)
        kept += len(checked.sentences)
        flagged += checked.flagged
        removed += checked.removed
        if not checked.sentences:
            why = "wrote nothing for it" if key not in drafted else "left no cited sentence in it"
            prose[key] = Section(
                key,
                PROSE_TITLES[key],
                (Note(f"The LLM writer {why}; the offline writer's text follows."), *offline[key].blocks),
            )
            continue
        blocks: list[Paragraph | Note] = [Paragraph(checked.sentences)]
        if checked.removed:
            blocks.append(Note(f"The citation check removed {checked.removed} uncited sentence(s) from this section."))
        if key == "impact":
            blocks.extend(b for b in offline[key].blocks if isinstance(b, Note))
        prose[key] = Section(key, PROSE_TITLES[key], tuple(blocks))
    label = (
        f"LLM writer ({name}) for the summary, impact, root cause and detection prose, every sentence's citations "
        f"checked against the run ({kept} kept, {flagged} flagged, {removed} removed as uncited); "
        "everything else by the offline writer"
    )
    return prose, label
