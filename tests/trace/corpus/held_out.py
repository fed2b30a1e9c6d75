"""Held-out cases: variants of every category written before the analysers were reworked, and not looked at while
they were (the accuracy benchmark reports them apart, `--part held_out`)."""

from __future__ import annotations

import json
from typing import Any

from aura_nb.agent.run import Run
from aura_nb.config import Limits, ScratchpadSettings

from .case import Env, Expect, agent_steps, calls, case, last_step, orchestrated, single
from .script import Agent, Call, Chat, Orchestra, Worker, answer_all, plan
from .tools import (
    ALERTS,
    CHANGES,
    DEPENDENCIES,
    DUMP,
    ECHO,
    GET_IN,
    K8S,
    LOGS,
    LONG_OP,
    METRIC,
    NOW,
    SLOW,
    STRUCTURED,
    SUM,
    TRACE,
    TRACES,
    blob_of,
    clock,
    deploy_of,
    first_alert,
    shifted,
)


def _quote_all(chat: Chat) -> str:
    return " | ".join(r.content for r in chat.ok)


def _cite(result: Any, summary: str, **data: Any) -> dict[str, Any]:
    return {"summary": summary, "evidence": [{"call_id": result.call_id}], "data": data}


# --- duplicates ---------------------------------------------------------------------------------------------------


@case("duplicate", Expect("duplicate_call", calls(CHANGES)), held_out=True)
async def ho_dup_null_defaults_in_two_workers(env: Env) -> Run:
    """One worker lists changes with no filters, another passes every filter as null (their defaults)."""
    work = plan(
        ("changes", [], [CHANGES], "list all changes"),
        ("audit", [], [CHANGES, ALERTS], "audit changes against alerts"),
    )
    orchestra = Orchestra(
        work,
        {
            "changes": Worker([[(CHANGES, {})]]),
            "audit": Worker([[(CHANGES, {"service": None, "kind": None, "start": None}), (ALERTS, {})]]),
        },
    )
    return await orchestrated(env, "What changed before the alerts?", orchestra)


@case("duplicate", Expect("duplicate_call", calls(ECHO)), held_out=True)
async def ho_dup_echo_two_turns_later(env: Env) -> Run:
    """The same echo asked again two turns after the first (refused by the guard)."""

    def metric(chat: Chat) -> list[Call]:
        return [(METRIC, {"service": first_alert(chat)["service"], "metric": "error_rate", "step": "30m"})]

    agent = Agent([[(ECHO, {"message": "ping"}), (ALERTS, {})], metric, [(ECHO, {"message": "ping"})]], _quote_all)
    return await single(env, "Is the server alive, and what alerts?", agent)


@case("duplicate", held_out=True)
async def ho_clean_clock_polled_around_a_wait(env: Env) -> Run:
    """The Paris clock read before and after a wait that is its task's only tool: a poll, not a duplicate."""
    chain = plan(
        ("start", [], [NOW], "note the time"),
        ("wait", ["start"], [SLOW], "wait for the retry window"),
        ("end", ["wait"], [NOW], "note the time again"),
    )
    paris = [(NOW, {"timezone": "Europe/Paris"})]
    orchestra = Orchestra(
        chain,
        {"start": Worker([paris]), "wait": Worker([[(SLOW, {"seconds": 1.2})]]), "end": Worker([paris])},
    )
    return await orchestrated(env, "How much time passed across the retry window, in Paris time?", orchestra)


@case("duplicate", held_out=True)
async def ho_clean_same_arguments_different_tools(env: Env) -> Run:
    """Three tools asked about the same service with the same argument."""

    def answer(chat: Chat) -> str:
        alert = first_alert(chat)
        line = chat.last(LOGS).json()["logs"][0]
        return f"{alert['summary']}; {line['pod']} logs {line['message']}; no warning events for checkout."

    turn = [
        (ALERTS, {"service": "checkout"}),
        (K8S, {"service": "checkout", "type": "Warning"}),
        (LOGS, {"service": "checkout", "level": "error", "limit": 3}),
    ]
    return await single(env, "What is wrong with checkout?", Agent([turn], answer))


# --- unused -------------------------------------------------------------------------------------------------------


@case("unused", Expect("unused_result", calls(SUM)), held_out=True)
async def ho_unused_sum(env: Env) -> Run:
    """A sum is computed and never used; the answer is the current time."""

    def answer(chat: Chat) -> str:
        now = chat.last(NOW).json()
        return f"It is {now['datetime']} ({now['day_of_week']})."

    return await single(
        env, "What time is it?", Agent([[(SUM, {"a": 1234, "b": 4321}), (NOW, {"timezone": "Etc/UTC"})]], answer)
    )


@case("unused", Expect("unused_result", calls(K8S)), held_out=True)
async def ho_unused_events_sharing_an_image(env: Env) -> Run:
    """A worker reads frontend's k8s events and changes, and submits the deploy only (both mention its image)."""

    def submit(chat: Chat) -> dict[str, Any]:
        result = chat.last(CHANGES)
        deploy = deploy_of(chat, "frontend")
        return _cite(result, f"{deploy['summary']} at {deploy['ts']} ({deploy['details']['image']})")

    work = plan(("frontend", [], [K8S, CHANGES], "what happened to frontend"))
    turn = [(K8S, {"service": "frontend"}), (CHANGES, {"service": "frontend"})]
    return await orchestrated(env, "What happened to frontend?", Orchestra(work, {"frontend": Worker([turn], submit)}))


@case("unused", held_out=True)
async def ho_clean_changes_used_only_as_arguments(env: Env) -> Run:
    """The change list is used only through the service and time of the latest deploy, passed to the metric query."""

    def metric(chat: Chat) -> list[Call]:
        latest = max(chat.last(CHANGES).json()["changes"], key=lambda c: c["ts"])
        return [(METRIC, {"service": latest["service"], "metric": "error_rate", "start": latest["ts"], "step": "10m"})]

    def answer(chat: Chat) -> str:
        worst = max(chat.last(METRIC).json()["points"], key=lambda p: p[1])
        return f"After the last deploy the error rate reached {worst[1]} ({worst[0]})."

    return await single(
        env, "What happened after the last deploy?", Agent([[(CHANGES, {"kind": "deploy"})], metric], answer)
    )


@case("unused", held_out=True)
async def ho_clean_rounded_request_rate(env: Env) -> Run:
    """The answer rounds the request rate and quotes the alert threshold in its own words."""

    def answer(chat: Chat) -> str:
        alert = first_alert(chat)
        rates = [v for _, v in chat.last(METRIC).json()["points"]]
        return (
            f"{alert['service']} serves {sum(rates) / len(rates):.1f} req/s on average (peak {max(rates):.2f}); "
            f"alerting since {clock(alert['starts_at'])}."
        )

    turn = [(ALERTS, {}), (METRIC, {"service": "checkout", "metric": "request_rate", "step": "20m"})]
    return await single(env, "How much traffic does the alerting service get?", Agent([turn], answer))


# --- errors -------------------------------------------------------------------------------------------------------


@case("errors", Expect("swallowed_error", calls(SUM), "error"), held_out=True)
async def ho_swallowed_invalid_arguments(env: Env) -> Run:
    """A sum called with a string fails input validation; the answer reports the echo alone."""
    turn = [(SUM, {"a": "12", "b": 30}), (ECHO, {"message": "status ok"})]
    return await single(
        env, "Is the server fine? Add 12 and 30 too.", Agent([turn], lambda chat: chat.last(ECHO).content)
    )


@case("errors", Expect("swallowed_error", calls(METRIC, service="payment"), "error"), held_out=True)
async def ho_swallowed_tool_named_in_answer(env: Env) -> Run:
    """One of two metric queries fails; the answer names query_metric for the other one and calls payment fine."""

    def answer(chat: Chat) -> str:
        worst = max(chat.last(METRIC).json()["points"], key=lambda p: p[1])
        return f"query_metric shows checkout's error rate peaking at {worst[1]} ({worst[0]}); payment looks fine."

    turn = [
        (METRIC, {"service": "checkout", "metric": "error_rate", "step": "10m"}),
        (METRIC, {"service": "payment", "metric": "latency_p99"}),
    ]
    return await single(env, "Are checkout and payment healthy?", Agent([turn], answer))


@case("errors", held_out=True)
async def ho_clean_worker_reports_missing_trace(env: Env) -> Run:
    """A worker's trace lookup fails and its submission says the trace was not found."""
    missing = "0af7651916cd43dd8448eb211c80319c"

    def submit(chat: Chat) -> dict[str, Any]:
        result = chat.last(ALERTS)
        return _cite(result, f"{first_alert(chat)['summary']}; trace {missing} was not found, so its spans are unknown")

    work = plan(("check", [], [ALERTS, TRACE], "alerts and the reported trace"))
    turn = [(ALERTS, {}), (TRACE, {"trace_id": missing})]
    return await orchestrated(
        env, "Check the alert and trace 0af76519.", Orchestra(work, {"check": Worker([turn], submit)})
    )


@case("errors", held_out=True)
async def ho_clean_trace_retried_with_the_right_id(env: Env) -> Run:
    """A trace id copied with a typo fails; the next turn fetches it with the right id."""

    def wrong(chat: Chat) -> list[Call]:
        return [(TRACE, {"trace_id": chat.last(TRACES).json()["traces"][0]["trace_id"] + "0"})]

    def right(chat: Chat) -> list[Call]:
        return [(TRACE, {"trace_id": chat.last(TRACES).json()["traces"][0]["trace_id"]})]

    def answer(chat: Chat) -> str:
        span = chat.last(TRACE).json()["spans"][-1]
        return f"{span['service']} {span['operation']}: {span['status_message']}"

    agent = Agent([[(TRACES, {"errors_only": True, "limit": 1})], wrong, right], answer)
    return await single(env, "Why do requests fail?", agent)


@case("errors", Expect("agent_incomplete", last_step("agent"), "error"), held_out=True)
async def ho_single_agent_out_of_turns(env: Env) -> Run:
    """A single agent keeps looking (two calls a turn) and runs out of turns before answering (nor when corrected)."""
    turns = [
        [(ALERTS, {}), (CHANGES, {})],
        [(K8S, {"type": "Warning"}), (DEPENDENCIES, {})],
        [(TRACES, {"limit": 2}), (LOGS, {"level": "error", "limit": 2})],
        [(TRACES, {"limit": 5})],
    ]
    return await single(env, "Why is checkout failing?", Agent(turns, "never reached"), limits=Limits(max_turns=3))


# --- latency ------------------------------------------------------------------------------------------------------


@case("latency", Expect("slow_step", calls(LONG_OP)), held_out=True)
async def ho_slow_operation_in_worker(env: Env) -> Run:
    """A worker checking dependencies also runs a 1.4 s demo operation nobody asked for."""
    work = plan(
        ("graph", [], [DEPENDENCIES, LONG_OP], "check checkout's dependencies"),
        ("alerts", [], [ALERTS], "list alerts"),
    )
    orchestra = Orchestra(
        work,
        {
            "graph": Worker([[(DEPENDENCIES, {"service": "checkout"}), (LONG_OP, {"duration": 1.4, "steps": 2})]]),
            "alerts": Worker([[(ALERTS, {})]]),
        },
    )
    return await orchestrated(env, "Why is checkout failing?", orchestra)


@case("latency", held_out=True)
async def ho_clean_slow_named_in_task_goal(env: Env) -> Run:
    """The planner's task goal asks for the long running operation; a quick sibling task runs beside it."""
    work = plan(
        ("warm", [], [LONG_OP, ALERTS], "run the long running operation to warm the cache, then list alerts"),
        ("deploys", [], [CHANGES], "list deploys"),
    )
    orchestra = Orchestra(
        work,
        {
            "warm": Worker([[(LONG_OP, {"duration": 1.4, "steps": 2}), (ALERTS, {})]]),
            "deploys": Worker([[(CHANGES, {"kind": "deploy"})]]),
        },
    )
    return await orchestrated(env, "Warm the cache and tell me what is alerting.", orchestra)


# --- scratchpad ---------------------------------------------------------------------------------------------------


@case("scratchpad", Expect("scratchpad_bypassed", calls(DUMP)), held_out=True)
async def ho_bypass_server_override(env: Env) -> Run:
    """A per-server override (`sandbox`) raised so high that the cart log dump goes through raw."""

    def answer(chat: Chat) -> str:
        return "cart's last line: " + chat.last(DUMP).content.splitlines()[-1]

    pad = ScratchpadSettings(overrides={"sandbox": 1_000_000})
    return await single(env, "What does cart log last?", Agent([[(DUMP, {"service": "cart"})]], answer), scratchpad=pad)


@case("scratchpad", Expect("scratchpad_bypassed", calls(DUMP)), held_out=True)
async def ho_bypass_global_threshold_too_high(env: Env) -> Run:
    """The global threshold set above any output's size: the Scratchpad never intercepts."""

    def answer(chat: Chat) -> str:
        return "checkout's first line: " + chat.last(DUMP).content.splitlines()[0]

    pad = ScratchpadSettings(threshold_tokens=500_000)
    agent = Agent([[(DUMP, {"service": "checkout"})]], answer)
    return await single(env, "What does checkout log first?", agent, scratchpad=pad)


@case("scratchpad", Expect("blob_never_extracted", calls(DUMP)), held_out=True)
async def ho_blob_never_extracted_in_worker(env: Env) -> Run:
    """A worker dumps frontend's logs (stored) and submits from the change list alone."""

    def submit(chat: Chat) -> dict[str, Any]:
        result = chat.last(CHANGES)
        deploy = deploy_of(chat, "frontend")
        return _cite(result, f"{deploy['summary']} at {deploy['ts']}")

    work = plan(("frontend", [], [DUMP, CHANGES], "frontend's logs and changes"))
    turn = [(DUMP, {"service": "frontend"}), (CHANGES, {"service": "frontend"})]
    orchestra = Orchestra(work, {"frontend": Worker([turn], submit)})
    return await orchestrated(env, "What happened to frontend?", orchestra, scratchpad=ScratchpadSettings())


@case("scratchpad", held_out=True)
async def ho_clean_one_value_from_a_stored_output(env: Env) -> Run:
    """A stored output read at one index, and that value answered."""

    def get(chat: Chat) -> list[Call]:
        return [(GET_IN, {"blob_id": blob_of(chat), "path": "$.squares[777]"})]

    def answer(chat: Chat) -> str:
        return f"The 777th square is {json.loads(chat.last(GET_IN).content)}."

    agent = Agent([[(STRUCTURED, {"n": 25000})], get], answer)
    return await single(env, "What is square 777?", agent, scratchpad=ScratchpadSettings())


# --- plan ---------------------------------------------------------------------------------------------------------


@case("plan", Expect("tool_outside_plan", calls(ECHO)), held_out=True)
async def ho_outside_plan_other_server(env: Env) -> Run:
    """A worker allowed only the clock tries server-everything's echo first."""
    work = plan(("clock", [], [NOW], "read the clock"))
    orchestra = Orchestra(work, {"clock": Worker([[(ECHO, {"message": "time?"})], [(NOW, {"timezone": "Etc/UTC"})]])})
    return await orchestrated(env, "What time is it?", orchestra)


@case("plan", Expect("task_ignored", agent_steps("worker:traces"), "error"), held_out=True)
async def ho_task_ignored_with_ids(env: Env) -> Run:
    """The answer uses the alert task; the ignored trace task's summary is full of hex ids and timestamps."""

    def traces(chat: Chat) -> dict[str, Any]:
        result = chat.last(TRACES)
        found = [f"{t['trace_id']} at {t['start']}" for t in result.json()["traces"]]
        return _cite(result, "error traces: " + ", ".join(found))

    def alerts(chat: Chat) -> dict[str, Any]:
        alert = first_alert(chat)
        return _cite(chat.last(ALERTS), f"{alert['id']} {alert['name']} since {alert['starts_at']}")

    work = plan(("traces", [], [TRACES], "find error traces"), ("alerts", [], [ALERTS], "list alerts"))
    orchestra = Orchestra(
        work,
        {
            "traces": Worker([[(TRACES, {"errors_only": True, "limit": 3})]], traces),
            "alerts": Worker([[(ALERTS, {})]], alerts),
        },
        answer=answer_all(ignored={"traces"}),
    )
    return await orchestrated(env, "What is failing?", orchestra)


@case("plan", held_out=True)
async def ho_clean_task_cited_by_evidence(env: Env) -> Run:
    """The answer cites the deploy task's evidence and writes its finding in its own words."""

    def deploys(chat: Chat) -> dict[str, Any]:
        return _cite(chat.last(CHANGES), "one deploy of checkout shortly before the alert")

    def alerts(chat: Chat) -> dict[str, Any]:
        alert = first_alert(chat)
        return _cite(chat.last(ALERTS), f"{alert['name']} since {alert['starts_at']}")

    def answer(chat: Chat) -> dict[str, Any]:
        results = chat.brief["results"]
        return {
            "answer": f"A bad checkout deploy; {results['alerts']['result']['summary']}",
            "evidence": results["deploys"]["result"]["evidence"] + results["alerts"]["result"]["evidence"],
        }

    work = plan(("deploys", [], [CHANGES], "list deploys"), ("alerts", [], [ALERTS], "list alerts"))
    orchestra = Orchestra(
        work,
        {"deploys": Worker([[(CHANGES, {"kind": "deploy"})]], deploys), "alerts": Worker([[(ALERTS, {})]], alerts)},
        answer,
    )
    return await orchestrated(env, "What broke checkout?", orchestra)


# --- parallelism --------------------------------------------------------------------------------------------------


@case("parallelism", Expect("serial_calls", calls(NOW)), held_out=True)
async def ho_serial_clocks(env: Env) -> Run:
    """Three time zones read one per turn."""
    zones = ["Europe/Paris", "America/New_York", "Asia/Tokyo"]
    turns = [[(NOW, {"timezone": zone})] for zone in zones]
    return await single(env, "What time is it in Paris, New York and Tokyo?", Agent(turns, _quote_all))


@case("parallelism", Expect("needless_dependency", agent_steps("worker:graph")), held_out=True)
async def ho_needless_dependency_service_from_question(env: Env) -> Run:
    """The graph task waits for the alert task, but takes its service from the question, not from the alerts."""

    def alerts(chat: Chat) -> dict[str, Any]:
        alert = first_alert(chat)
        return _cite(chat.last(ALERTS), f"{alert['id']} since {alert['starts_at']}")

    def graph(chat: Chat) -> dict[str, Any]:
        edges = chat.last(DEPENDENCIES).json()["edges"]
        return _cite(chat.last(DEPENDENCIES), ", ".join(f"{e['callee']}:{e['port']}" for e in edges))

    work = plan(
        ("alerts", [], [ALERTS], "list alerts"), ("graph", ["alerts"], [DEPENDENCIES], "checkout's dependencies")
    )
    orchestra = Orchestra(
        work,
        {
            "alerts": Worker([[(ALERTS, {})]], alerts),
            "graph": Worker([[(DEPENDENCIES, {"service": "checkout"})]], graph),
        },
    )
    return await orchestrated(env, "What does checkout depend on, and is it alerting?", orchestra)


@case("parallelism", held_out=True)
async def ho_clean_worker_pages_with_cursor(env: Env) -> Run:
    """A worker reads three pages of error logs, each with the previous page's cursor."""
    filters = {"service": "checkout", "level": "error", "limit": 2}

    def page(chat: Chat) -> list[Call]:
        pages = chat.of(LOGS)
        return [(LOGS, filters | ({"cursor": pages[-1].json()["next_cursor"]} if pages else {}))]

    work = plan(("logs", [], [LOGS], "read checkout's error logs"))
    return await orchestrated(env, "What does checkout log?", Orchestra(work, {"logs": Worker([page, page, page])}))


@case("parallelism", held_out=True)
async def ho_clean_window_computed_from_an_alert(env: Env) -> Run:
    """The change window is computed from the alert's start (30 minutes before it), so the calls had to wait."""

    def window(chat: Chat) -> list[Call]:
        since = first_alert(chat)["starts_at"]
        return [(CHANGES, {"start": shifted(since, -30), "end": since})]

    def answer(chat: Chat) -> str:
        change = chat.last(CHANGES).json()["changes"][-1]
        return f"{change['summary']} ({change['id']}) shortly before the alert."

    return await single(env, "What changed just before the alert?", Agent([[(ALERTS, {})], window], answer))


# --- tokens -------------------------------------------------------------------------------------------------------


@case("tokens", Expect("context_growth", last_step("agent"), exact=False), held_out=True)
async def ho_context_growth_without_scratchpad(env: Env) -> Run:
    """Without the Scratchpad, an agent pages sixteen times through 50 debug-level lines, all kept in context."""
    filters = {"level": "debug", "limit": 50, "order": "newest"}

    def page(chat: Chat) -> list[Call]:
        pages = chat.of(LOGS)
        return [(LOGS, filters | ({"cursor": pages[-1].json()["next_cursor"]} if pages else {}))]

    def answer(chat: Chat) -> str:
        return "; ".join(p.json()["logs"][0]["message"][:40] + " @ " + p.json()["logs"][0]["ts"] for p in chat.of(LOGS))

    return await single(env, "Skim the newest logs.", Agent([page] * 16, answer))
