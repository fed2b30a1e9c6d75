"""Failed calls: swallowed by the answer, or handled (retried, reported, worked around); agents that gave up."""

from __future__ import annotations

from aura_nb.agent.run import Run
from aura_nb.config import Limits

from .case import Env, Expect, calls, case, last_step, orchestrated, single
from .script import Agent, Chat, Orchestra, Worker, plan
from .tools import ALERTS, CHANGES, CONVERT, K8S, LOGS, METRIC, PROBE, TRACE, TRACES, first_alert


@case("errors", Expect("swallowed_error", calls(TRACE), "error"))
async def swallowed_error_single(env: Env) -> Run:
    """A trace lookup fails (no such trace); the answer goes on as if nothing was missing."""

    def answer(chat: Chat) -> str:
        alert = first_alert(chat)
        return f"{alert['name']} on {alert['service']}: {alert['summary']}."

    turn = [(ALERTS, {}), (TRACE, {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"})]
    return await single(env, "Why is checkout failing?", Agent([turn], answer))


@case("errors", Expect("swallowed_error", calls(METRIC), "error"))
async def swallowed_error_mentioned_in_passing(env: Env) -> Run:
    """The metric query fails (unknown metric); the answer talks about the error rate and traces in passing."""

    def answer(chat: Chat) -> str:
        trace = chat.last(TRACES).json()["traces"][0]
        return (
            f"Error traces like {trace['trace_id']} show {trace['errors'][-1]}; the error rate of checkout is what "
            "the alert is about, and every failing trace goes through PlaceOrder."
        )

    turn = [(TRACES, {"errors_only": True, "limit": 2}), (METRIC, {"service": "checkout", "metric": "error_ratio"})]
    return await single(env, "Why is checkout failing?", Agent([turn], answer))


@case("errors", Expect("swallowed_error", calls(CONVERT), "error"))
async def swallowed_error_in_worker(env: Env) -> Run:
    """A worker's time conversion fails (bad zone); its submission and the answer never say so."""

    def submit(chat: Chat) -> dict[str, object]:
        alerts = chat.last(ALERTS)
        alert = alerts.json()["alerts"][0]
        return {"summary": f"{alert['summary']} since {alert['starts_at']}", "evidence": [{"call_id": alerts.call_id}]}

    work = plan(("when", [], [ALERTS, CONVERT], "when did it start, in Berlin time"))
    convert = (CONVERT, {"source_timezone": "Etc/UTC", "time": "11:25", "target_timezone": "Europe/Berlinn"})
    orchestra = Orchestra(work, {"when": Worker([[(ALERTS, {}), convert]], submit)})
    return await orchestrated(env, "When did the checkout alert start, Berlin time?", orchestra)


@case("errors", Expect("agent_incomplete", last_step("worker:logs"), "error"))
async def worker_runs_out_of_turns(env: Env) -> Run:
    """A worker keeps paging through probes and never submits before its turn limit (nor when corrected)."""
    work = plan(("logs", [], [PROBE, LOGS], "read checkout's logs"), ("deploys", [], [CHANGES], "list deploys"))
    pages = [[(PROBE, {"label": f"page-{i}a"}), (PROBE, {"label": f"page-{i}b"})] for i in range(4)]
    orchestra = Orchestra(work, {"logs": Worker(pages), "deploys": Worker([[(CHANGES, {"kind": "deploy"})]])})
    return await orchestrated(env, "What do the logs say?", orchestra, limits=Limits(max_turns=3))


@case("errors")
async def clean_error_retried_with_fixed_arguments(env: Env) -> Run:
    """A conversion fails on a misspelt zone and is retried with the right one."""

    def answer(chat: Chat) -> str:
        target = chat.last(CONVERT).json()["target"]
        return f"11:25 UTC is {target['datetime']} in Paris ({target['day_of_week']})."

    zone = {"source_timezone": "Etc/UTC", "time": "11:25"}
    agent = Agent(
        [
            [(CONVERT, zone | {"target_timezone": "Europe/Pariss"})],
            [(CONVERT, zone | {"target_timezone": "Europe/Paris"})],
        ],
        answer,
    )
    return await single(env, "What time was 11:25 UTC in Paris?", agent)


@case("errors")
async def clean_error_reported_in_answer(env: Env) -> Run:
    """A log search fails on a bad level; the answer says the logs could not be searched."""

    def answer(chat: Chat) -> str:
        alert = first_alert(chat)
        return (
            f"{alert['summary']}. The log search failed (search_logs rejected level 'critical'), so the logs are "
            "unknown."
        )

    turn = [(ALERTS, {}), (LOGS, {"service": "checkout", "level": "critical"})]
    return await single(env, "Why is checkout failing?", Agent([turn], answer))


@case("errors")
async def clean_error_noted_by_worker(env: Env) -> Run:
    """A worker's k8s lookup fails; its submission says what is unknown and the answer carries it."""

    def submit(chat: Chat) -> dict[str, object]:
        alerts = chat.last(ALERTS)
        alert = alerts.json()["alerts"][0]
        return {
            "summary": f"{alert['summary']}; the k8s events could not be read (invalid type 'Critical'), so "
            "pod restarts are unknown",
            "evidence": [{"call_id": alerts.call_id}],
        }

    work = plan(("cluster", [], [ALERTS, K8S], "alerts and cluster events"))
    turn = [(ALERTS, {}), (K8S, {"type": "Critical"})]
    return await orchestrated(env, "Is the cluster healthy?", Orchestra(work, {"cluster": Worker([turn], submit)}))


@case("errors", Expect("swallowed_error", calls("everything.get-annotated-message"), "error"))
async def swallowed_error_claimed_as_data(env: Env) -> Run:
    """An annotated-message call fails validation; the answer names the tool as if it had answered."""

    def answer(chat: Chat) -> str:
        return f"get-annotated-message shows the server is fine; {chat.last('everything.echo').content}."

    turn = [("everything.get-annotated-message", {"messageType": "fatal"}), ("everything.echo", {"message": "up"})]
    return await single(env, "Is the demo server fine?", Agent([turn], answer))


@case("errors")
async def clean_error_reported_by_the_synthesis(env: Env) -> Run:
    """A worker's trace lookup fails and its summary skips it; the final answer says the trace was not found."""
    missing = "5c3a1e0f9b7d4c2a8e6f1d3b5a7c9e0f"

    def submit(chat: Chat) -> dict[str, object]:
        alerts = chat.last(ALERTS)
        return {"summary": first_alert(chat)["summary"], "evidence": [{"call_id": alerts.call_id}]}

    def answer(chat: Chat) -> dict[str, object]:
        summary = chat.brief["results"]["check"]["result"]["summary"]
        return {"answer": f"{summary}. Trace {missing} was not found, so its spans are unknown.", "evidence": []}

    work = plan(("check", [], [ALERTS, TRACE], "alerts and the reported trace"))
    orchestra = Orchestra(work, {"check": Worker([[(ALERTS, {}), (TRACE, {"trace_id": missing})]], submit)}, answer)
    return await orchestrated(env, f"Check the alerts and trace {missing[:8]}.", orchestra)
