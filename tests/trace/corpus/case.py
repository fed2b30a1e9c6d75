"""A corpus case: a scripted run over real MCP servers, with the misbehaviour planted in it (or none: a trap).

`Expect` names the finding a planted case must produce and the steps it must point at (a selector over the
run's steps). A case with no `Expect` is a clean trap: a legitimate pattern that a naive analyser would flag.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aura_nb.agent.run import Run, investigate
from aura_nb.agent.setup import Setup
from aura_nb.config import Limits, ScratchpadSettings
from aura_nb.events import ModelCall, ToolCall
from aura_nb.mcp.toolbox import Toolbox
from aura_nb.models.scripted import ScriptedModel
from aura_nb.trace.frames import step_events

from .script import Agent, Orchestra

Selector = Callable[[Run], list[int]]


@dataclass(frozen=True)
class Expect:
    """The finding a planted case must produce: its kind, the steps it points at, the least severity."""

    kind: str
    steps: Selector
    severity: str = "warning"
    exact: bool = True
    """The finding points at exactly these steps (else: at least at these)."""


@dataclass(frozen=True)
class Env:
    """Where cases run: one pool of the corpus servers, and a directory for the runs."""

    toolbox: Toolbox
    runs_dir: Path


@dataclass(frozen=True)
class Case:
    name: str
    category: str
    build: Callable[[Env], Awaitable[Run]]
    expect: tuple[Expect, ...] = ()
    held_out: bool = False
    about: str = ""

    @property
    def clean(self) -> bool:
        return not self.expect

    @property
    def module(self) -> str:
        """The corpus module the case is written in (`unseen` for the second held-out batch)."""
        return self.build.__module__.rsplit(".", 1)[-1]


CASES: list[Case] = []


def case(
    category: str, *expect: Expect, held_out: bool = False
) -> Callable[[Callable[[Env], Awaitable[Run]]], Callable[[Env], Awaitable[Run]]]:
    """Register the decorated builder as a case (its docstring says what is planted or what the trap is)."""

    def register(build: Callable[[Env], Awaitable[Run]]) -> Callable[[Env], Awaitable[Run]]:
        name = build.__name__
        if any(c.name == name for c in CASES):
            raise ValueError(f"two corpus cases are named {name!r}")
        CASES.append(Case(name, category, build, expect, held_out, (build.__doc__ or "").strip()))
        return build

    return register


# --- building runs ------------------------------------------------------------------------------------------------


async def single(
    env: Env,
    question: str,
    agent: Agent,
    *,
    scratchpad: ScratchpadSettings | None = None,
    limits: Limits | None = None,
) -> Run:
    """One agent playing `agent` over the corpus servers (the Scratchpad off unless given)."""
    setup = Setup(ScriptedModel(agent), env.toolbox, plan=False, scratchpad=scratchpad, limits=limits or Limits())
    return await investigate(question, setup, runs_dir=env.runs_dir)


async def orchestrated(
    env: Env,
    question: str,
    orchestra: Orchestra,
    *,
    scratchpad: ScratchpadSettings | None = None,
    limits: Limits | None = None,
) -> Run:
    """A planned run: planner, workers and synthesizer all played by `orchestra`."""
    setup = Setup(ScriptedModel(orchestra), env.toolbox, scratchpad=scratchpad, limits=limits or Limits())
    return await investigate(question, setup, runs_dir=env.runs_dir)


# --- selecting steps ----------------------------------------------------------------------------------------------


def _steps(run: Run, match: Callable[[ModelCall | ToolCall], bool]) -> list[int]:
    return [n for n, e in enumerate(step_events(run.events), start=1) if match(e)]


def calls(tool: str, agent: str | None = None, nth: int | None = None, **arguments: Any) -> Selector:
    """The steps of `tool`'s calls (by `agent`, with these `arguments`); only the `nth` (0-based) when given."""

    def select(run: Run) -> list[int]:
        found = _steps(
            run,
            lambda e: (
                isinstance(e, ToolCall)
                and e.tool == tool
                and (agent is None or e.agent == agent)
                and all(e.arguments.get(k) == v for k, v in arguments.items())
            ),
        )
        return found if nth is None else found[nth : nth + 1]

    return select


def agent_steps(agent: str) -> Selector:
    """Every step of `agent`."""
    return lambda run: _steps(run, lambda e: e.agent == agent)


def last_step(agent: str) -> Selector:
    return lambda run: agent_steps(agent)(run)[-1:]


def both(*selectors: Selector) -> Selector:
    return lambda run: sorted({n for s in selectors for n in s(run)})


@dataclass
class Built:
    """A case and the run it built."""

    case: Case
    run: Run
    expected: list[tuple[Expect, list[int]]] = field(default_factory=list)
