"""Data flow on values: did something a tool returned (or a task submitted) reach a later text?

Per agent, every key (see `values`) its turns wrote is indexed by the turn that first and last wrote it, every
key its tool results carried by the turn that first asked for it, and every key written in a sentence that
reports a failure ("failed", "could not", "not found" …) by the last such turn. A tool call asked for at turn
`t` is then:

- *known* in a value when that value was in the agent's brief (its prompt, the question, the input schemas of
  its tools: an enum value such as `Warning` is not learnt from a result), in what it wrote up to turn `t` (its
  own arguments included) or in a result of an earlier turn;
- *shared* in a value when another call of the same turn returned it too (it cannot tell the two apart);
- *used* when one of its values that is neither known nor shared is written again by its agent after turn `t`
  (in a later turn's text, the arguments of a later call, its submitted result or answer: whatever another
  agent learns of a result goes through those), or when its call id is cited.

Each text is read once and each lookup is a dictionary probe, so building and querying the index is linear in
the size of the run.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field

from aura_nb.events import ToolCall
from aura_nb.trace.findings.base import result_text
from aura_nb.trace.findings.values import Unit, Wanted, mentions, raw_tokens, units
from aura_nb.trace.findings.view import RunView, model_output

FAILURE = re.compile(
    r"\b(?:fail(?:s|ed|ing|ure)?|could ?n[o']t|cannot|can't|unable|unavailable|timed? ?out|not (?:be )?found|"
    r"no such|missing|unknown|denied|refused|rejected|invalid|crash(?:ed|es)?|broken|errored|unreachable|"
    r"did ?n[o']t (?:work|return|answer|respond)|(?:returned|gave|raised|threw) an? error|"
    r"error (?:from|when|while|calling)|is down|was down|went down)\b",
    re.IGNORECASE,
)
"""Words of a sentence that reports a failure (a bare "error" is not one: errors are what SREs talk about)."""
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")
NEVER = 1 << 30


def failure_sentences(text: str) -> list[str]:
    """The sentences of `text` that report a failure."""
    return [s for s in _SENTENCE.split(text) if FAILURE.search(s)]


@dataclass
class AgentFlow:
    """Where keys appear in one agent's conversation, by turn index."""

    brief: set[str]
    first_written: dict[str, int] = field(default_factory=dict)
    last_written: dict[str, int] = field(default_factory=dict)
    first_returned: dict[str, int] = field(default_factory=dict)
    last_reported: dict[str, int] = field(default_factory=dict)
    """Keys written in a sentence reporting a failure, by the last turn that did."""
    last_called: dict[str, int] = field(default_factory=dict)
    """Tools, by the last turn that asked for them."""
    first_raw: dict[str, int] = field(default_factory=dict)
    """The raw tokens of its results, by the first turn whose results held them."""

    def had(self, key: str, turn: int) -> bool:
        """Whether the agent had `key` from its brief or its own writing when it asked for a call at `turn`."""
        return key in self.brief or self.first_written.get(key, NEVER) <= turn

    def seen(self, key: str, turn: int) -> bool:
        """Whether a result of an earlier turn than `turn` carried `key`."""
        return self.first_returned.get(key, NEVER) < turn

    def known(self, key: str, turn: int) -> bool:
        """Whether the agent had `key` when it asked for a call at `turn`."""
        return self.had(key, turn) or self.seen(key, turn)


class Flow:
    """The run's data-flow index (build once per view with `flow(view)`)."""

    def __init__(self, view: RunView) -> None:
        self.view = view
        self.final: set[str] = set().union(*(mentions(t) for t in view.final_texts))
        self.final_reported: set[str] = set().union(
            *(mentions(s) for t in view.final_texts for s in failure_sentences(t))
        )
        self.agents: dict[str, AgentFlow] = {}
        self._units: dict[int, list[Unit]] = {}
        self._raw: dict[int, set[str]] = {}
        self._shared: dict[tuple[str, int], Counter[str]] = {}
        for agent in {e.agent for e in view.steps}:
            self.agents[agent] = self._index(agent)

    def _index(self, agent: str) -> AgentFlow:
        view = self.view
        started = view.agent_starts.get(agent)
        schemas = [view.tool_schemas.get(tool, {}) for tool in (started.tools if started else [])]
        index = AgentFlow(brief=mentions("\n".join([view.brief(agent), view.question, json.dumps(schemas)])))
        turns = view.turns.get(agent, [])
        for turn in turns:
            text = model_output(turn.call)
            for key in mentions(text):
                index.first_written.setdefault(key, turn.index)
                index.last_written[key] = turn.index
            for sentence in failure_sentences(text):
                for key in mentions(sentence):
                    index.last_reported[key] = turn.index
        wanted = Wanted.of(index.first_written)
        for turn in turns:
            shared: Counter[str] = Counter()
            for _, call in turn.tools:
                index.last_called[call.tool] = turn.index
                text = result_text(call) if call.error is None else ""
                self._units[id(call)] = units(text, wanted) if text else []
                self._raw[id(call)] = raw = raw_tokens(text) if text else set()
                keys = self.result_keys(call)
                shared.update(keys | {"raw:" + t for t in raw})
                for key in keys:
                    index.first_returned.setdefault(key, turn.index)
                for token in raw:
                    index.first_raw.setdefault(token, turn.index)
            self._shared[(agent, turn.index)] = shared
        return index

    def result_units(self, call: ToolCall) -> list[Unit]:
        """The values of what `call` returned (as the model read it) that its agent writes somewhere."""
        return self._units.get(id(call), [])

    def brought_new(self, call: ToolCall) -> bool:
        """Whether `call`'s result held a token its agent had not had nor seen, and no sibling call returned."""
        agent, turn = self.agents.get(call.agent), self.view.turn_of(call)
        if agent is None:
            return False
        shared = self._shared.get((call.agent, turn), Counter())
        return any(
            agent.first_raw.get(t) == turn and shared["raw:" + t] < 2 and not agent.had("w:" + t, turn)
            for t in self._raw.get(id(call), ())
        )

    def result_keys(self, call: ToolCall) -> set[str]:
        return {key for unit in self.result_units(call) for key in unit.keys}

    def values(self, call: ToolCall) -> tuple[list[Unit], list[Unit]]:
        """`call`'s values its agent did not know when asking (`fresh`), and those it had only seen in an earlier
        result (`echoed`: the answer may owe them to either), leaving out what a sibling call of its turn
        returned too; multi-key units keep their keys that are neither known nor shared, if `need` remain."""
        agent, turn = self.agents.get(call.agent), self.view.turn_of(call)
        if agent is None:
            return [], []
        shared = self._shared.get((call.agent, turn), Counter())
        fresh: list[Unit] = []
        echoed: list[Unit] = []
        for unit in self.result_units(call):
            if unit.need > 1:
                keys = frozenset(k for k in unit.keys if shared[k] < 2 and not agent.known(k, turn))
                if len(keys) >= unit.need:
                    fresh.append(Unit(keys, unit.primary, unit.need))
                continue
            keys = frozenset(k for k in unit.keys if shared[k] < 2)
            if not keys or any(agent.had(k, turn) for k in unit.primary):
                continue
            (echoed if any(agent.seen(k, turn) for k in unit.primary) else fresh).append(Unit(keys, unit.primary))
        return fresh, echoed

    def fresh(self, call: ToolCall) -> list[Unit]:
        return self.values(call)[0]

    def written_after(self, agent: str, turn: int, unit: Unit) -> bool:
        """Whether enough of `unit`'s keys were written by `agent` after `turn` (its text, later calls, its
        submission or answer: what any other agent learns of its results goes through those)."""
        index = self.agents.get(agent)
        last = index.last_written if index is not None else {}
        return sum(1 for k in unit.keys if last.get(k, -1) > turn) >= unit.need

    def reported_after(self, agent: str, turn: int, keys: frozenset[str]) -> bool:
        """Whether a sentence reporting a failure named one of `keys` after `turn` (or in the final answer)."""
        index = self.agents.get(agent)
        last = index.last_reported if index is not None else {}
        return any(last.get(k, -1) > turn or k in self.final_reported for k in keys)

    def written_later(self, agent: str, turn: int, keys: frozenset[str]) -> bool:
        """Whether `agent` wrote one of `keys` after `turn` (in its text or a later call's arguments)."""
        index = self.agents.get(agent)
        return index is not None and any(index.last_written.get(k, -1) > turn for k in keys)

    def called_later(self, agent: str, turn: int, tool: str) -> bool:
        index = self.agents.get(agent)
        return index is not None and index.last_called.get(tool, -1) > turn

    def cites(self, agent: str, turn: int, call_id: str) -> bool:
        """Whether `call_id` is cited as evidence or written after `turn` (by `agent`, or in the final answer)."""
        if not call_id:
            return False
        key = "w:" + call_id.lower()
        index = self.agents.get(agent)
        return (
            call_id in self.view.cited_calls
            or key in self.final
            or (index is not None and index.last_written.get(key, -1) > turn)
        )


def flow(view: RunView) -> Flow:
    """The view's data-flow index, built on first use."""
    return view.memo("flow", Flow)
