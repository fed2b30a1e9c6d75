"""Missed parallelism: independent calls one per turn, needless task dependencies (and calls that had to wait)."""

from __future__ import annotations

from typing import Any

from aura_nb.agent.run import Run
from aura_nb.config import Limits

from .case import Env, Expect, agent_steps, both, calls, case, orchestrated, single
from .script import Agent, Chat, Orchestra, Worker, plan
from .tools import ALERTS, CHANGES, K8S, LOGS, METRIC, TRACE, TRACES, first_alert, shifted


def _everything(chat: Chat) -> str:
    return " | ".join(r.content for r in chat.ok)


@case("parallelism", Expect("serial_calls", calls(METRIC)))
async def serial_independent_metrics(env: Env) -> Run:
    """Three metrics of one service asked for one per turn, none needing another's result."""
    metrics = ["error_rate", "latency_p99_ms", "request_rate"]
    turns = [[(METRIC, {"service": "checkout", "metric": m, "step": "15m"})] for m in metrics]
    return await single(env, "How is checkout doing?", Agent(turns, _everything))


@case("parallelism", Expect("serial_calls", both(calls(ALERTS), calls(CHANGES), calls(K8S))))
async def serial_lookups_in_worker(env: Env) -> Run:
    """A worker looks up alerts, changes and warning events in three turns."""
    work = plan(("triage", [], [ALERTS, CHANGES, K8S], "triage the incident"))
    turns = [[(ALERTS, {})], [(CHANGES, {"kind": "deploy"})], [(K8S, {"type": "Warning"})]]
    return await orchestrated(env, "What is going on?", Orchestra(work, {"triage": Worker(turns)}))


@case("parallelism", Expect("needless_dependency", agent_steps("worker:alerts")))
async def needless_dependency_planted(env: Env) -> Run:
    """The alerts task waits for the deploys task and never uses what it found."""

    def alerts(chat: Chat) -> dict[str, Any]:
        result = chat.last(ALERTS)
        alert = result.json()["alerts"][0]
        return {"summary": f"{alert['name']}: {alert['summary']}", "evidence": [{"call_id": result.call_id}]}

    work = plan(("deploys", [], [CHANGES], "list deploys"), ("alerts", ["deploys"], [ALERTS], "list alerts"))
    orchestra = Orchestra(
        work, {"deploys": Worker([[(CHANGES, {"kind": "deploy"})]]), "alerts": Worker([[(ALERTS, {})]], alerts)}
    )
    return await orchestrated(env, "What broke?", orchestra)


@case("parallelism")
async def clean_chain_of_dependent_calls(env: Env) -> Run:
    """Each call takes its arguments from the one before: an alert, its service's metric, then its logs."""

    def metric(chat: Chat) -> list[tuple[str, dict[str, Any]]]:
        alert = first_alert(chat)
        return [
            (METRIC, {"service": alert["service"], "metric": "error_rate", "start": shifted(alert["starts_at"], -10)})
        ]

    def logs(chat: Chat) -> list[tuple[str, dict[str, Any]]]:
        at = next(t for t, v in chat.last(METRIC).json()["points"] if v > 0.1)
        return [(LOGS, {"service": first_alert(chat)["service"], "level": "error", "start": at, "limit": 2})]

    def answer(chat: Chat) -> str:
        alert = first_alert(chat)
        line = chat.last(LOGS).json()["logs"][0]
        return f"{alert['name']} on {alert['service']}; from {line['ts']} it logs {line['message']}"

    return await single(env, "What is failing, and why?", Agent([[(ALERTS, {})], metric, logs], answer))


@case("parallelism")
async def clean_dependency_used_in_arguments(env: Env) -> Run:
    """The second task queries the service and start time the first found; it never quotes its summary."""

    def found(chat: Chat) -> dict[str, Any]:
        result = chat.last(ALERTS)
        alert = result.json()["alerts"][0]
        return {
            "summary": "one alert firing",
            "evidence": [{"call_id": result.call_id}],
            "data": {"service": alert["service"], "since": alert["starts_at"]},
        }

    def query(chat: Chat) -> list[tuple[str, dict[str, Any]]]:
        data = chat.brief["dependencies"]["alert"]["result"]["data"]
        return [(METRIC, {"service": data["service"], "metric": "error_rate", "start": data["since"]})]

    def measured(chat: Chat) -> dict[str, Any]:
        result = chat.last(METRIC)
        worst = max(result.json()["points"], key=lambda p: p[1])
        return {"summary": f"error rate peaked at {worst[1]} at {worst[0]}", "evidence": [{"call_id": result.call_id}]}

    work = plan(
        ("alert", [], [ALERTS], "what alerts"), ("measure", ["alert"], [METRIC], "measure the alerting service")
    )
    orchestra = Orchestra(work, {"alert": Worker([[(ALERTS, {})]], found), "measure": Worker([query], measured)})
    return await orchestrated(env, "How bad is it?", orchestra)


@case("parallelism")
async def clean_serial_tasks_with_one_slot(env: Env) -> Run:
    """Independent tasks run one after the other because the run allows one at a time."""
    work = plan(("alerts", [], [ALERTS], "list alerts"), ("deploys", [], [CHANGES], "list deploys"))
    orchestra = Orchestra(
        work, {"alerts": Worker([[(ALERTS, {})]]), "deploys": Worker([[(CHANGES, {"kind": "deploy"})]])}
    )
    return await orchestrated(env, "What broke?", orchestra, limits=Limits(max_parallel=1))


@case("parallelism", Expect("serial_calls", calls(TRACE)))
async def serial_details_of_one_search(env: Env) -> Run:
    """Two traces read one per turn: both ids came from the same earlier search, so both fit in one turn."""

    def detail(index: int) -> Any:
        return lambda chat: [(TRACE, {"trace_id": chat.of(TRACES)[0].json()["traces"][index]["trace_id"]})]

    def answer(chat: Chat) -> str:
        spans = [s for r in chat.of(TRACE) for s in r.json()["spans"] if s["status"] == "error"]
        return "; ".join(f"{s['service']} {s['operation']} {s['duration_ms']} ms: {s['status_message']}" for s in spans)

    agent = Agent([[(TRACES, {"errors_only": True, "limit": 3})], detail(0), detail(1)], answer)
    return await single(env, "What do failing requests look like?", agent)


@case("parallelism", Expect("serial_calls", calls(METRIC)))
async def serial_same_metric_two_services(env: Env) -> Run:
    """The same metric for two services, one per turn: the second service does not come from the first result."""

    def answer(chat: Chat) -> str:
        return "; ".join(
            f"{r.arguments['service']} peaked at {max(v for _, v in r.json()['points'])}" for r in chat.of(METRIC)
        )

    turns = [[(METRIC, {"service": s, "metric": "latency_p99_ms", "step": "30m"})] for s in ("cart", "catalog")]
    return await single(env, "Compare cart and catalog latency.", Agent(turns, answer))


@case("parallelism")
async def clean_each_call_takes_the_previous_id(env: Env) -> Run:
    """An alert, then the changes of its service, then the k8s events of the pod those changes deployed."""

    def service_changes(chat: Chat) -> list[tuple[str, dict[str, Any]]]:
        return [(CHANGES, {"service": first_alert(chat)["service"], "kind": "deploy"})]

    def events(chat: Chat) -> list[tuple[str, dict[str, Any]]]:
        deploy = chat.last(CHANGES).json()["changes"][-1]
        return [(K8S, {"service": deploy["service"], "start": deploy["ts"]})]

    def answer(chat: Chat) -> str:
        event = chat.last(K8S).json()["events"][0]
        return f"{event['object']} {event['reason']} at {event['ts']}: {event['message']}"

    agent = Agent([[(ALERTS, {})], service_changes, events], answer)
    return await single(env, "What rolled out before the alert?", agent)
