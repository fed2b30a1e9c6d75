"""Duplicate calls: the same question asked again (and the legitimate repeats that are not duplicates)."""

from __future__ import annotations

from aura_nb.agent.run import Run

from .case import Env, Expect, calls, case, orchestrated, single
from .script import Agent, Chat, Orchestra, Worker, plan
from .tools import ALERTS, CHANGES, COUNT, DEPENDENCIES, K8S, LINKS, LOGS, METRIC, NOW, first_alert


def _alert_and_deploy(chat: Chat) -> str:
    alert = first_alert(chat)
    deploy = next(c for c in chat.last(CHANGES).json()["changes"] if c["service"] == alert["service"])
    return f"{alert['name']} on {alert['service']} since {alert['starts_at']}; {deploy['summary']} at {deploy['ts']}."


@case("duplicate", Expect("duplicate_call", calls(ALERTS)))
async def dup_repeat_same_agent(env: Env) -> Run:
    """The agent asks for the firing alerts again a turn later; the loop's guard refuses the repeat."""
    agent = Agent([[(ALERTS, {}), (CHANGES, {})], [(ALERTS, {})]], _alert_and_deploy)
    return await single(env, "Why is the shop failing?", agent)


@case("duplicate", Expect("duplicate_call", calls(ALERTS)))
async def dup_default_argument(env: Env) -> Run:
    """A repeat that adds `state="firing"` (the tool's default): same output, not refused by the guard."""

    def metric(chat: Chat) -> list[tuple[str, dict[str, object]]]:
        alert = first_alert(chat)
        return [(METRIC, {"service": alert["service"], "metric": "error_rate", "start": alert["starts_at"]})]

    def answer(chat: Chat) -> str:
        last = chat.last(METRIC).json()["points"][-1]
        return _alert_and_deploy(chat) + f" Error rate still {last[1]} at {last[0]}."

    agent = Agent([[(ALERTS, {}), (CHANGES, {})], metric, [(ALERTS, {"state": "firing"})]], answer)
    return await single(env, "Why is the shop failing?", agent)


@case("duplicate", Expect("duplicate_call", calls(LOGS)))
async def dup_key_order(env: Env) -> Run:
    """The same log search with its arguments in another order."""
    first = {"service": "checkout", "level": "error", "limit": 3}
    again = {"limit": 3, "level": "error", "service": "checkout"}

    def answer(chat: Chat) -> str:
        line = chat.last(LOGS).json()["logs"][0]
        return f"checkout logs: {line['message']} (pod {line['pod']}, {line['ts']})"

    return await single(env, "What do checkout's error logs say?", Agent([[(LOGS, first)], [(LOGS, again)]], answer))


@case("duplicate", Expect("duplicate_call", calls(CHANGES)))
async def dup_two_workers(env: Env) -> Run:
    """Two workers each list the deploys with identical arguments."""
    both = plan(
        ("deploys", [], [CHANGES], "list recent deploys"),
        ("rollouts", [], [CHANGES, K8S], "check rollouts of recent deploys"),
    )
    deploys = {"kind": "deploy"}
    orchestra = Orchestra(
        both,
        {
            "deploys": Worker([[(CHANGES, deploys)]]),
            "rollouts": Worker([[(CHANGES, deploys), (K8S, {"service": "checkout", "type": "Normal"})]]),
        },
    )
    return await orchestrated(env, "Which deploy broke checkout?", orchestra)


@case("duplicate", Expect("duplicate_call", calls(LINKS)))
async def dup_schema_default_count(env: Env) -> Run:
    """server-everything's resource links asked for with no arguments, then again with `count=3`, its default."""

    def answer(chat: Chat) -> str:
        return "Resources: " + chat.of(LINKS)[0].content.split("\n", 1)[1] + f"; echo said {chat.ok[1].content}"

    agent = Agent([[(LINKS, {}), ("everything.echo", {"message": "resources?"})], [(LINKS, {"count": 3})]], answer)
    return await single(env, "Which demo resources does the server offer?", agent)


@case("duplicate")
async def clean_time_polls_in_two_workers(env: Env) -> Run:
    """The clock read before and after a long operation the question asks for: same call, different output."""
    chain = plan(
        ("before", [], [NOW], "read the clock before the operation"),
        ("operation", ["before"], ["everything.trigger-long-running-operation"], "run the long running operation"),
        ("after", ["operation"], [NOW], "read the clock after the operation"),
    )
    orchestra = Orchestra(
        chain,
        {
            "before": Worker([[(NOW, {"timezone": "Etc/UTC"})]]),
            "operation": Worker([[("everything.trigger-long-running-operation", {"duration": 1.2, "steps": 2})]]),
            "after": Worker([[(NOW, {"timezone": "Etc/UTC"})]]),
        },
    )
    return await orchestrated(env, "How long does the long running operation take by the clock?", orchestra)


@case("duplicate")
async def clean_counter_polled_by_two_workers(env: Env) -> Run:
    """Two workers read the same counter (a value that changes between reads): not a duplicate."""
    both = plan(("first", [], [COUNT], "read the queue counter"), ("second", [], [COUNT], "read the queue counter"))
    read = [(COUNT, {"label": "queue"})]
    orchestra = Orchestra(both, {"first": Worker([read]), "second": Worker([read])})
    return await orchestrated(env, "Is the queue counter moving?", orchestra)


@case("duplicate")
async def clean_paging_with_cursor(env: Env) -> Run:
    """The second page of a log search: same tool and filters, plus the cursor the first page returned."""
    filters = {"service": "checkout", "level": "error", "limit": 2}

    def next_page(chat: Chat) -> list[tuple[str, dict[str, object]]]:
        return [(LOGS, filters | {"cursor": chat.last(LOGS).json()["next_cursor"]})]

    def answer(chat: Chat) -> str:
        pods = [line["pod"] for page in chat.of(LOGS) for line in page.json()["logs"]]
        return f"Errors on pods {', '.join(pods)}: all PlaceOrder TypeErrors."

    return await single(env, "Which checkout pods log errors?", Agent([[(LOGS, filters)], next_page], answer))


@case("duplicate")
async def clean_same_tool_other_services(env: Env) -> Run:
    """The same tool for two services in one turn; one has nothing to report (an empty, negative result)."""

    def answer(chat: Chat) -> str:
        alert = first_alert(chat)
        return f"{alert['id']} {alert['name']} fires on {alert['service']} since {alert['starts_at']}; cart has none."

    agent = Agent([[(ALERTS, {"service": "checkout"}), (ALERTS, {"service": "cart"})]], answer)
    return await single(env, "Are checkout or cart alerting?", agent)


@case("duplicate", Expect("duplicate_call", calls(DEPENDENCIES)))
async def dup_null_argument_same_agent(env: Env) -> Run:
    """The dependency graph asked again with `service=null` (its default): the guard, keyed on the raw
    arguments, lets it run."""

    def answer(chat: Chat) -> str:
        edges = chat.of(DEPENDENCIES)[0].json()["edges"]
        wiring = "; ".join(f"{e['caller']} calls {e['callee']} on {e['port']}" for e in edges[:4])
        return f"{wiring}; {first_alert(chat)['id']} fires."

    agent = Agent([[(DEPENDENCIES, {}), (ALERTS, {})], [(DEPENDENCIES, {"service": None})]], answer)
    return await single(env, "How are the services wired?", agent)


@case("duplicate")
async def clean_non_default_argument_same_output(env: Env) -> Run:
    """The firing alerts and all alerts, in one turn: different questions (`state="all"` is not the default) that
    happen to return the same alerts."""

    def answer(chat: Chat) -> str:
        alert = first_alert(chat)
        return f"{alert['id']} ({alert['state']}) is the only alert, firing or resolved, since {alert['starts_at']}."

    agent = Agent([[(ALERTS, {}), (ALERTS, {"state": "all"})]], answer)
    return await single(env, "Has anything alerted, now or earlier?", agent)
