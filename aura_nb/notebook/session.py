"""What `%aura` remembers in one kernel: the servers, their pool, the model, the runs.

Runs are scheduled on the kernel's running event loop and return at once;
`run_sync` blocks instead (for scripts and papermill).
"""

from __future__ import annotations

import asyncio
import os
import sys
import weakref
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from aura_nb.agent.run import Run, investigate, launch
from aura_nb.agent.setup import Setup, approval_handling, run_config, run_redactor, secret_handling
from aura_nb.agent.specialists import specialists_from
from aura_nb.config import ModelSettings, ServerSpec, Settings, load_settings, resolve_runs_dir
from aura_nb.errors import McpError, RunLogError, UsageError
from aura_nb.mcp.pool import McpPool
from aura_nb.models.base import Model
from aura_nb.models.factory import make_model, parse_model
from aura_nb.redaction import Redactor
from aura_nb.trace.heap import settle
from aura_nb.trace.runlog import find_run_dir

T = TypeVar("T")


class NotebookSession:
    """Servers (connected lazily, once), model settings and the runs started in this kernel."""

    def __init__(self, settings: Settings | None = None, runs_dir: Path | None = None) -> None:
        self.settings = settings if settings is not None else load_settings()
        self.servers: dict[str, ServerSpec] = {
            name: s.model_copy(update={"name": name}) for name, s in self.settings.servers.items()
        }
        self.runs_dir = runs_dir or resolve_runs_dir(None)
        self.pool = McpPool([])
        self._connected: dict[str, ServerSpec] = {}
        self.problems: dict[str, str] = {}
        """Why each remembered server that could not start did not."""
        self._lock = asyncio.Lock()
        self.runs: dict[str, Run] = {}
        self.names: dict[str, Run] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        """The loop `run_sync` drives when none is running (terminal IPython, scripts)."""
        _latest[:] = [weakref.ref(self)]

    def connect(self, spec: ServerSpec) -> None:
        """Remember a server; it is (re)connected by the next `ensure_connected()` (before the next run)."""
        self.servers[spec.name] = spec
        self._connected.pop(spec.name, None)
        self.problems.pop(spec.name, None)

    def disconnect(self, name: str) -> bool:
        """Forget a server (it is stopped by the next `ensure_connected()`); False if none had that name."""
        self.problems.pop(name, None)
        return self.servers.pop(name, None) is not None

    async def ensure_connected(self) -> McpPool:
        """Connect each remembered server not yet tried (or whose spec changed), each on its own, and disconnect
        the forgotten ones. A server that cannot start is left out, its reason kept in `problems`; it is tried
        again only when connected anew."""
        async with self._lock:
            for name in [name for name in self._connected if name not in self.servers]:
                del self._connected[name]
                await self.pool.disconnect(name)
            todo = [spec for name, spec in self.servers.items() if self._connected.get(name) != spec]
            await asyncio.gather(*(self._connect(spec) for spec in todo))
        return self.pool

    async def _connect(self, spec: ServerSpec) -> None:
        self._connected[spec.name] = spec
        try:
            await self.pool.add(spec)
        except McpError as exc:
            self.problems[spec.name] = str(exc)
        else:
            self.problems.pop(spec.name, None)

    def model_settings(self, spec: str | None = None) -> ModelSettings:
        configured = self.settings.model.with_default_provider(os.environ)
        return parse_model(spec, configured) if spec else configured

    def setup_factory(
        self, *, model: str | None = None, plan: bool = True, budget: int | None = None
    ) -> Callable[[], Awaitable[Setup]]:
        """A coroutine factory that connects the servers and returns the run's `Setup` (errors surface in the run)."""
        settings = self.model_settings(model)
        built: Model = make_model(settings)
        limits = self.settings.limits.model_copy(update={"token_budget": budget} if budget else {})
        specialists = specialists_from(self.settings.workers, settings)

        async def prepare() -> Setup:
            pool = await self.ensure_connected()
            config = run_config(self.servers.values(), settings)
            if self.problems:
                config["servers_down"] = dict(self.problems)  # left out of this run's tools, and why
            return Setup(
                built,
                pool,
                plan=plan,
                limits=limits,
                scratchpad=self.settings.scratchpad,
                specialists=specialists,
                config=config,
                **secret_handling(self.settings, self.servers.values()),
                **approval_handling(self.settings, ask_human=True),
            )

        return prepare

    def redactor(self) -> Redactor:
        """What this session's runs mask (for what is shown before a run's first event, e.g. its question)."""
        return run_redactor(self.settings, servers=self.servers.values())

    def start(self, question: str, *, name: str | None = None, **options: Any) -> Run:
        """Schedule an investigation on the running loop; returns its `Run` at once."""
        hand_the_gil_over_often()
        settle()  # no full collection of the kernel's whole heap while runs go
        run = launch(question, self.setup_factory(**options), runs_dir=self.runs_dir)
        self.remember(run, name)
        return run

    def remember(self, run: Run, name: str | None = None) -> None:
        self.runs[run.id] = run
        if name:
            self.names[name] = run

    def find(self, ref: str | None) -> Run:
        """A run by name, id or unique id prefix (the latest when `ref` is None); then from the runs directory."""
        if ref is None:
            if not self.runs:
                raise UsageError("no run yet in this kernel: start one with %%aura")
            return list(self.runs.values())[-1]
        if ref in self.names:
            return self.names[ref]
        matches = [run for run_id, run in self.runs.items() if run_id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            names = ", ".join(r.id for r in matches)
            raise RunLogError(f"{ref!r} matches several runs: {names}", kind="ambiguous_run")
        run = Run.load(find_run_dir(self.runs_dir, ref))
        self.runs[run.id] = run
        return run

    async def aclose(self) -> None:
        await self.pool.aclose()


SWITCH_INTERVAL = 0.001
"""How often (seconds) the kernel's threads hand the GIL over while runs go on in the background."""


def hand_the_gil_over_often() -> None:
    """Background runs do their CPU work (the live view's projection and charts, tokenizing, the offline
    model) in threads; a thread that holds the GIL keeps it for Python's switch interval (5 ms) each time the
    kernel's loop or its output thread wants it, several times per cell. A 1 ms interval keeps that from
    adding up to tens of milliseconds per cell; an interval already shorter is kept."""
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))


_latest: list[weakref.ref[NotebookSession]] = []
_made: list[NotebookSession] = []


def _session_loop(session: NotebookSession) -> asyncio.AbstractEventLoop:
    """One event loop per session outside a running loop, so its servers outlive a single run."""
    if session.loop is None or session.loop.is_closed():
        session.loop = asyncio.new_event_loop()
    return session.loop


def current_session() -> NotebookSession:
    """The kernel's session: the one `%aura` made (the latest created), else a new one."""
    latest = _latest[0]() if _latest else None
    if latest is None:
        latest = NotebookSession()
        _made[:] = [latest]  # nothing else may hold it (aura_nb.connect without %aura): it lives with the kernel
    return latest


def blocking(session: NotebookSession, go: Callable[[], Awaitable[T]], *, own_session: bool = False) -> T:
    """Run `go()` to its end on the session's loop, or nested in the running one (a notebook cell);
    with `own_session`, a one-off, its servers are closed after."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        if own_session:  # a one-off: close its servers; a notebook's session keeps them for the next run

            async def once() -> T:
                try:
                    return await go()
                finally:
                    await session.aclose()

            return asyncio.run(once())
        return _session_loop(session).run_until_complete(go())
    import nest_asyncio2

    nest_asyncio2.apply()
    return asyncio.get_event_loop().run_until_complete(go())


def run_sync(question: str, *, session: NotebookSession | None = None, **options: Any) -> Run:
    """Run an investigation to its end, blocking (for scripts and papermill; inside a running loop it nests)."""
    own_session = session is None
    chosen = session or NotebookSession()

    async def go() -> Run:
        setup = await chosen.setup_factory(**options)()
        run = await investigate(question, setup, runs_dir=chosen.runs_dir)
        chosen.remember(run)
        return run

    return blocking(chosen, go, own_session=own_session)
