"""`OfflineInvestigator`: a deterministic, LLM-free investigator for the built-in sandbox (an offline baseline).

It follows an SRE triage playbook (alerts and onset, changes, Kubernetes warnings, the dependency graph,
failed and slow traces read span by span, the suspect's logs mined through the Scratchpad, its metrics) and
decides the root cause from that evidence alone: it reads only the tool catalogue and the tool results in
the conversation, never the sandbox's ground truth or parameters. It plays every orchestrator role
(`planner`, `worker:<task>`, `synthesizer`) and, under any other agent name, runs the whole playbook alone.
"""

from __future__ import annotations

import asyncio

from aura_nb.content import ModelResponse
from aura_nb.models.base import DeltaSink, ModelRequest
from aura_nb.models.offline.diagnosis import FAULT_TYPES, Diagnosis, diagnose
from aura_nb.models.offline.facts import Facts
from aura_nb.models.offline.roles import planner, role_of, single_agent, synthesizer, worker
from aura_nb.models.offline.transcript import LABEL, respond, stream

_ROLES = {"planner": planner, "worker": worker, "synthesizer": synthesizer, "agent": single_agent}


class OfflineInvestigator:
    """A `Model` that investigates sandbox incidents without an LLM; every answer is labelled an offline baseline.

    Deterministic: the same request always gets the same response (tool-call ids are derived from the
    request's digest). Usage is estimated at four characters per token.
    """

    provider = "offline"
    name = "offline-investigator"

    async def complete(self, request: ModelRequest, *, on_delta: DeltaSink | None = None) -> ModelResponse:
        """The next turn for whichever role `request.agent` names; the playbook (reading every tool result so
        far) and the usage estimate (the whole conversation) run in a thread, off the event loop."""
        response = await asyncio.to_thread(self._turn, request)
        if on_delta is not None:
            stream(response, on_delta)
        return response

    def _turn(self, request: ModelRequest) -> ModelResponse:
        text, calls = _ROLES[role_of(request)](request)
        return respond(request, text, calls, model=self.name)


__all__ = ["FAULT_TYPES", "LABEL", "Diagnosis", "Facts", "OfflineInvestigator", "diagnose"]
