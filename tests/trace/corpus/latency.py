"""Slow steps: time spent on calls the question did not need, against slow calls that were the job."""

from __future__ import annotations

from aura_nb.agent.run import Run

from .case import Env, Expect, calls, case, orchestrated, single
from .script import Agent, Chat, Orchestra, Worker, plan
from .tools import ALERTS, CHANGES, DEPENDENCIES, K8S, LONG_OP, PROBE, SLOW, first_alert


def _everything(chat: Chat) -> str:
    return " | ".join(r.content for r in chat.ok)


@case("latency", Expect("slow_step", calls(LONG_OP)))
async def slow_unasked_operation(env: Env) -> Run:
    """A long-running demo operation nobody asked for, issued with three quick lookups."""
    turn = [
        (ALERTS, {}),
        (CHANGES, {"kind": "deploy"}),
        (DEPENDENCIES, {"service": "checkout"}),
        (LONG_OP, {"duration": 1.5, "steps": 3}),
    ]
    return await single(env, "Why is checkout failing?", Agent([turn], _everything))


@case("latency", Expect("slow_step", calls(PROBE)))
async def slow_probe_in_worker(env: Env) -> Run:
    """A worker probes with a 1.4 s delay where the probe needs none."""
    work = plan(
        ("alerts", [], [ALERTS, CHANGES], "what alerts and what changed"),
        ("health", [], [PROBE, DEPENDENCIES], "check the health of checkout's dependencies"),
    )
    orchestra = Orchestra(
        work,
        {
            "alerts": Worker([[(ALERTS, {}), (CHANGES, {"kind": "deploy"})]]),
            "health": Worker(
                [[(PROBE, {"label": "payment", "seconds": 1.4}), (DEPENDENCIES, {"service": "checkout"})]]
            ),
        },
    )
    return await orchestrated(env, "Why is checkout failing?", orchestra)


@case("latency")
async def clean_slow_tool_the_question_asks_for(env: Env) -> Run:
    """The question asks for the long running operation; it is slow because that is the job."""
    turn = [(LONG_OP, {"duration": 1.5, "steps": 3}), (ALERTS, {}), (CHANGES, {"kind": "deploy"})]

    def answer(chat: Chat) -> str:
        alert = first_alert(chat)
        deploy = chat.last(CHANGES).json()["changes"][-1]
        return f"{chat.last(LONG_OP).content} Meanwhile {alert['name']} fires, after {deploy['summary']}."

    question = "Run the long running operation for 1.5 seconds, then tell me what is alerting."
    return await single(env, question, Agent([turn], answer))


@case("latency")
async def clean_slow_only_tool_of_its_task(env: Env) -> Run:
    """A task whose only tool is a slow wait (no faster alternative), beside quick tasks."""
    work = plan(
        ("drain", [], [SLOW], "let the queue drain before measuring"),
        ("alerts", [], [ALERTS], "list the firing alerts"),
        ("deploys", [], [CHANGES], "list recent deploys"),
    )
    orchestra = Orchestra(
        work,
        {
            "drain": Worker([[(SLOW, {"seconds": 1.3})]]),
            "alerts": Worker([[(ALERTS, {})]]),
            "deploys": Worker([[(CHANGES, {"kind": "deploy"})]]),
        },
    )
    return await orchestrated(env, "Has the queue drained, and what is alerting?", orchestra)


@case("latency", Expect("slow_step", calls(SLOW)))
async def slow_wait_a_word_of_the_question_names(env: Env) -> Run:
    """A 1.6 s wait nobody asked for; the question's words ("slow", "wait") are not the tool's name."""

    def answer(chat: Chat) -> str:
        alert = first_alert(chat)
        event = chat.last(K8S).json()["events"][0]
        deploy = chat.last(CHANGES).json()["changes"][-1]["summary"]
        return f"{alert['summary']}; {chat.last(SLOW).content}; {deploy}; {event['object']} {event['reason']}"

    turn = [(ALERTS, {}), (CHANGES, {"kind": "deploy"}), (SLOW, {"seconds": 1.6}), (K8S, {"type": "Warning"})]
    return await single(env, "Why is checkout slow? Do not wait for the next deploy.", Agent([turn], answer))


@case("latency")
async def clean_every_call_equally_slow(env: Env) -> Run:
    """Three probes that each take 1.1 s: slow, but nothing stands out from the run's own calls."""
    turn = [(PROBE, {"label": f"zone-{z}", "seconds": 1.1}) for z in "abc"]
    return await single(env, "Probe the three zones.", Agent([turn], _everything))


@case("latency")
async def clean_slow_tool_described_in_other_words(env: Env) -> Run:
    """The question asks for "a long operation" in its own words (two of the tool's name words)."""
    turn = [(LONG_OP, {"duration": 1.4, "steps": 2}), (ALERTS, {}), (CHANGES, {"kind": "deploy"})]

    def answer(chat: Chat) -> str:
        deploy = chat.last(CHANGES).json()["changes"][-1]
        return f"{chat.last(LONG_OP).content} {first_alert(chat)['summary']}; last deploy: {deploy['summary']}."

    return await single(
        env, "Start a long operation on the demo server, then tell me what is alerting.", Agent([turn], answer)
    )


@case("latency", Expect("slow_step", calls(LONG_OP)))
async def slow_operation_one_name_word_in_question(env: Env) -> Run:
    """The question mentions an operation (one word of the tool's name); nothing asked for the demo operation."""
    turn = [(ALERTS, {}), (CHANGES, {"kind": "deploy"}), (LONG_OP, {"duration": 1.4, "steps": 2})]
    question = "Which operation fails on checkout?"
    return await single(env, question, Agent([turn], _everything))
