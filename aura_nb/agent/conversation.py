"""How text the harness adds (analyst instructions, harness notes) joins an agent's conversation.

The loop and the checkpoint rebuilding a conversation from events share these, so a rebuilt conversation
is the one the model saw.
"""

from __future__ import annotations

from aura_nb.content import ContentBlock, Message, TextBlock


def append_text(messages: list[Message], texts: list[str]) -> None:
    """Add `texts` to the last user message (after its tool results), or as a new user message."""
    if not texts:
        return
    added: list[ContentBlock] = [TextBlock(text=text) for text in texts]
    last = messages[-1] if messages else None
    if last is not None and last.role == "user":
        messages[-1] = Message(role="user", content=[*last.content, *added])
    else:
        messages.append(Message(role="user", content=added))


def instruction_text(text: str) -> str:
    """An analyst's instruction as the agent reads it."""
    return f"Instruction from the analyst: {text}"
