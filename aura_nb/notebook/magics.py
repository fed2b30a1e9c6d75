"""`%aura` and `%%aura`: investigations from notebook cells.

`%%aura [--model M] [--no-plan] [--budget N] [--as NAME]` takes the cell body
as the question (with `{var}` interpolation), schedules the run on the
kernel's loop, shows it live and returns at once; the run lands in `_aura`.
`%aura help` lists the line commands.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import difflib
import json
import os
import shlex
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class, no_var_expand
from IPython.display import display
from pydantic import ValidationError

from aura_nb.agent.approvals import ApprovalRequest
from aura_nb.agent.run import Run
from aura_nb.config import VARIABLE_REFERENCE, ServerSpec
from aura_nb.errors import AuraError, UsageError
from aura_nb.models.factory import make_model
from aura_nb.notebook.bundle import comparison_display, run_mimebundle, run_text
from aura_nb.notebook.interrupt import stop_live_runs_on_interrupt
from aura_nb.notebook.live import LiveRun, publish_to_both_cells, warm_up
from aura_nb.notebook.recordworker import finished_record
from aura_nb.notebook.session import NotebookSession, blocking, current_session, run_sync
from aura_nb.report import format_of
from aura_nb.trace.compare import Comparison
from aura_nb.trace.record import RunRecord

HELP = """%%aura [--model PROVIDER[:NAME]] [--no-plan] [--budget TOKENS] [--as NAME]   the cell is the question
%aura connect NAME [--env K=V]... [--timeout S] -- COMMAND ARGS...   connect an MCP server over stdio
%aura connect NAME URL [--header K=V]... [--timeout S]   over streamable HTTP (or SSE: URL ending in /sse)
                                        (${VAR} in a value is read from the environment when the server starts)
%aura disconnect NAME                   stop and forget a server
%aura servers                           the servers and their state
%aura tools [NAME]                      the tools of every server (or of one)
%aura runs                              the runs of this kernel
%aura pause|resume|stop [RUN]           control a run (default: the latest)
%aura fork RUN:STEP [--message TEXT] [--edit-plan]   fork a run at a step and continue live
%aura answer RUN TEXT                   answer the question a run ended on (needs_input); it goes on as a fork
%aura approvals                         the gated calls waiting for a decision
%aura approve|deny [RUN] [CALL] [--note TEXT]   decide a gated call (default: the only one waiting)
%aura replay RUN                        re-emit a run's events into a fresh view (calls nothing)
%aura trace RUN                         a run's steps as a table
%aura postmortem [RUN] [--format md|html|ipynb] [--out PATH] [--model PROVIDER[:NAME]]   write a postmortem
%aura help                              this help"""


def _pairs(items: list[str], option: str) -> dict[str, str]:
    """`KEY=VALUE` options as a mapping."""
    pairs: dict[str, str] = {}
    for item in items:
        key, equals, value = item.partition("=")
        if not equals or not key:
            raise UsageError(f"%aura connect: {option} takes KEY=VALUE, got {item!r}")
        pairs[key] = value
    return pairs


def _words(line: str, prog: str) -> list[str]:
    """A magic's line split as a shell would; `UsageError` for an unclosed quote."""
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"{prog}: {exc} in {line!r}") from exc


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        usage = f"\n{self.format_usage().strip()}" if self.usage else ""
        raise UsageError(f"{self.prog}: {message}{usage}")


def _parser(prog: str, usage: str | None = None) -> _Parser:
    return _Parser(prog=prog, usage=usage, add_help=False)


CELL = _parser("%%aura")
CELL.add_argument("--model")
CELL.add_argument("--no-plan", action="store_true")
CELL.add_argument("--budget", type=int)
CELL.add_argument("--as", dest="name")

CONNECT = _parser("%aura connect", "%(prog)s NAME [OPTIONS] -- COMMAND ARGS...   or   %(prog)s NAME URL [OPTIONS]")
CONNECT.add_argument("name")
CONNECT.add_argument("url", nargs="?")
CONNECT.add_argument("--header", action="append", default=[], metavar="K=V")
CONNECT.add_argument("--env", action="append", default=[], metavar="K=V")
CONNECT.add_argument("--timeout", type=float, metavar="SECONDS")
CONNECT_USAGE = CONNECT.format_usage().strip()
POSTMORTEM = _parser("%aura postmortem")
POSTMORTEM.add_argument("run", nargs="?")
POSTMORTEM.add_argument("--format", choices=["md", "html", "ipynb"])
POSTMORTEM.add_argument("--out")
POSTMORTEM.add_argument("--model")

FORK = _parser("%aura fork")
FORK.add_argument("target", metavar="RUN:STEP")
FORK.add_argument("--message")
FORK.add_argument("--edit-plan", action="store_true")

DECIDE = _parser("%aura approve|deny")
DECIDE.add_argument("refs", nargs="*", metavar="[RUN] [CALL]")
DECIDE.add_argument("--note", default="")


@magics_class
class AuraMagics(Magics):
    """The `%aura` line magic and the `%%aura` cell magic."""

    def __init__(self, shell: Any, session: NotebookSession | None = None) -> None:
        super().__init__(shell)
        self._session = session
        self.views: dict[str, LiveRun] = {}
        self.forks: list[asyncio.Task[None]] = []
        warm_up()

    @property
    def session(self) -> NotebookSession:
        if self._session is None:
            self._session = current_session()  # shared with aura_nb.connect/call in the same kernel
        return self._session

    @cell_magic
    def aura(self, line: str, cell: str) -> None:
        self._guard(lambda: self._investigate(line, cell))

    @no_var_expand
    @line_magic("aura")  # type: ignore[arg-type]
    def aura_line(self, line: str) -> Any:
        return self._guard(lambda: self._command(self._expand(line)))

    def _expand(self, line: str) -> str:
        """`{var}` filled in from Python as IPython does for a magic, except in `${VAR}`, which a server's start
        reads from the environment (`%aura connect ... --header 'Authorization=Bearer ${TOKEN}'`): a secret
        never becomes part of the server's spec, even when a Python variable has the same name."""
        if self.shell is None:
            return line
        protected = VARIABLE_REFERENCE.sub(r"${{\1}}", line)
        expanded = self.shell.var_expand(protected, depth=2)
        return line if expanded == protected else str(expanded)

    def _guard(self, action: Callable[[], Any]) -> Any:
        """Run `action`; whatever goes wrong is one line starting `aura:`, never a traceback (an unexpected
        error says it is a bug; `AURA_DEBUG=1` shows its traceback)."""
        try:
            return action()
        except AuraError as exc:
            print(f"aura: {exc}")
        except Exception as exc:
            if os.environ.get("AURA_DEBUG"):
                raise
            print(f"aura: unexpected error: {type(exc).__name__}: {exc} (a bug in aura_nb; AURA_DEBUG=1 shows where)")
        return None

    def _investigate(self, line: str, cell: str) -> Run:
        args = CELL.parse_args(_words(line, "%%aura"))
        question = self.shell.var_expand(cell.strip(), depth=2) if self.shell is not None else cell.strip()
        if not question:
            raise UsageError("%%aura: the cell body is the question, and it is empty")
        options = {"model": args.model, "plan": not args.no_plan, "budget": args.budget}
        if not _loop_running():  # terminal IPython: no loop runs between cells, so run to the end and print
            run = run_sync(question, session=self.session, **options)
            self.session.remember(run, args.name)
            self._bind(run, args.name)
            print(run_text(run.record()))
            return run
        run = self.session.start(question, name=args.name, **options)
        self._bind(run, args.name)
        shown = self.session.redactor().text(question)  # the view's state is saved with the notebook
        self.views[run.id] = LiveRun(run, fork=self._fork_from_view, question=shown).show()
        kernel = getattr(self.shell, "kernel", None)
        if not stop_live_runs_on_interrupt(kernel, self.session.runs):
            print(f"aura: run {run.id} goes on in the background: `%aura stop` stops it")
        return run

    def _bind(self, run: Run, name: str | None) -> None:
        if self.shell is not None:
            self.shell.user_ns["_aura"] = run
            if name:
                self.shell.user_ns[name] = run

    def _command(self, line: str) -> Any:
        words = _words(line, "%aura")
        if not words:
            raise UsageError("%aura needs a command; try %aura help")
        command, rest = words[0], words[1:]
        handler = getattr(self, f"_cmd_{command}", None)
        if handler is None:
            known = sorted(name.removeprefix("_cmd_") for name in dir(self) if name.startswith("_cmd_"))
            close = difflib.get_close_matches(command, known, n=1)
            hint = f"did you mean %aura {close[0]}?" if close else f"known commands: {', '.join(known)}"
            raise UsageError(f"unknown command {command!r}: {hint}")
        return handler(rest)

    def _cmd_help(self, rest: list[str]) -> None:
        print(HELP)

    def _cmd_connect(self, rest: list[str]) -> None:
        words, command = (rest[: rest.index("--")], rest[rest.index("--") + 1 :]) if "--" in rest else (rest, [])
        args = CONNECT.parse_args(words)
        fields: dict[str, Any] = {} if args.timeout is None else {"timeout": args.timeout}
        try:
            if command and not args.url and not args.header:
                env = _pairs(args.env, "--env")
                spec = ServerSpec(name=args.name, command=command[0], args=command[1:], env=env, **fields)
            elif args.url and args.url.startswith(("http://", "https://")) and not command and not args.env:
                spec = ServerSpec.infer(
                    args.name, {"url": args.url, "headers": _pairs(args.header, "--header"), **fields}
                )
            else:
                raise UsageError(f"{CONNECT_USAGE}\n(--env is for a stdio server, --header for one at a URL)")
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"])
            raise UsageError(f"%aura connect: {where + ': ' if where else ''}{error['msg']}") from exc
        self.session.connect(spec)
        blocking(self.session, self.session.ensure_connected)
        state = self.session.pool.status()[spec.name]
        if spec.name in self.session.problems:
            print(f"aura: {spec.name} could not start and is left out of the tools:")
            print(textwrap.indent(state["error"] or "", " " * 4))
            print(f"aura: connect it again once fixed, or forget it: %aura disconnect {spec.name}")
        else:
            print(f"aura: {spec.name} connected ({spec.transport}): {state['tools']} tools")

    def _cmd_disconnect(self, rest: list[str]) -> None:
        if len(rest) != 1:
            raise UsageError("usage: %aura disconnect NAME")
        if not self.session.disconnect(rest[0]):
            known = ", ".join(self.session.servers) or "none"
            raise UsageError(f"%aura disconnect: no server {rest[0]!r} (servers: {known})")
        blocking(self.session, self.session.ensure_connected)
        print(f"aura: {rest[0]} disconnected")

    def _cmd_servers(self, rest: list[str]) -> None:
        status = self.session.pool.status()
        if not self.session.servers:
            print("no servers: %aura connect NAME -- COMMAND ...")
        for name, spec in self.session.servers.items():
            state = status.get(name)
            where = spec.url or " ".join([spec.command or "", *spec.args])
            if state is None:
                print(f"{name:<16} {spec.transport:<6} not connected yet  {where}")
                continue
            pid = f", pid {state['pid']}" if state["pid"] else ""
            up = "up" if state["up"] else "DOWN"
            counts = f"{state['tools']} tools, {state['restarts']} restarts{pid}"
            print(f"{name:<16} {spec.transport:<6} {up}, {counts}  {where}")
            if not state["up"]:
                print(textwrap.indent(state["error"] or "", " " * 4))

    def _cmd_tools(self, rest: list[str]) -> None:
        pool = blocking(self.session, self.session.ensure_connected)
        listed = pool.tools_by_server()
        if rest and rest[0] not in listed:
            raise UsageError(f"%aura tools: no server {rest[0]!r} (servers: {', '.join(listed) or 'none'})")
        status = pool.status()
        for server, tools in listed.items():
            if rest and server != rest[0]:
                continue
            state = "" if status[server]["up"] else "  (DOWN: %aura servers says why)"
            print(f"{server}: {len(tools)} tools{state}")
            for tool in tools:
                summary = tool.description.strip().splitlines()[0] if tool.description.strip() else ""
                print(f"  {tool.name:<40} {textwrap.shorten(summary, 80)}")

    def _cmd_runs(self, rest: list[str]) -> None:
        names = {run.id: name for name, run in self.session.names.items()}
        if not self.session.runs:
            print("no runs in this kernel yet")
        for run in self.session.runs.values():
            print(f"{run.summary()}" + (f"  as {names[run.id]}" if run.id in names else ""))

    def _control(self, rest: list[str], action: str) -> None:
        run = self.session.find(rest[0] if rest else None)
        getattr(run, action)()
        print(f"aura: {action} {run.id} ({run.status})")

    def _cmd_pause(self, rest: list[str]) -> None:
        self._control(rest, "pause")

    def _cmd_resume(self, rest: list[str]) -> None:
        self._control(rest, "resume")

    def _cmd_stop(self, rest: list[str]) -> None:
        self._control(rest, "stop")

    def _cmd_fork(self, rest: list[str]) -> None:
        args = FORK.parse_args(rest)
        ref, _, step = args.target.rpartition(":")
        if not ref or not step.isdigit():
            raise UsageError(f"%aura fork: expected RUN:STEP, e.g. 20261129-101500-ab12cd:4; got {args.target!r}")
        parent = self.session.find(ref)
        if args.edit_plan:
            view = LiveRun(parent, fork=self._fork_from_view)
            view.show()
            view.toggle_plan_editor()
            return
        self._fork_from_view(parent, int(step), message=args.message)

    def _fork_from_view(self, parent: Run, at: int, **edits: Any) -> None:
        """Start a fork in the background; its record replaces a placeholder in the cell that asked for it."""
        if parent.setup is None:
            raise UsageError(f"run {parent.id} was not started in this kernel; fork it with `aura-nb fork`")
        self._continue(
            f"forking {parent.id} at step {at}…",
            f"the fork of {parent.id} at step {at}",
            lambda: parent.fork(at, runs_dir=self.session.runs_dir, **edits),
        )

    def _cmd_answer(self, rest: list[str]) -> None:
        if len(rest) < 2:
            raise UsageError("%aura answer: expected RUN TEXT, e.g. %aura answer 20261129-101500-ab12cd the EU shop")
        parent, text = self.session.find(rest[0]), " ".join(rest[1:])
        if parent.clarification is None:
            raise UsageError(f"%aura answer: run {parent.id} did not end asking a question ({parent.status})")

        async def answered() -> Run:
            setup = parent.setup or await self.session.setup_factory()()  # a run from disk: this kernel's servers
            return await parent.answer_clarification(text, setup=setup, runs_dir=self.session.runs_dir)

        self._continue(f"answering {parent.id}: {parent.clarification.question}…", f"answering {parent.id}", answered)

    def _continue(self, placeholder: str, what: str, start: Callable[[], Awaitable[Run]]) -> None:
        """Run `start` in the background; the run's record replaces `placeholder` in the cell that asked."""
        handle = display({"text/plain": placeholder}, raw=True, display_id=True)
        origin = contextvars.copy_context()

        async def go() -> None:
            try:
                run = await start()
            except Exception as exc:
                failed = {"text/plain": f"aura: {what} failed: {exc}"}
                publish_to_both_cells(lambda: handle.update(failed, raw=True), origin)
                return
            self.session.remember(run)
            self._bind(run, None)
            record = await finished_record(run)
            publish_to_both_cells(lambda: handle.update(record.bundle, raw=True, metadata=record.metadata), origin)

        self.forks.append(asyncio.ensure_future(go()))

    def _waiting(self) -> list[tuple[Run, ApprovalRequest]]:
        return [(run, request) for run in self.session.runs.values() for request in run.pending_approvals()]

    def _cmd_approvals(self, rest: list[str]) -> None:
        waiting = self._waiting()
        if not waiting:
            print("aura: no call is waiting for approval")
        for run, request in waiting:
            where = f"{request.agent}" + (f", task {request.task_id}" if request.task_id else "")
            print(f"{run.id}  {request.call_id}  {request.tool} {json.dumps(request.arguments)}  ({where})")
            if request.reason:
                print(f"    reason: {request.reason}")

    def _decide(self, rest: list[str], approved: bool) -> None:
        args = DECIDE.parse_args(rest)
        if len(args.refs) > 2:
            raise UsageError("usage: %aura approve|deny [RUN] [CALL] [--note TEXT]")
        if len(args.refs) == 2:
            run, call = self.session.find(args.refs[0]), args.refs[1]
        elif not self._waiting():
            raise UsageError("no call is waiting for approval")
        else:
            call = args.refs[0] if args.refs else None
            candidates = [
                (run, request) for run, request in self._waiting() if call is None or request.call_id.startswith(call)
            ]
            known = ", ".join(f"{r.id} {q.call_id} ({q.tool})" for r, q in self._waiting()) or "none"
            if len(candidates) == 1:
                run = candidates[0][0]
            elif call is not None and not candidates:
                try:
                    run, call = self.session.find(call), None  # a run named alone: its only waiting call
                except AuraError:
                    raise UsageError(f"%aura approve|deny: no run or waiting call {call!r}; waiting: {known}") from None
            else:
                raise UsageError(f"%aura approve|deny: name the call; waiting: {known}")
        decide = run.approve if approved else run.deny
        request = decide(call, note=args.note)
        print(f"aura: {'approved' if approved else 'denied'} {request.tool} ({request.call_id}) in run {run.id}")

    def _cmd_approve(self, rest: list[str]) -> None:
        self._decide(rest, True)

    def _cmd_deny(self, rest: list[str]) -> None:
        self._decide(rest, False)

    def _cmd_replay(self, rest: list[str]) -> None:
        """Show the replayed run's record once (it lands in `_aura`; returning it would show it twice)."""
        run = self.session.find(rest[0] if rest else None).replay()
        self._bind(run, None)
        bundle, metadata = run_mimebundle(run)
        display(bundle, raw=True, metadata=metadata)

    def _cmd_trace(self, rest: list[str]) -> Any:
        return self.session.find(rest[0] if rest else None).frame()

    def _cmd_postmortem(self, rest: list[str]) -> Any:
        """Show the run's postmortem; with --out or --format also write it (Markdown charts as PNG beside it)."""
        args = POSTMORTEM.parse_args(rest)
        run = self.session.find(args.run)
        model = make_model(self.session.model_settings(args.model)) if args.model else None
        report = run.postmortem(model=model)
        if args.out or args.format:
            out = Path(args.out) if args.out else Path(f"postmortem-{run.id}.{args.format}")
            print(f"aura: wrote {report.save(out, format_of(out, args.format))}")
        return report


def load_ipython_extension(shell: Any) -> None:
    """`%load_ext aura_nb`: register the magics (reloading keeps one TracerProvider and the same session)."""
    previous = getattr(shell, "_aura_magics", None)
    magics = AuraMagics(shell, session=previous.session if previous is not None else None)
    shell._aura_magics = magics
    shell.register_magics(magics)
    shell.display_formatter.mimebundle_formatter.for_type(RunRecord, run_mimebundle)
    shell.display_formatter.formatters["text/html"].for_type(Comparison, comparison_display)
