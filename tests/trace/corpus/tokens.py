"""Context growth: a conversation re-reading everything it has accumulated, every turn."""

from __future__ import annotations

from typing import Any

from aura_nb.agent.run import Run
from aura_nb.config import ScratchpadSettings

from .case import Env, Expect, case, last_step, single
from .script import Agent, Chat
from .tools import LOGS


@case("tokens", Expect("context_growth", last_step("agent"), exact=False))
async def context_growth_paging_raw(env: Env) -> Run:
    """Twenty pages of 45 log lines read one after another into one context (each under the threshold)."""
    filters = {"level": "info", "limit": 45}

    def page(chat: Chat) -> list[tuple[str, dict[str, Any]]]:
        pages = chat.of(LOGS)
        return [(LOGS, filters | ({"cursor": pages[-1].json()["next_cursor"]} if pages else {}))]

    def answer(chat: Chat) -> str:
        return "; ".join(f"{p.json()['logs'][0]['ts']} {p.json()['logs'][-1]['pod']}" for p in chat.of(LOGS))

    agent = Agent([page] * 20, answer)
    return await single(env, "Read the info logs.", agent, scratchpad=ScratchpadSettings())


@case("tokens")
async def clean_long_conversation_small_outputs(env: Env) -> Run:
    """Ten pages of two log lines each, read one after the other (each page needs the last one's cursor)."""
    filters = {"service": "checkout", "level": "error", "limit": 2}

    def page(chat: Chat) -> list[tuple[str, dict[str, Any]]]:
        pages = chat.of(LOGS)
        return [(LOGS, filters | ({"cursor": pages[-1].json()["next_cursor"]} if pages else {}))]

    def answer(chat: Chat) -> str:
        return "; ".join(p.json()["logs"][0]["ts"] for p in chat.of(LOGS))

    return await single(env, "When did checkout log errors?", Agent([page] * 10, answer))
