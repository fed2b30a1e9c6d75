"""A second held-out batch, written after the analysers were reworked and run once, unchanged, for a first-look
figure (the accuracy benchmark reports it with the other held-out cases; `--module unseen` alone)."""

from __future__ import annotations

from typing import Any

from aura_nb.agent.run import Run
from aura_nb.config import Limits, ScratchpadSettings

from .case import Env, Expect, agent_steps, both, calls, case, last_step, orchestrated, single
from .script import Agent, Call, Chat, Orchestra, Worker, answer_all, plan
from .tools import (
    ALERTS,
    CHANGES,
    CONVERT,
    DEPENDENCIES,
    DUMP,
    ECHO,
    GREP,
    K8S,
    LOGS,
    LONG_OP,
    METRIC,
    NOW,
    SERVICES,
    SLICE,
    SLOW,
    STRUCTURED,
    SUM,
    TRACE,
    TRACES,
    blob_of,
    first_alert,
)

REFERENCE = "everything.get-resource-reference"


def _cite(result: Any, summary: str, **data: Any) -> dict[str, Any]:
    return {"summary": summary, "evidence": [{"call_id": result.call_id}], "data": data}


# --- duplicates ---------------------------------------------------------------------------------------------------


@case("duplicate", Expect("duplicate_call", calls(CONVERT)), held_out=True)
async def un_dup_conversion_reordered(env: Env) -> Run:
    """The same time conversion asked again a turn later with its arguments reordered."""
    first = {"source_timezone": "Etc/UTC", "time": "11:25", "target_timezone": "Asia/Tokyo"}
    again = {"target_timezone": "Asia/Tokyo", "time": "11:25", "source_timezone": "Etc/UTC"}

    def answer(chat: Chat) -> str:
        return "In Tokyo that is " + chat.last(CONVERT).json()["target"]["datetime"]

    return await single(env, "What is 11:25 UTC in Tokyo?", Agent([[(CONVERT, first)], [(CONVERT, again)]], answer))


@case("duplicate", Expect("duplicate_call", calls(REFERENCE)), held_out=True)
async def un_dup_defaults_spelt_out_by_another_worker(env: Env) -> Run:
    """One worker asks for the resource reference plainly, another spells out both defaults."""
    work = plan(
        ("ref", [], [REFERENCE], "fetch the reference"), ("check", [], [REFERENCE, ECHO], "check the reference")
    )
    orchestra = Orchestra(
        work,
        {
            "ref": Worker([[(REFERENCE, {})]]),
            "check": Worker([[(REFERENCE, {"resourceType": "Text", "resourceId": 1}), (ECHO, {"message": "ok?"})]]),
        },
    )
    return await orchestrated(env, "Which resource does the demo server reference?", orchestra)


@case("duplicate", held_out=True)
async def un_clean_same_metric_other_windows(env: Env) -> Run:
    """Two workers read checkout's error rate over two different windows."""
    work = plan(("before", [], [METRIC], "error rate before the deploy"), ("after", [], [METRIC], "after it"))
    rate = {"service": "checkout", "metric": "error_rate", "step": "5m"}
    orchestra = Orchestra(
        work,
        {
            "before": Worker([[(METRIC, rate | {"end": "2025-04-15T11:20:00Z"})]]),
            "after": Worker([[(METRIC, rate | {"start": "2025-04-15T11:30:00Z"})]]),
        },
    )
    return await orchestrated(env, "Did checkout's error rate change around the deploy?", orchestra)


@case("duplicate", held_out=True)
async def un_clean_two_echoes(env: Env) -> Run:
    """Two echoes of different messages in one turn."""
    turn = [(ECHO, {"message": "alpha"}), (ECHO, {"message": "beta"})]
    return await single(env, "Echo alpha and beta.", Agent([turn], lambda chat: " / ".join(r.content for r in chat.ok)))


# --- unused -------------------------------------------------------------------------------------------------------


@case("unused", Expect("unused_result", calls(NOW)), held_out=True)
async def un_unused_clock_in_worker(env: Env) -> Run:
    """A worker reads the clock with the alerts and submits the alert alone."""

    def submit(chat: Chat) -> dict[str, Any]:
        alert = first_alert(chat)
        return _cite(chat.last(ALERTS), f"{alert['name']} on {alert['service']} since {alert['starts_at']}")

    work = plan(("alerts", [], [ALERTS, NOW], "what is alerting now"))
    turn = [(ALERTS, {}), (NOW, {"timezone": "Etc/UTC"})]
    return await orchestrated(env, "What is alerting right now?", Orchestra(work, {"alerts": Worker([turn], submit)}))


@case("unused", Expect("unused_result", calls(DEPENDENCIES)), held_out=True)
async def un_unused_graph_beside_services(env: Env) -> Run:
    """The services, payment's dependency edges and the alerts in one turn; the answer never uses the edges."""

    def answer(chat: Chat) -> str:
        services = chat.last(SERVICES).json()["services"]
        alert = first_alert(chat)
        versions = ", ".join(f"{s['name']} {s['version']}" for s in services if s["version"])
        return f"Running: {versions}. {alert['summary']}."

    turn = [(SERVICES, {}), (DEPENDENCIES, {"service": "payment"}), (ALERTS, {})]
    return await single(env, "What runs, and what is alerting?", Agent([turn], answer))


@case("unused", held_out=True)
async def un_clean_local_clock_from_a_conversion(env: Env) -> Run:
    """A conversion used as a local clock time: "11:25 UTC is 13:25 in Berlin"."""

    def answer(chat: Chat) -> str:
        target = chat.last(CONVERT).json()["target"]["datetime"]
        return f"11:25 UTC is {target[11:16]} in Berlin."

    turn = [(CONVERT, {"source_timezone": "Etc/UTC", "time": "11:25", "target_timezone": "Europe/Berlin"})]
    return await single(env, "What is 11:25 UTC in Berlin?", Agent([turn], answer))


@case("unused", held_out=True)
async def un_clean_rounded_durations(env: Env) -> Run:
    """Error traces summarised by their durations, rounded to a tenth of a millisecond."""

    def answer(chat: Chat) -> str:
        traces = chat.last(TRACES).json()["traces"]
        return "Failing requests took " + ", ".join(f"{t['duration_ms']:.1f} ms" for t in traces) + "."

    return await single(
        env, "How long do failing requests take?", Agent([[(TRACES, {"errors_only": True, "limit": 3})]], answer)
    )


@case("unused", held_out=True)
async def un_clean_pod_named_in_the_answer(env: Env) -> Run:
    """Warning events read and the failing pod named in the answer."""

    def answer(chat: Chat) -> str:
        event = chat.last(K8S).json()["events"][0]
        return f"{event['object'].split('/')[1]} was {event['reason']} ({event['message'][-3:]})."

    return await single(env, "Which pod is unhealthy?", Agent([[(K8S, {"type": "Warning"})]], answer))


# --- errors -------------------------------------------------------------------------------------------------------


@case("errors", Expect("swallowed_error", calls(CONVERT, time="25:99"), "error"), held_out=True)
async def un_swallowed_bad_time(env: Env) -> Run:
    """One of two conversions fails on an impossible time; the answer gives the other one only."""

    def answer(chat: Chat) -> str:
        return "In New York: " + chat.last(CONVERT).json()["target"]["datetime"]

    zone = {"source_timezone": "Etc/UTC", "target_timezone": "America/New_York"}
    turn = [(CONVERT, zone | {"time": "11:25"}), (CONVERT, zone | {"time": "25:99"})]
    return await single(env, "Convert 11:25 and the alert's end time to New York time.", Agent([turn], answer))


@case("errors", Expect("swallowed_error", calls(METRIC, service="checkout-api"), "error"), held_out=True)
async def un_swallowed_in_worker_summary(env: Env) -> Run:
    """A worker's metric query names a service that does not exist; its summary calls the metrics normal."""

    def submit(chat: Chat) -> dict[str, Any]:
        return _cite(chat.last(ALERTS), f"metrics look normal; {first_alert(chat)['summary']}")

    work = plan(("health", [], [ALERTS, METRIC], "alerts and checkout's latency"))
    turn = [(ALERTS, {}), (METRIC, {"service": "checkout-api", "metric": "latency_p99_ms"})]
    return await orchestrated(env, "Is checkout healthy?", Orchestra(work, {"health": Worker([turn], submit)}))


@case("errors", held_out=True)
async def un_clean_sum_retried_with_numbers(env: Env) -> Run:
    """A sum fails on a string argument and is asked again with numbers."""
    agent = Agent([[(SUM, {"a": "7", "b": 5})], [(SUM, {"a": 7, "b": 5})]], lambda chat: chat.last(SUM).content)
    return await single(env, "Add 7 and 5.", agent)


@case("errors", held_out=True)
async def un_clean_error_returned_in_answer(env: Env) -> Run:
    """The answer says the trace lookup returned an error and what that leaves open."""
    missing = "ffffffffffffffffffffffffffffffff"

    def answer(chat: Chat) -> str:
        summary = first_alert(chat)["summary"]
        return f"{summary}. get_trace returned an error for {missing}, so the failing span is not known."

    return await single(
        env, "Why is checkout failing?", Agent([[(ALERTS, {}), (TRACE, {"trace_id": missing})]], answer)
    )


@case("errors", Expect("agent_incomplete", last_step("worker:zones"), "error"), held_out=True)
async def un_worker_out_of_turns(env: Env) -> Run:
    """A worker reads clocks two at a time until its two turns are spent, never submitting (nor when corrected)."""
    zones = ["Europe/Paris", "Europe/London", "Asia/Tokyo", "America/Denver", "Africa/Cairo", "Asia/Dubai"]
    turns = [[(NOW, {"timezone": zones[2 * i]}), (NOW, {"timezone": zones[2 * i + 1]})] for i in range(3)]
    work = plan(("zones", [], [NOW], "read the clocks"), ("alerts", [], [ALERTS], "list alerts"))
    orchestra = Orchestra(work, {"zones": Worker(turns), "alerts": Worker([[(ALERTS, {})]])})
    return await orchestrated(env, "What time is it around the world?", orchestra, limits=Limits(max_turns=2))


# --- latency ------------------------------------------------------------------------------------------------------


@case("latency", Expect("slow_step", calls(SLOW)), held_out=True)
async def un_slow_wait_for_safety(env: Env) -> Run:
    """A worker listing alerts first waits 1.5 s it did not need (its task has other tools)."""
    work = plan(
        ("alerts", [], [SLOW, ALERTS, CHANGES], "list the alerts and deploys"), ("graph", [], [DEPENDENCIES], "graph")
    )
    orchestra = Orchestra(
        work,
        {
            "alerts": Worker([[(SLOW, {"seconds": 1.5}), (ALERTS, {}), (CHANGES, {"kind": "deploy"})]]),
            "graph": Worker([[(DEPENDENCIES, {})]]),
        },
    )
    return await orchestrated(env, "What is alerting, and what was deployed?", orchestra)


@case("latency", held_out=True)
async def un_clean_wait_the_question_asks_for(env: Env) -> Run:
    """The question asks to wait 1.5 seconds before reading the clock; the wait is the job."""

    def answer(chat: Chat) -> str:
        return f"{chat.last(SLOW).content}; now {chat.last(NOW).json()['datetime']}; {first_alert(chat)['summary']}"

    agent = Agent([[(SLOW, {"seconds": 1.5}), (ALERTS, {})], [(NOW, {"timezone": "Etc/UTC"})]], answer)
    return await single(env, "Wait 1.5 seconds, then read the clock and the alerts.", agent)


@case("latency", held_out=True)
async def un_clean_long_running_operation_in_goal(env: Env) -> Run:
    """The task's goal names the long-running operation (with hyphens); the other tasks are quick."""
    work = plan(
        ("op", [], [LONG_OP, ECHO], "trigger the long-running operation and confirm it finished"),
        ("alerts", [], [ALERTS], "list alerts"),
    )
    orchestra = Orchestra(
        work,
        {
            "op": Worker([[(LONG_OP, {"duration": 1.3, "steps": 2}), (ECHO, {"message": "done?"})]]),
            "alerts": Worker([[(ALERTS, {})]]),
        },
    )
    return await orchestrated(env, "Run the operation and list alerts.", orchestra)


# --- scratchpad ---------------------------------------------------------------------------------------------------


@case("scratchpad", Expect("scratchpad_bypassed", calls(STRUCTURED)), held_out=True)
async def un_bypass_server_override_zero(env: Env) -> Run:
    """A per-server override of 0 for the misbehaving server lets a large structured output through raw."""
    pad = ScratchpadSettings(overrides={"bad": 0})
    agent = Agent([[(STRUCTURED, {"n": 15000})]], lambda chat: "last: " + chat.last(STRUCTURED).content[-30:])
    return await single(env, "Show the tail of the squares.", agent, scratchpad=pad)


@case("scratchpad", Expect("scratchpad_read_back", both(calls(STRUCTURED), calls(SLICE))), held_out=True)
async def un_read_back_two_big_slices(env: Env) -> Run:
    """A stored output read back in two big slices in one turn."""

    def pages(chat: Chat) -> list[Call]:
        blob = blob_of(chat)
        return [
            (SLICE, {"blob_id": blob, "start": 1, "end": 1000}),
            (SLICE, {"blob_id": blob, "start": 1001, "end": 2005}),
        ]

    def answer(chat: Chat) -> str:
        return "; ".join(r.content.splitlines()[-2].strip() for r in chat.of(SLICE))

    agent = Agent([[(STRUCTURED, {"n": 2000})], pages], answer)
    return await single(env, "Read me the squares.", agent, scratchpad=ScratchpadSettings())


@case("scratchpad", held_out=True)
async def un_clean_grep_count_only(env: Env) -> Run:
    """A stored dump grepped for a count only, and the count answered."""

    def count(chat: Chat) -> list[Call]:
        return [(GREP, {"blob_id": blob_of(chat), "pattern": "TypeError", "count_only": True})]

    def answer(chat: Chat) -> str:
        return f"checkout logged TypeError lines: {chat.last(GREP).content}"

    agent = Agent([[(DUMP, {"service": "checkout"})], count], answer)
    return await single(env, "How often does checkout log a TypeError?", agent, scratchpad=ScratchpadSettings())


# --- plan ---------------------------------------------------------------------------------------------------------


@case("plan", Expect("tool_outside_plan", calls(CONVERT)), held_out=True)
async def un_outside_plan_convert(env: Env) -> Run:
    """A worker allowed the clock only tries a conversion first."""
    work = plan(("clock", [], [NOW], "read the clock in Paris"))
    turns = [
        [(CONVERT, {"source_timezone": "Etc/UTC", "time": "12:00", "target_timezone": "Europe/Paris"})],
        [(NOW, {"timezone": "Europe/Paris"})],
    ]
    return await orchestrated(env, "What time is it in Paris?", Orchestra(work, {"clock": Worker(turns)}))


@case("plan", Expect("task_ignored", agent_steps("worker:latency"), "error"), held_out=True)
async def un_task_of_numbers_ignored(env: Env) -> Run:
    """The answer uses the alert task; the ignored latency task submitted only numbers and times."""

    def latency(chat: Chat) -> dict[str, Any]:
        points = chat.last(METRIC).json()["points"]
        return _cite(chat.last(METRIC), "p99 " + ", ".join(f"{v} at {t}" for t, v in points[-4:]))

    work = plan(("alerts", [], [ALERTS], "list alerts"), ("latency", [], [METRIC], "checkout's p99"))
    orchestra = Orchestra(
        work,
        {
            "alerts": Worker([[(ALERTS, {})]]),
            "latency": Worker(
                [[(METRIC, {"service": "checkout", "metric": "latency_p99_ms", "step": "10m"})]], latency
            ),
        },
        answer=answer_all(ignored={"latency"}),
    )
    return await orchestrated(env, "Is checkout slow or failing?", orchestra)


@case("plan", held_out=True)
async def un_clean_thousands_separator(env: Env) -> Run:
    """The answer writes the latency task's peak with a thousands separator (1,052 ms)."""

    def latency(chat: Chat) -> dict[str, Any]:
        worst = max(chat.last(METRIC).json()["points"], key=lambda p: p[1])
        return _cite(chat.last(METRIC), "p99 peak", peak=worst[1], at=worst[0])

    def answer(chat: Chat) -> dict[str, Any]:
        data = chat.brief["results"]["latency"]["result"]["data"]
        return {"answer": f"checkout's p99 peaked at {data['peak']:,.0f} ms.", "evidence": []}

    work = plan(("latency", [], [METRIC], "checkout's p99"))
    worker = Worker([[(METRIC, {"service": "checkout", "metric": "latency_p99_ms", "step": "10m"})]], latency)
    return await orchestrated(env, "How slow is checkout?", Orchestra(work, {"latency": worker}, answer))


@case("plan", held_out=True)
async def un_clean_seconds_from_milliseconds(env: Env) -> Run:
    """The answer converts the latency task's peak from milliseconds to seconds (1.05 s)."""

    def latency(chat: Chat) -> dict[str, Any]:
        worst = max(chat.last(METRIC).json()["points"], key=lambda p: p[1])
        return _cite(chat.last(METRIC), "p99 peak", peak_ms=worst[1])

    def answer(chat: Chat) -> dict[str, Any]:
        data = chat.brief["results"]["latency"]["result"]["data"]
        return {"answer": f"checkout's p99 peaked at {data['peak_ms'] / 1000:.2f} s.", "evidence": []}

    work = plan(("latency", [], [METRIC], "checkout's p99"))
    worker = Worker([[(METRIC, {"service": "checkout", "metric": "latency_p99_ms", "step": "10m"})]], latency)
    return await orchestrated(env, "How slow is checkout?", Orchestra(work, {"latency": worker}, answer))


# --- parallelism --------------------------------------------------------------------------------------------------


@case("parallelism", Expect("serial_calls", both(calls(ECHO), calls(SUM))), held_out=True)
async def un_serial_two_different_tools(env: Env) -> Run:
    """An echo, then a sum a turn later: neither needs the other."""
    agent = Agent(
        [[(ECHO, {"message": "start"})], [(SUM, {"a": 19, "b": 23})]],
        lambda chat: " | ".join(r.content for r in chat.ok),
    )
    return await single(env, "Echo start and add 19 and 23.", agent)


@case("parallelism", Expect("needless_dependency", agent_steps("worker:alerts")), held_out=True)
async def un_needless_dependency_on_the_clock(env: Env) -> Run:
    """The alert task waits for a clock reading it never uses."""

    def clock(chat: Chat) -> dict[str, Any]:
        return _cite(chat.last(NOW), "it is " + chat.last(NOW).json()["datetime"])

    def alerts(chat: Chat) -> dict[str, Any]:
        alert = first_alert(chat)
        return _cite(chat.last(ALERTS), f"{alert['id']}: {alert['summary']}")

    work = plan(("clock", [], [NOW], "read the clock"), ("alerts", ["clock"], [ALERTS], "list alerts"))
    orchestra = Orchestra(
        work, {"clock": Worker([[(NOW, {"timezone": "Etc/UTC"})]], clock), "alerts": Worker([[(ALERTS, {})]], alerts)}
    )
    return await orchestrated(env, "What is alerting, and when is it?", orchestra)


@case("parallelism", held_out=True)
async def un_clean_conversion_of_the_clock_reading(env: Env) -> Run:
    """The clock is read, then its time converted to Tokyo time: the second call takes the first's clock."""

    def convert(chat: Chat) -> list[Call]:
        now = chat.last(NOW).json()["datetime"]
        return [(CONVERT, {"source_timezone": "Etc/UTC", "time": now[11:16], "target_timezone": "Asia/Tokyo"})]

    def answer(chat: Chat) -> str:
        return "In Tokyo it is " + chat.last(CONVERT).json()["target"]["datetime"]

    return await single(
        env, "What time is it in Tokyo, by our clock?", Agent([[(NOW, {"timezone": "Etc/UTC"})], convert], answer)
    )


@case("parallelism", held_out=True)
async def un_clean_single_line_pages(env: Env) -> Run:
    """Three pages of one error line each, every page asked with the last one's cursor."""
    filters = {"level": "error", "limit": 1}

    def page(chat: Chat) -> list[Call]:
        pages = chat.of(LOGS)
        return [(LOGS, filters | ({"cursor": pages[-1].json()["next_cursor"]} if pages else {}))]

    def answer(chat: Chat) -> str:
        return "; ".join(f"{p.json()['logs'][0]['pod']} at {p.json()['logs'][0]['ts']}" for p in chat.of(LOGS))

    return await single(env, "Show the first three error lines.", Agent([page, page, page], answer))
