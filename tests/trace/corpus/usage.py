"""Unused results: outputs the agent paid for and never used (and outputs used in forms a word match misses)."""

from __future__ import annotations

from aura_nb.agent.run import Run

from .case import Env, Expect, calls, case, orchestrated, single
from .script import Agent, Chat, Orchestra, Worker, plan
from .tools import (
    ALERTS,
    CHANGES,
    DEPENDENCIES,
    K8S,
    LOGS,
    METRIC,
    SERVICES,
    TRACE,
    TRACES,
    deploy_of,
    first_alert,
    peak,
    points,
)


@case("unused", Expect("unused_result", calls(K8S)))
async def unused_result_single(env: Env) -> Run:
    """Warning k8s events fetched with the alerts; the answer rests on the alert alone."""

    def answer(chat: Chat) -> str:
        alert = first_alert(chat)
        return f"{alert['id']} ({alert['severity']}): {alert['summary']}, since {alert['starts_at']}."

    return await single(env, "What is alerting?", Agent([[(ALERTS, {}), (K8S, {"type": "Warning"})]], answer))


@case("unused", Expect("unused_result", calls(ALERTS)))
async def unused_alert_among_timestamps(env: Env) -> Run:
    """The alert is ignored; the answer's own timestamps share date and hour with the alert's."""

    def answer(chat: Chat) -> str:
        deploy = deploy_of(chat, "checkout")
        at, value = next(p for p in points(chat, "error_rate") if p[1] > 0.1)
        return f"{deploy['summary']} at {deploy['ts']}; checkout's error rate was {value} by {at}."

    metric = (METRIC, {"service": "checkout", "metric": "error_rate", "start": "2025-04-15T11:00:00Z"})
    return await single(env, "Did a deploy break checkout?", Agent([[(CHANGES, {}), (ALERTS, {}), metric]], answer))


@case("unused", Expect("unused_result", calls(TRACES)))
async def unused_traces_in_worker(env: Env) -> Run:
    """A worker fetches error traces and error logs, and submits only what the logs said."""

    def submit(chat: Chat) -> dict[str, object]:
        logs = chat.last(LOGS)
        line = logs.json()["logs"][0]
        return {"summary": f"{line['pod']}: {line['message']}", "evidence": [{"call_id": logs.call_id}]}

    work = plan(("errors", [], [TRACES, LOGS], "find checkout's errors"), ("deploys", [], [CHANGES], "list deploys"))
    orchestra = Orchestra(
        work,
        {
            "errors": Worker(
                [
                    [
                        (TRACES, {"errors_only": True, "limit": 3}),
                        (LOGS, {"service": "checkout", "level": "error", "limit": 3}),
                    ]
                ],
                submit,
            ),
            "deploys": Worker([[(CHANGES, {"kind": "deploy"})]]),
        },
    )
    return await orchestrated(env, "Why does checkout fail?", orchestra)


@case("unused", Expect("unused_result", calls(DEPENDENCIES)))
async def unused_never_read(env: Env) -> Run:
    """A worker asks for the dependency graph in the very turn it submits: it never reads it."""
    work = plan(("alerts", [], [ALERTS, DEPENDENCIES], "what alerts, and what does it depend on"))
    orchestra = Orchestra(
        work, {"alerts": Worker([[(ALERTS, {})]], alongside=[(DEPENDENCIES, {"service": "checkout"})])}
    )
    return await orchestrated(env, "What is alerting?", orchestra)


@case("unused")
async def clean_edges_rewritten(env: Env) -> Run:
    """The dependency graph is used, written as `cart->catalog http:8080` (every name and port already known)."""

    def answer(chat: Chat) -> str:
        cart = next(s for s in chat.last(SERVICES).json()["services"] if s["name"] == "cart")
        edges = [e for e in chat.last(DEPENDENCIES).json()["edges"] if e["caller"] == "cart"]
        arrows = ", ".join(f"{e['caller']}->{e['callee']} {e['protocol']}:{e['port']}" for e in edges)
        return f"cart {cart['version']} runs {cart['replicas']} replicas; it calls {arrows}."

    agent = Agent([[(SERVICES, {}), (DEPENDENCIES, {"service": "cart"})]], answer)
    return await single(env, "What does the cart service call?", agent)


@case("unused")
async def clean_ids_into_arguments(env: Env) -> Run:
    """The trace search is used only through the trace id passed to the next call."""

    def answer(chat: Chat) -> str:
        spans = chat.last(TRACE).json()["spans"]
        failed = next(s for s in spans if s["service"] == "checkout")
        return f"{failed['operation']} took {failed['duration_ms']} ms and failed: {failed['status_message']}"

    def detail(chat: Chat) -> list[tuple[str, dict[str, object]]]:
        return [(TRACE, {"trace_id": chat.last(TRACES).json()["traces"][0]["trace_id"]})]

    agent = Agent([[(TRACES, {"errors_only": True, "limit": 3})], detail], answer)
    return await single(env, "Why do checkout requests fail?", agent)


@case("unused")
async def clean_numbers_reformatted(env: Env) -> Run:
    """Metric values used as a percentage and rounded milliseconds."""

    def answer(chat: Chat) -> str:
        at, rate = peak(chat, "error_rate")
        _, p99 = peak(chat, "latency_p99_ms")
        base = points(chat, "error_rate")[0][1]
        return (
            f"Error rate rose from {base * 100:.2f}% to {rate * 100:.1f}% at {at[11:16]}; p99 peaked at {p99:.0f} ms."
        )

    step = {"service": "checkout", "step": "10m"}
    turn = [(METRIC, step | {"metric": "error_rate"}), (METRIC, step | {"metric": "latency_p99_ms"})]
    return await single(env, "How bad is checkout?", Agent([turn], answer))


@case("unused")
async def clean_negative_results(env: Env) -> Run:
    """Two of three lookups find nothing, and the answer says so."""

    def answer(chat: Chat) -> str:
        alert = first_alert(chat)
        return f"{alert['summary']} since {alert['starts_at']}; cart has no alerts and no warning events."

    turn = [
        (ALERTS, {"service": "checkout"}),
        (ALERTS, {"service": "cart"}),
        (K8S, {"service": "cart", "type": "Warning"}),
    ]
    return await single(env, "Is cart part of checkout's problem?", Agent([turn], answer))


@case("unused")
async def clean_clock_times_in_answer(env: Env) -> Run:
    """Timestamps rewritten as clock times and a version: `since 11:25:30 UTC`, `3.27.0 at 11:24`."""

    def answer(chat: Chat) -> str:
        alert = first_alert(chat)
        deploy = deploy_of(chat, alert["service"])
        version = deploy["details"]["to_version"]
        since, went = alert["starts_at"][11:19], deploy["ts"][11:16]
        return f"{alert['name']} since {since} UTC, right after {version} went out at {went}."

    return await single(env, "What changed before the alert?", Agent([[(ALERTS, {}), (CHANGES, {})]], answer))


@case("unused", Expect("unused_result", calls(LOGS)))
async def unused_logs_beside_the_trace(env: Env) -> Run:
    """The trace of a failing request and its log lines are fetched together; the answer uses the trace only."""

    def detail(chat: Chat) -> list[tuple[str, dict[str, object]]]:
        trace_id = chat.last(TRACES).json()["traces"][0]["trace_id"]
        return [(TRACE, {"trace_id": trace_id}), (LOGS, {"trace_id": trace_id})]

    def answer(chat: Chat) -> str:
        spans = chat.last(TRACE).json()["spans"]
        return "; ".join(f"{s['service']} {s['operation']} {s['duration_ms']} ms {s['status']}" for s in spans)

    agent = Agent([[(TRACES, {"errors_only": True, "limit": 2})], detail], answer)
    return await single(env, "What does a failing request look like?", agent)


@case("unused")
async def clean_service_found_in_alerts_drives_the_query(env: Env) -> Run:
    """The question names no service: the alert says which, and the next query asks about it."""

    def metric(chat: Chat) -> list[tuple[str, dict[str, object]]]:
        return [(METRIC, {"service": first_alert(chat)["service"], "metric": "error_rate", "step": "30m"})]

    def answer(chat: Chat) -> str:
        worst = max(chat.last(METRIC).json()["points"], key=lambda p: p[1])
        return f"Error rate peaked at {worst[1]:.3f} ({worst[0][11:16]})."

    return await single(env, "Which service is unhealthy, and how bad is it?", Agent([[(ALERTS, {})], metric], answer))
