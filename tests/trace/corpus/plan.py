"""Plan adherence: workers straying outside their task's tools, task results the answer ignores."""

from __future__ import annotations

from typing import Any

from aura_nb.agent.run import Run
from aura_nb.config import ScratchpadSettings

from .case import Env, Expect, agent_steps, calls, case, orchestrated
from .script import Chat, Orchestra, Worker, answer_all, plan
from .tools import ALERTS, CHANGES, DEPENDENCIES, DUMP, GREP, K8S, METRIC, TRACE, TRACES, blob_of, deploy_of


@case("plan", Expect("tool_outside_plan", calls(CHANGES)))
async def outside_plan_refused(env: Env) -> Run:
    """A worker limited to the alerts tries the change list first (refused), then does its task."""
    work = plan(("alerts", [], [ALERTS], "list the firing alerts"))
    orchestra = Orchestra(work, {"alerts": Worker([[(CHANGES, {})], [(ALERTS, {})]])})
    return await orchestrated(env, "What is alerting?", orchestra)


@case("plan", Expect("task_ignored", agent_steps("worker:events"), "error"))
async def task_ignored_plainly(env: Env) -> Run:
    """Three tasks; the answer uses two and drops the k8s events task."""
    work = plan(
        ("alerts", [], [ALERTS], "list the firing alerts"),
        ("deploys", [], [CHANGES], "list recent deploys"),
        ("events", [], [K8S], "list warning events"),
    )
    orchestra = Orchestra(
        work,
        {
            "alerts": Worker([[(ALERTS, {})]]),
            "deploys": Worker([[(CHANGES, {"kind": "deploy"})]]),
            "events": Worker([[(K8S, {"type": "Warning"})]]),
        },
        answer=answer_all(ignored={"events"}),
    )
    return await orchestrated(env, "Why is checkout failing?", orchestra)


@case("plan", Expect("task_ignored", agent_steps("worker:rate"), "error"))
async def task_ignored_sharing_timestamps(env: Env) -> Run:
    """The answer uses the deploy task only; the ignored metric task's timestamps share its date and hour."""

    def deploys(chat: Chat) -> dict[str, Any]:
        result = chat.last(CHANGES)
        deploy = deploy_of(chat, "checkout")
        return {"summary": f"{deploy['summary']} at {deploy['ts']}", "evidence": [{"call_id": result.call_id}]}

    def rate(chat: Chat) -> dict[str, Any]:
        result = chat.last(METRIC)
        high = [(t, v) for t, v in result.json()["points"] if v > 0.1]
        return {"summary": f"error rate above 10% from {high[0][0]}: {high}", "evidence": [{"call_id": result.call_id}]}

    work = plan(("deploys", [], [CHANGES], "list deploys"), ("rate", [], [METRIC], "checkout's error rate"))
    orchestra = Orchestra(
        work,
        {
            "deploys": Worker([[(CHANGES, {"kind": "deploy"})]], deploys),
            "rate": Worker([[(METRIC, {"service": "checkout", "metric": "error_rate", "step": "5m"})]], rate),
        },
        answer=answer_all(ignored={"rate"}),
    )
    return await orchestrated(env, "Did a deploy break checkout?", orchestra)


@case("plan")
async def clean_task_rewritten_in_answer(env: Env) -> Run:
    """The dependency task's edges reach the answer as `checkout->payment grpc:9090`."""

    def answer(chat: Chat) -> dict[str, Any]:
        results = chat.brief["results"]
        edges = results["graph"]["result"]["data"]["edges"]
        arrows = ", ".join(f"{e['caller']}->{e['callee']} {e['protocol']}:{e['port']}" for e in edges)
        return {"answer": f"checkout calls {arrows}.", "evidence": []}

    def graph(chat: Chat) -> dict[str, Any]:
        result = chat.last(DEPENDENCIES)
        return {
            "summary": "checkout's outgoing edges",
            "evidence": [{"call_id": result.call_id}],
            "data": result.json(),
        }

    work = plan(("graph", [], [DEPENDENCIES], "what checkout calls"))
    orchestra = Orchestra(work, {"graph": Worker([[(DEPENDENCIES, {"service": "checkout"})]], graph)}, answer)
    return await orchestrated(env, "What does checkout call?", orchestra)


@case("plan")
async def clean_task_used_through_its_dependant(env: Env) -> Run:
    """The trace search task is used by the task that fetches the trace; the answer cites only the latter."""

    def found(chat: Chat) -> dict[str, Any]:
        result = chat.last(TRACES)
        ids = [t["trace_id"] for t in result.json()["traces"]]
        return {"summary": f"{len(ids)} error traces", "evidence": [{"call_id": result.call_id}], "data": {"ids": ids}}

    def fetch(chat: Chat) -> list[tuple[str, dict[str, Any]]]:
        return [(TRACE, {"trace_id": chat.brief["dependencies"]["find"]["result"]["data"]["ids"][0]})]

    def detail(chat: Chat) -> dict[str, Any]:
        result = chat.last(TRACE)
        span = next(s for s in result.json()["spans"] if s["service"] == "checkout")
        return {
            "summary": f"{span['operation']} failed: {span['status_message']}",
            "evidence": [{"call_id": result.call_id}],
        }

    def answer(chat: Chat) -> dict[str, Any]:
        detail = chat.brief["results"]["detail"]["result"]
        return {"answer": detail["summary"], "evidence": detail["evidence"]}

    work = plan(("find", [], [TRACES], "find error traces"), ("detail", ["find"], [TRACE], "read one error trace"))
    orchestra = Orchestra(
        work,
        {"find": Worker([[(TRACES, {"errors_only": True, "limit": 3})]], found), "detail": Worker([fetch], detail)},
        answer,
    )
    return await orchestrated(env, "Why do checkout requests fail?", orchestra)


@case("plan")
async def clean_extraction_inside_a_restricted_task(env: Env) -> Run:
    """A task allowed only the log dump greps the stored dump: Scratchpad tools are always allowed."""

    def grep(chat: Chat) -> list[tuple[str, dict[str, Any]]]:
        return [(GREP, {"blob_id": blob_of(chat), "pattern": "TypeError", "max_matches": 2})]

    def submit(chat: Chat) -> dict[str, Any]:
        result = chat.last(GREP)
        return {"summary": result.content.splitlines()[1], "evidence": [{"call_id": result.call_id}]}

    work = plan(("logs", [], [DUMP], "what checkout logs"))
    orchestra = Orchestra(work, {"logs": Worker([[(DUMP, {"service": "checkout"})], grep], submit)})
    return await orchestrated(env, "What does checkout log?", orchestra, scratchpad=ScratchpadSettings())


@case("plan", Expect("tool_outside_plan", calls(K8S)))
async def outside_plan_after_its_own_work(env: Env) -> Run:
    """A worker does its task, then also tries the k8s events it was not given (refused), then submits."""
    work = plan(("deploys", [], [CHANGES], "list deploys"), ("alerts", [], [ALERTS], "list alerts"))
    orchestra = Orchestra(
        work,
        {
            "deploys": Worker([[(CHANGES, {"kind": "deploy"})], [(K8S, {"service": "checkout"})]]),
            "alerts": Worker([[(ALERTS, {})]]),
        },
    )
    return await orchestrated(env, "What broke checkout?", orchestra)


@case("plan", Expect("task_ignored", agent_steps("worker:graph"), "error"))
async def task_ignored_sharing_service_names(env: Env) -> Run:
    """The answer uses the alert and deploy tasks; the ignored dependency task names the same services."""
    work = plan(
        ("alerts", [], [ALERTS], "list alerts"),
        ("deploys", [], [CHANGES], "list deploys"),
        ("graph", [], [DEPENDENCIES], "checkout's dependencies"),
    )
    orchestra = Orchestra(
        work,
        {
            "alerts": Worker([[(ALERTS, {})]]),
            "deploys": Worker([[(CHANGES, {"service": "checkout"})]]),
            "graph": Worker([[(DEPENDENCIES, {"service": "checkout"})]]),
        },
        answer=answer_all(ignored={"graph"}),
    )
    return await orchestrated(env, "What broke checkout?", orchestra)


@case("plan")
async def clean_task_listing_no_tools(env: Env) -> Run:
    """A task that lists no tools may use any: its calls are not outside the plan."""
    work = plan(("any", [], [], "look around"))
    orchestra = Orchestra(work, {"any": Worker([[(ALERTS, {}), (K8S, {"type": "Warning"})]])})
    return await orchestrated(env, "What is going on?", orchestra)


@case("plan")
async def clean_task_that_found_nothing(env: Env) -> Run:
    """One task finds nothing (no warning events for cart); the answer, built on the other, does not mention it."""
    work = plan(("alerts", [], [ALERTS], "list alerts"), ("cart", [], [K8S], "warning events of cart"))
    orchestra = Orchestra(
        work,
        {"alerts": Worker([[(ALERTS, {})]]), "cart": Worker([[(K8S, {"service": "cart", "type": "Warning"})]])},
        answer=answer_all(ignored={"cart"}),
    )
    return await orchestrated(env, "What is alerting, and is cart involved?", orchestra)
