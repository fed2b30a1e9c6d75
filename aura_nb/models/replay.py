"""A model that serves the turns recorded in a run log: alone (strict), or in front of a live model (fork, resume)."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable

from aura_nb.content import ModelResponse
from aura_nb.events import EventBase, ModelCall
from aura_nb.models.base import DeltaSink, Model, ModelError, ModelRequest


class ReplayModel:
    """Serves each agent its recorded turns, in order, while its requests match the recorded ones (same digest).

    Without `live` it is strict: a request that differs from the record raises
    `ModelError("replay_divergence")` naming the agent and the turn, and asking for
    more turns than were recorded raises `ModelError("exhausted")`. With `live`, an
    agent goes live for good at its first mismatch or once its turns run out (the
    machinery under fork and resume-after-crash), and provider and name are the
    live model's. A recorded failure is raised again as the same `ModelError`.
    Served responses are marked `replayed`.
    """

    def __init__(self, turns: Iterable[EventBase], *, live: Model | None = None, name: str = "replay") -> None:
        self.live = live
        self.provider = live.provider if live is not None else "replay"
        self.name = live.name if live is not None else name
        self._turns: dict[str, deque[ModelCall]] = defaultdict(deque)
        for turn in turns:
            if isinstance(turn, ModelCall):
                self._turns[turn.agent].append(turn)

    def with_live(self, live: Model) -> ReplayModel:
        """The same recorded turns, consumed in common with this model, in front of another live model (an
        agent with a model of its own, e.g. a specialist worker, replays through it)."""
        twin = ReplayModel((), live=live)
        twin._turns = self._turns
        return twin

    def remaining(self, agent: str) -> int:
        """How many recorded turns `agent` has left (0 once it went live)."""
        return len(self._turns.get(agent, ()))

    async def complete(self, request: ModelRequest, *, on_delta: DeltaSink | None = None) -> ModelResponse:
        queue = self._turns.get(request.agent)
        if queue:
            recorded = queue.popleft()
            if recorded.request_hash == request.digest():
                if recorded.response is None:
                    raise ModelError(recorded.error_type or "server_error", recorded.error or "recorded failure")
                served = recorded.response.model or recorded.model
                return recorded.response.model_copy(update={"replayed": True, "model": served})
            if self.live is None:
                raise ModelError(
                    "replay_divergence",
                    f"agent {request.agent!r} turn {recorded.turn}: the request differs from the recorded one "
                    f"(recorded {recorded.request_hash}, now {request.digest()}); the run diverged from its log",
                )
            queue.clear()  # this agent diverged from its record: it is live from here on
        if self.live is None:
            raise ModelError("exhausted", f"replay has no more recorded turns for agent {request.agent!r}")
        return await self.live.complete(request, on_delta=on_delta)
