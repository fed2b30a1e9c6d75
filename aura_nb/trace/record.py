"""`RunRecord`: a run as recorded, read from its events alone (durable: a log on disk is enough).

It answers what happened (question, model, status, answer, conclusion, plan, usage) and offers the views
over the events, all read from one `RunProjection` (built once per state of the log): one row per step
(`frame`, `steps`), the totals, a one-line summary, behaviour findings, a comparison with another run.
A live run (`aura_nb.agent.run.Run`) is a record whose events are still arriving.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

import pandas as pd

from aura_nb.content import Usage
from aura_nb.contracts import Clarification, Conclusion, Plan, RunStatus
from aura_nb.events import Event, ModelCall, PlanCreated, PlanEdited, RunFinished, RunStarted
from aura_nb.trace.compare import Comparison, compare
from aura_nb.trace.findings import Finding, analyse
from aura_nb.trace.frames import steps_frame
from aura_nb.trace.projection import RunProjection, finding_views, project
from aura_nb.trace.recorder import Recorder
from aura_nb.trace.runlock import RunLock
from aura_nb.trace.runlog import LogProblem, read_events


class RunRecord:
    """A run's id, directory and events, and the views over them."""

    def __init__(self, recorder: Recorder, *, directory: Path | None = None) -> None:
        self.recorder = recorder
        """The run's event stream (read-only for a loaded run)."""
        self._directory = directory
        self._projection: tuple[tuple[int, RunStatus], RunProjection] | None = None
        self.log_problems: list[LogProblem] = []
        """The lines of a loaded log that could not be read (skipped, or kept unread), each naming its line."""

    @classmethod
    def load(cls, run_dir: str | Path) -> Self:
        """The run whose log is in `run_dir` (finished, or interrupted mid-way); lines that cannot be read
        are skipped or kept unread with a `RunLogWarning` and listed in `log_problems`."""
        run_dir = Path(run_dir)
        problems: list[LogProblem] = []
        record = cls(Recorder(run_dir.name, None, events=read_events(run_dir, problems)), directory=run_dir)
        record.log_problems = problems
        return record

    @property
    def id(self) -> str:
        return self.recorder.run_id

    @property
    def dir(self) -> Path | None:
        """Where the run's log and blobs live (also for a run loaded read-only)."""
        return self.recorder.run_dir or self._directory

    @property
    def events(self) -> list[Event]:
        return self.recorder.events

    @property
    def trace_id(self) -> str | None:
        """The OpenTelemetry trace id, when the run is traced in this process."""
        return None

    def _started(self) -> RunStarted | None:
        return next((e for e in self.events if isinstance(e, RunStarted)), None)

    def _finished(self) -> RunFinished | None:
        return next((e for e in reversed(self.events) if isinstance(e, RunFinished)), None)

    @property
    def question(self) -> str:
        started = self._started()
        return started.question if started else ""

    @property
    def model(self) -> str:
        started = self._started()
        return started.model if started else ""

    @property
    def status(self) -> RunStatus:
        """How the run ended; while it has not, what `unfinished_status` says (a log alone: interrupted)."""
        finished = self._finished()
        return finished.status if finished is not None else self.unfinished_status()

    def unfinished_status(self) -> RunStatus:
        """The status of a run without `run_finished`: running while a process writes it, else interrupted."""
        return "running" if self.dir is not None and RunLock.held(self.dir) else "interrupted"

    @property
    def answer(self) -> str:
        finished = self._finished()
        return finished.answer if finished else ""

    @property
    def error(self) -> str | None:
        """Why the run did not finish as asked (a limit, a provider error, a bad plan …), None when it did."""
        finished = self._finished()
        return finished.error if finished else None

    @property
    def conclusion(self) -> Conclusion | None:
        """The synthesizer's structured answer (root cause, fault type, change, confidence), if any."""
        finished = self._finished()
        return finished.conclusion if finished else None

    @property
    def plan(self) -> Plan | None:
        """The latest plan (as created or edited: the last iteration's), None for a single agent."""
        plans = [e.plan for e in self.events if isinstance(e, PlanCreated | PlanEdited)]
        return plans[-1] if plans else None

    @property
    def plans(self) -> dict[int, Plan]:
        """Each iteration's plan (as created or edited), by iteration number."""
        return {e.plan.iteration: e.plan for e in self.events if isinstance(e, PlanCreated | PlanEdited)}

    @property
    def clarification(self) -> Clarification | None:
        """The question a `needs_input` run asks the analyst (answer it with `Run.answer_clarification`)."""
        finished = self._finished()
        return finished.clarification if finished else None

    @property
    def usage(self) -> Usage:
        """The tokens of every model call of the run."""
        return sum((e.usage for e in self.events if isinstance(e, ModelCall)), Usage())

    def projection(self) -> RunProjection:
        """The run as every view sees it (totals, plan and task states, steps, Scratchpad, series), without
        findings (`record()` adds them); rebuilt only when the log or the status changed."""
        key = (len(self.events), self.status)
        if self._projection is None or self._projection[0] != key:
            self._projection = (
                key,
                project(self.events, status=key[1], trace_id=self.trace_id, log_problems=self.log_problems),
            )
        return self._projection[1]

    def record(self) -> RunProjection:
        """The projection with the run's behaviour findings: what the notebook record shows."""
        return self.projection().model_copy(update={"findings": finding_views(self.findings())})

    def frame(self) -> pd.DataFrame:
        """One row per step: kind, agent, tool/model, tokens, latency, error (`STEP_COLUMNS`)."""
        return steps_frame(self.steps())

    def steps(self) -> list[dict[str, Any]]:
        """The rows of `frame()` as plain dicts (what `aura-nb show --json` prints)."""
        return self.projection().step_rows()

    def findings(self) -> list[Finding]:
        """What went wrong in how the run worked (redundant calls, slow steps, token hotspots, errors,
        Scratchpad use, plan adherence, missed parallelism), read from its events alone."""
        return analyse(self.events)

    def compare(self, other: RunRecord) -> Comparison:
        """Side by side with `other`: tools, tokens, latency, errors, answer, findings, and where the paths diverge."""
        return compare(self.record(), other.record())

    def summary(self) -> str:
        """`run <id> [<status>] model=… steps=… tool_calls=… tokens in=… out=…` (see `Totals`)."""
        return self.projection().summary_line()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.summary()}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """Plain text; with `%load_ext aura_nb` a notebook shows the run's full record instead."""
        text = self.summary()
        asked = self.clarification
        if asked is not None:
            text += f"\n\nThe run needs input: {asked.question}"
        return {"text/plain": text + ("\n\n" + self.answer if self.answer else "")}
