"""A model that serves the responses recorded in a run log, and fails loudly on divergence."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable

from aura_nb.content import ModelResponse
from aura_nb.events import Event, ModelCall
from aura_nb.models.base import DeltaSink, ModelError, ModelRequest


class ReplayModel:
    """Serves each agent its recorded turns, in order, checking each request's digest.

    A request whose digest differs from the recorded one raises
    `ModelError("replay_divergence")` naming the agent and the turn; asking
    for more turns than were recorded raises `ModelError("exhausted")`.
    A recorded failure is raised again as the same `ModelError`.
    """

    provider = "replay"

    def __init__(self, events: Iterable[Event], *, check_requests: bool = True, name: str = "replay") -> None:
        self.name = name
        self.check_requests = check_requests
        self._turns: dict[str, deque[ModelCall]] = defaultdict(deque)
        for event in events:
            if isinstance(event, ModelCall):
                self._turns[event.agent].append(event)

    def remaining(self, agent: str) -> int:
        return len(self._turns[agent])

    async def complete(self, request: ModelRequest, *, on_delta: DeltaSink | None = None) -> ModelResponse:
        queue = self._turns[request.agent]
        if not queue:
            raise ModelError("exhausted", f"replay has no more recorded turns for agent {request.agent!r}")
        recorded = queue.popleft()
        if self.check_requests and recorded.request_hash and recorded.request_hash != request.digest():
            raise ModelError(
                "replay_divergence",
                f"agent {request.agent!r} turn {recorded.turn}: the request differs from the recorded one "
                f"(recorded {recorded.request_hash}, now {request.digest()}); the run diverged from its log",
            )
        if recorded.response is None:
            raise ModelError(recorded.error_type or "server_error", recorded.error or "recorded failure")
        return recorded.response.model_copy(update={"retries": 0})
