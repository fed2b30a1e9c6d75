"""Data flow on values: did something a tool returned (or a task submitted) reach a later text?

Per agent, every key (see `values`) its turns wrote is indexed by the turn that first and last wrote it, every
key its tool results carried by the turn that first asked for it, and every key written in a sentence that
reports a failure ("failed", "could not", "not found" …) by the last such turn. A tool call asked for at turn
`t` is then:

- *known* in a value when that value was in the agent's brief (its prompt, the question, the input schemas of
  its tools: an enum value such as `Warning` is not learnt from a result; read for its single values, not its
  phrases), in what it wrote up to turn `t` (its own arguments included) or in a result of an earlier turn;
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
from aura_nb.trace.findings.values import Unit, Wanted, is_empty, mentions, raw_keys, scanned, units
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
    """The sentences of `text` that report a failure (a text without a failure word is not split)."""
    if not FAILURE.search(text):
        return []
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
    outputs: list[_Result] = field(default_factory=list)
    """Its distinct results, in the order of the turns that first returned them."""
    _first_raw: dict[str, int] | None = None

    def first_raw(self) -> dict[str, int]:
        """The tokens and exact times of its results (as keys), by the first turn whose results held them (worked
        out when first asked: only a result none of whose values was written again needs them)."""
        if self._first_raw is None:
            first: dict[str, int] = {}
            for result in self.outputs:
                first.update(dict.fromkeys(result.raw().difference(first), result.first_turn))
            self._first_raw = first
        return self._first_raw

    def had(self, key: str, turn: int) -> bool:
        """Whether the agent had `key` from its brief or its own writing when it asked for a call at `turn`."""
        return key in self.brief or self.first_written.get(key, NEVER) <= turn

    def seen(self, key: str, turn: int) -> bool:
        """Whether a result of an earlier turn than `turn` carried `key`."""
        return self.first_returned.get(key, NEVER) < turn

    def known(self, key: str, turn: int) -> bool:
        """Whether the agent had `key` when it asked for a call at `turn`."""
        return self.had(key, turn) or self.seen(key, turn)


@dataclass(slots=True)
class _Result:
    """What one tool output carries: its written values and their keys, the first turn whose results held this
    very output, whether it is negative, and its tokens and exact times (see `values.Scanned`)."""

    units: list[Unit]
    keys: frozenset[str]
    first_turn: int
    empty: bool
    tokens: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()
    _raw: frozenset[str] | None = None

    def raw(self) -> frozenset[str]:
        """Its raw keys (see `values.raw_keys`), worked out when first asked."""
        if self._raw is None:
            self._raw = raw_keys(self.tokens, self.exact)
        return self._raw


_NOTHING = _Result([], frozenset(), -1, True, _raw=frozenset())


@dataclass(frozen=True, slots=True)
class _Shared:
    """The keys and raw keys that two or more calls of one turn returned (the agent cannot tell them apart)."""

    keys: frozenset[str]
    raw: frozenset[str]

    @staticmethod
    def of(results: list[_Result]) -> _Shared:
        if all(r is results[0] for r in results):  # one output, returned again and again
            return _Shared(results[0].keys, results[0].raw())
        keys: Counter[str] = Counter()
        raw: Counter[str] = Counter()
        for result in results:
            keys.update(result.keys)
            raw.update(result.raw())
        return _Shared(frozenset(k for k, n in keys.items() if n > 1), frozenset(k for k, n in raw.items() if n > 1))


_ALONE = _Shared(frozenset(), frozenset())


class Flow:
    """The run's data-flow index (build once per view with `flow(view)`)."""

    def __init__(self, view: RunView) -> None:
        self.view = view
        self.final: set[str] = set().union(*(mentions(t) for t in view.final_texts))
        self.final_reported: set[str] = set().union(
            *(mentions(s) for t in view.final_texts for s in failure_sentences(t))
        )
        self.agents: dict[str, AgentFlow] = {}
        self._results: dict[int, _Result] = {}
        self._siblings: dict[tuple[str, int], list[_Result]] = {}
        self._shared: dict[tuple[str, int], _Shared] = {}
        self._values: dict[int, tuple[list[Unit], list[Unit]]] = {}
        for agent in {e.agent for e in view.steps}:
            self.agents[agent] = self._index(agent)

    def _index(self, agent: str) -> AgentFlow:
        view = self.view
        started = view.agent_starts.get(agent)
        schemas = [view.tool_schemas.get(tool, {}) for tool in (started.tools if started else [])]
        brief = "\n".join([view.brief(agent), view.question, json.dumps(schemas)])
        index = AgentFlow(brief=mentions(brief, phrases=False))
        turns = view.turns.get(agent, [])
        spans: dict[str, list[int]] = {}  # each distinct text once, with the first and last turn that wrote it
        for turn in turns:
            span = spans.setdefault(model_output(turn.call), [turn.index, turn.index])
            span[1] = turn.index
        written = {text: mentions(text) for text in spans}
        for text, mentioned in written.items():  # in the order of their first turns: a key is first written once
            index.first_written.update(dict.fromkeys(mentioned.difference(index.first_written), spans[text][0]))
        for text in sorted(spans, key=lambda text: spans[text][1]):  # by last turn: the latest one stays
            last_turn = spans[text][1]
            index.last_written.update(dict.fromkeys(written[text], last_turn))
            for sentence in failure_sentences(text):
                index.last_reported.update(dict.fromkeys(mentions(sentence), last_turn))
        wanted = Wanted.of(index.first_written)
        last = len(turns) - 1
        read_before: dict[tuple[str, bool], _Result] = {}  # a repeated output is read once
        for turn in turns:
            results: list[_Result] = []
            for _, call in turn.tools:
                index.last_called[call.tool] = turn.index
                text = result_text(call) if call.error is None else ""
                read = bool(text) and turn.index < last  # a result of the last turn was never read: nothing to trace
                result = read_before.get((text, read))
                if result is None:
                    found = units(text, wanted) if read else []
                    keys = frozenset().union(*(u.keys for u in found))
                    scan = scanned(text)
                    result = _Result(found, keys, turn.index, scan.empty, scan.tokens, scan.exact)
                    read_before[(text, read)] = result
                    index.outputs.append(result)
                    index.first_returned.update(dict.fromkeys(keys.difference(index.first_returned), turn.index))
                self._results[id(call)] = result
                results.append(result)
            if len(results) > 1:
                self._siblings[(agent, turn.index)] = results
        return index

    def _result(self, call: ToolCall) -> _Result:
        return self._results.get(id(call), _NOTHING)

    def _shared_of(self, call: ToolCall, turn: int) -> _Shared:
        """What the calls of `call`'s turn returned in common (worked out when first asked)."""
        key = (call.agent, turn)
        shared = self._shared.get(key)
        if shared is None:
            siblings = self._siblings.get(key)
            shared = self._shared[key] = _Shared.of(siblings) if siblings else _ALONE
        return shared

    def empty(self, call: ToolCall) -> bool:
        """Whether `call` came back with nothing (see `values.is_empty`)."""
        result = self._results.get(id(call))
        return result.empty if result is not None else is_empty(result_text(call))

    def result_units(self, call: ToolCall) -> list[Unit]:
        """The values of what `call` returned (as the model read it) that its agent writes somewhere."""
        return self._result(call).units

    def brought_new(self, call: ToolCall) -> bool:
        """Whether `call`'s result held a token its agent had not had nor seen, and no sibling call returned."""
        agent, turn = self.agents.get(call.agent), self.view.turn_of(call)
        result = self._result(call)
        if agent is None or result.first_turn < turn:  # the same output came back before: nothing new
            return False
        shared = self._shared_of(call, turn).raw
        first = agent.first_raw()
        return any(first.get(k) == turn and k not in shared and not agent.had(k, turn) for k in result.raw())

    def values(self, call: ToolCall) -> tuple[list[Unit], list[Unit]]:
        """`call`'s values its agent did not know when asking (`fresh`), and those it had only seen in an earlier
        result (`echoed`: the answer may owe them to either), leaving out what a sibling call of its turn
        returned too; multi-key units keep their keys that are neither known nor shared, if `need` remain.
        Worked out once per call (several analysers ask)."""
        found = self._values.get(id(call))
        if found is None:
            found = self._values[id(call)] = self._split(call)
        return found

    def _split(self, call: ToolCall) -> tuple[list[Unit], list[Unit]]:
        agent, turn = self.agents.get(call.agent), self.view.turn_of(call)
        if agent is None:
            return [], []
        shared = self._shared_of(call, turn).keys
        fresh: list[Unit] = []
        echoed: list[Unit] = []
        for unit in self.result_units(call):
            if unit.need > 1:
                keys = frozenset(k for k in unit.keys if k not in shared and not agent.known(k, turn))
                if len(keys) >= unit.need:
                    fresh.append(Unit(keys, unit.primary, unit.need))
                continue
            keys = unit.keys - shared if shared else unit.keys
            if not keys or any(agent.had(k, turn) for k in unit.primary):
                continue
            kept = unit if len(keys) == len(unit.keys) else Unit(keys, unit.primary)
            (echoed if any(agent.seen(k, turn) for k in unit.primary) else fresh).append(kept)
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
