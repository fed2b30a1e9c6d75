"""Iterations: a later plan's task redoing one an earlier iteration finished (and re-checks that are not)."""

from __future__ import annotations

from aura_nb.agent.run import Run

from .case import Env, Expect, calls, case, orchestrated
from .script import Orchestra, Worker, plan
from .tools import ALERTS, CHANGES, COUNT, K8S


@case("iterations", Expect("task_redone", calls(ALERTS)))
async def iter_redone_with_a_default_argument(env: Env) -> Run:
    """Iteration 2 plans a task that lists the alerts again, adding `state="firing"` (the tool's default)."""
    first = plan(("alerts", [], [ALERTS], "list the firing alerts"), ("deploys", [], [CHANGES], "list recent deploys"))
    second = plan(("alerts-check", [], [ALERTS], "confirm which alerts fire"))
    workers = {
        "alerts": Worker([[(ALERTS, {})]]),
        "deploys": Worker([[(CHANGES, {})]]),
        "alerts-check": Worker([[(ALERTS, {"state": "firing"})]]),
    }
    return await orchestrated(env, "Why is checkout failing?", Orchestra(first, workers, later=[second]))


@case("iterations", Expect("task_redone", calls(CHANGES)))
async def iter_same_goal_redone_in_part(env: Env) -> Run:
    """Iteration 2 gives a task the goal of a finished one; it asks one of that task's three calls again."""
    goal = "collect the evidence: deploys, warning events and alerts"
    first = plan(("evidence", [], [CHANGES, K8S, ALERTS], goal))
    second = plan(("evidence-2", [], [CHANGES], goal))
    workers = {
        "evidence": Worker([[(CHANGES, {}), (K8S, {"type": "Warning"}), (ALERTS, {})]]),
        "evidence-2": Worker([[(CHANGES, {})]]),
    }
    return await orchestrated(env, "What changed before checkout failed?", Orchestra(first, workers, later=[second]))


@case("iterations")
async def iter_clean_recount_after_the_first_iteration(env: Env) -> Run:
    """Iteration 2 counts again with the same goal and gets a new count: a re-check of a changing value."""
    goal = "read the call counter"
    first = plan(("count", [], [COUNT], goal))
    second = plan(("recount", ["count"], [COUNT], goal))
    workers = {"count": Worker([[(COUNT, {"label": "c"})]]), "recount": Worker([[(COUNT, {"label": "c"})]])}
    return await orchestrated(
        env, "How many calls has the counter seen, before and after?", Orchestra(first, workers, later=[second])
    )
