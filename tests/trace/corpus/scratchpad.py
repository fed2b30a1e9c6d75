"""The Scratchpad: oversized outputs read raw, blobs read back whole or never, and outputs handled as intended."""

from __future__ import annotations

import json

from aura_nb.agent.run import Run
from aura_nb.config import ScratchpadSettings

from .case import Env, Expect, both, calls, case, single
from .script import Agent, Call, Chat
from .tools import ALERTS, DUMP, GET_IN, GREP, SLICE, STRUCTURED, blob_of, first_alert


def _square(chat: Chat, index: int) -> str:
    return f"squares[{index}] = {json.loads(chat.last(STRUCTURED).content)['squares'][index]}"


def _first_type_error(chat: Chat) -> str:
    line = next(line for line in chat.last(DUMP).content.splitlines() if "TypeError" in line)
    return f"checkout logged: {line}"


@case("scratchpad", Expect("scratchpad_bypassed", calls(DUMP)))
async def bypass_scratchpad_off(env: Env) -> Run:
    """With the Scratchpad off, several megabytes of raw logs go straight into the context."""
    return await single(env, "What does checkout log?", Agent([[(DUMP, {"service": "checkout"})]], _first_type_error))


@case("scratchpad", Expect("scratchpad_bypassed", calls(STRUCTURED)))
async def bypass_tool_override(env: Env) -> Run:
    """The Scratchpad is on, but a per-tool override (0: never intercept) lets a huge output through."""
    pad = ScratchpadSettings(overrides={STRUCTURED: 0})
    agent = Agent([[(STRUCTURED, {"n": 20000})]], lambda chat: _square(chat, 19999))
    return await single(env, "What is the last square?", agent, scratchpad=pad)


@case("scratchpad", Expect("scratchpad_read_back", both(calls(STRUCTURED), calls(SLICE))))
async def read_back_whole_blob(env: Env) -> Run:
    """A stored output is paged back into the context slice by slice: the Scratchpad saved nothing."""

    def pages(chat: Chat) -> list[Call]:
        return [(SLICE, {"blob_id": blob_of(chat), "start": start, "end": start + 999}) for start in (1, 1001, 2001)]

    def answer(chat: Chat) -> str:
        return "Squares: " + "; ".join(r.content.splitlines()[-3].strip() for r in chat.of(SLICE))

    agent = Agent([[(STRUCTURED, {"n": 3000})], pages], answer)
    return await single(env, "List the squares.", agent, scratchpad=ScratchpadSettings())


@case("scratchpad", Expect("blob_never_extracted", calls(STRUCTURED)))
async def blob_stored_never_read(env: Env) -> Run:
    """A huge output is stored and never looked at again; the answer comes from another call."""

    def answer(chat: Chat) -> str:
        alert = first_alert(chat)
        return f"{alert['id']}: {alert['summary']}"

    agent = Agent([[(ALERTS, {}), (STRUCTURED, {"n": 30000})]], answer)
    return await single(env, "What is alerting?", agent, scratchpad=ScratchpadSettings())


@case("scratchpad")
async def clean_stored_and_grepped(env: Env) -> Run:
    """Raw logs stored, grepped for the error, and the matching line quoted."""

    def grep(chat: Chat) -> list[tuple[str, dict[str, object]]]:
        return [(GREP, {"blob_id": blob_of(chat), "pattern": "TypeError", "max_matches": 2})]

    def answer(chat: Chat) -> str:
        return "checkout: " + chat.last(GREP).content.splitlines()[1]

    agent = Agent([[(DUMP, {"service": "checkout"})], grep], answer)
    return await single(env, "What does checkout log?", agent, scratchpad=ScratchpadSettings())


@case("scratchpad")
async def clean_raw_under_configured_threshold(env: Env) -> Run:
    """A 31 kB output under the run's own (raised) threshold is read raw, as configured."""
    agent = Agent([[(STRUCTURED, {"n": 2500})]], lambda chat: _square(chat, 2499))
    return await single(env, "What is the last square?", agent, scratchpad=ScratchpadSettings(threshold_tokens=16000))


@case("scratchpad")
async def clean_stored_and_got_in(env: Env) -> Run:
    """A stored JSON output read at one path."""

    def get(chat: Chat) -> list[tuple[str, dict[str, object]]]:
        return [(GET_IN, {"blob_id": blob_of(chat), "path": "$.squares[12345]"})]

    agent = Agent([[(STRUCTURED, {"n": 30000})], get], lambda chat: f"squares[12345] = {chat.last(GET_IN).content}")
    return await single(env, "What is square 12345?", agent, scratchpad=ScratchpadSettings())


@case("scratchpad", Expect("scratchpad_bypassed", calls(DUMP)))
async def bypass_server_override_off(env: Env) -> Run:
    """A per-server override of 0 turns interception off for every sandbox tool: a log dump goes through raw."""

    def answer(chat: Chat) -> str:
        return "payment's first line: " + chat.last(DUMP).content.splitlines()[0]

    pad = ScratchpadSettings(overrides={"sandbox": 0})
    return await single(
        env, "What does payment log?", Agent([[(DUMP, {"service": "payment"})]], answer), scratchpad=pad
    )


@case("scratchpad")
async def clean_scratchpad_off_small_outputs(env: Env) -> Run:
    """The Scratchpad is off, and every output is well under its default threshold."""

    def answer(chat: Chat) -> str:
        logs = chat.last("sandbox.search_logs").json()["logs"]
        return "; ".join(f"{line['pod']}: {line['message'][:60]}" for line in logs)

    agent = Agent([[("sandbox.search_logs", {"service": "checkout", "level": "warn", "limit": 20})]], answer)
    return await single(env, "What does checkout warn about?", agent)
