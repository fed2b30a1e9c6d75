"""Events round-trip through JSON lines losslessly; usage follows the Anthropic cache rule."""

from __future__ import annotations

import typing

from aura_nb.content import (
    ImageContent,
    Message,
    ModelResponse,
    TextBlock,
    TextContent,
    ToolResult,
    ToolResultBlock,
    ToolUseBlock,
    Usage,
)
from aura_nb.contracts import Clarification, Conclusion, Evidence, Plan, Task, TaskOutcome, TaskResult
from aura_nb.events import (
    EVENT_ADAPTER,
    AgentFinished,
    AgentStarted,
    Approval,
    ApprovalRequested,
    ChaosInjected,
    Control,
    ErrorEvent,
    Event,
    Fork,
    HarnessNote,
    Injection,
    Instruction,
    IterationFinished,
    IterationStarted,
    ModelCall,
    ModelDelta,
    PlanCreated,
    PlanEdited,
    Routed,
    RunFinished,
    RunStarted,
    ScratchpadExtracted,
    ScratchpadStored,
    TaskFinished,
    TaskStarted,
    ToolCall,
    ToolProgress,
    ToolStarted,
    UnknownEvent,
    event_from_json,
)

USAGE = Usage(input_tokens=11, output_tokens=7, cache_read_tokens=1000, cache_write_tokens=300, cost_usd=0.0123)
RESPONSE = ModelResponse(
    content=[TextBlock(text="checking"), ToolUseBlock(id="toolu_1", name="logs.search", input={"q": "ERROR", "n": 5})],
    stop_reason="tool_use",
    model="claude-x",
    usage=USAGE,
    retries=2,
    time_to_first_token=0.25,
)


def one_of_each() -> list[Event]:
    messages = [
        Message.user("why is checkout slow?"),
        Message(role="assistant", content=[ToolUseBlock(id="t1", name="a.b", input={"x": [1, 2, {"y": None}]})]),
        Message(role="user", content=[ToolResultBlock(tool_use_id="t1", content="ü ✓ \n\t", is_error=True)]),
    ]
    result = ToolResult(
        content=[TextContent(text="line\n" * 3), ImageContent(mime_type="image/png", ref="sp_0123456789ab", size=5)],
        structured={"rows": [{"a": 1.5, "b": "x"}]},
        is_error=False,
    )
    return [
        RunStarted(question="q ü", model="m", config={"limits": {"max_turns": 3}}, agent="run"),
        AgentStarted(role="worker", task_id="t-1", system="sys", messages=messages, tools=["a.b"]),
        PlanCreated(plan=Plan(tasks=[Task(id="t-1", goal="g")])),
        PlanEdited(plan=Plan(tasks=[Task(id="t-2", goal="h", worker="logs")], iteration=2), reason="analyst"),
        TaskStarted(task_id="t-1", goal="g", depends_on=["t-0"], iteration=2, worker="logs"),
        IterationStarted(iteration=2),
        Routed(iteration=1, route="plan", reason="the evidence task failed"),
        HarnessNote(reason="loop_guidance", text="[loop guard] …", call_id="toolu_1"),
        IterationFinished(iteration=2, finished=3, failed=1),
        ModelCall(
            provider="anthropic",
            model="m",
            turn=3,
            request_hash="abc",
            response=RESPONSE,
            usage=USAGE,
            retries=2,
            time_to_first_token=0.1,
            duration=1.25,
        ),
        ModelCall(provider="anthropic", model="m", error="overloaded after 4 retries", error_type="overloaded"),
        ToolCall(
            server="logs",
            tool="logs.search",
            call_id="toolu_1",
            arguments={"q": "ERROR"},
            result=result,
            result_ref="sp_0123456789ab",
            result_bytes=12345,
            intercepted=True,
            duration=0.5,
        ),
        ToolStarted(tool="logs.search", call_id="toolu_1", arguments={"q": "ERROR"}),
        ToolProgress(call_id="toolu_1", progress=3, total=10, message="scanning"),
        ChaosInjected(
            call_id="toolu_1",
            server="logs",
            tool="logs.search",
            injections=[Injection(fault="latency", rule="slow#0", detail={"delay_s": 1.5}), Injection(fault="hang")],
        ),
        ScratchpadStored(
            blob_id="sp_0123456789ab",
            call_id="toolu_1",
            size_bytes=5_000_000,
            lines=40_000,
            shape="log_lines",
            tokens=1_250_000,
            tokens_saved=1_249_000,
        ),
        ScratchpadExtracted(
            blob_id="sp_0123456789ab",
            tool="grep",
            arguments={"pattern": "OOM"},
            position={"lines": [[10, 20], [400, 410]]},
            tokens=321,
        ),
        ApprovalRequested(call_id="toolu_1", tool="k8s.restart", arguments={"pod": "p"}, reason="r", asked=["analyst"]),
        Approval(call_id="toolu_1", tool="k8s.restart", decision="denied", by="analyst", note="not now"),
        Fork(parent_run_id="r0", at_step=4, edits={"message": "look at the cache"}),
        Instruction(text="look at the cache first"),
        Control(action="pause"),
        ErrorEvent(message="server crashed", error_type="server_crashed", where="tool", recoverable=True),
        UnknownEvent(written_kind="tool_sampled", reason="kind 'tool_sampled' is not known", data={"rate": 0.5}),
        TaskFinished(
            task_id="t-1",
            outcome=TaskOutcome(
                status="failed",
                result=TaskResult(summary="s", confidence=0.4),
                error="turns",
                agent_status="max_turns",
            ),
        ),
        AgentFinished(status="answered", answer="a", turns=3, usage=USAGE),
        RunFinished(status="needs_input", clarification=Clarification(question="which shop?", options=["eu", "us"])),
        RunFinished(
            status="finished",
            answer="root cause: payment",
            usage=USAGE,
            conclusion=Conclusion(answer="payment", root_cause_service="payment", evidence=[Evidence(call_id="t1")]),
        ),
    ]


def test_every_event_kind_is_covered() -> None:
    union = typing.get_args(typing.get_args(Event)[0])
    kinds = {cls.model_fields["kind"].default for cls in union}
    covered = {e.kind for e in one_of_each()} | {"model_delta"}
    assert kinds == covered


def test_events_round_trip_through_json_lines() -> None:
    for seq, event in enumerate(one_of_each()):
        event.seq = seq
        event.run_id = "run-1"
        line = event.model_dump_json()
        assert "\n" not in line
        again = event_from_json(line)
        assert type(again) is type(event)
        assert again == event
        assert again.model_dump() == event.model_dump()


def test_image_bytes_stay_in_memory_and_only_the_reference_is_written() -> None:
    image = ImageContent(data="aGVsbG8=", mime_type="image/png", ref="sp_0123456789ab", size=5)
    call = ToolCall(tool="a.b", result=ToolResult(content=[image]))
    line = call.model_dump_json()
    assert "aGVsbG8=" not in line and "sp_0123456789ab" in line
    again = event_from_json(line)
    assert isinstance(again, ToolCall) and again.result is not None
    [stored] = again.result.images
    assert (stored.ref, stored.size, stored.data) == ("sp_0123456789ab", 5, "")
    inline_image = '{"type":"image","data":"aGVsbG8=","mime_type":"image/png"}'
    old = event_from_json('{"kind":"tool_call","tool":"a.b","result":{"content":[' + inline_image + "]}}")
    assert isinstance(old, ToolCall) and old.result is not None
    [inline] = old.result.images
    assert inline.byte_size == 5 and inline.data == "aGVsbG8="  # a log written before references still loads


def test_unknown_kind_is_rejected_with_the_kind_named() -> None:
    try:
        EVENT_ADAPTER.validate_json('{"kind": "telepathy", "run_id": "r"}')
    except Exception as exc:
        assert "telepathy" in str(exc)
    else:
        raise AssertionError("an unknown kind must not parse")


def test_delta_is_ephemeral_and_others_are_not() -> None:
    assert ModelDelta(text="x").ephemeral
    assert not any(e.ephemeral for e in one_of_each())


def test_usage_total_input_includes_cache_tokens() -> None:
    assert USAGE.total_input == 11 + 1000 + 300
    assert USAGE.total == USAGE.total_input + 7
    summed = USAGE + Usage(input_tokens=1, output_tokens=1)
    assert summed.total_input == USAGE.total_input + 1
    assert summed.cost_usd == USAGE.cost_usd
    assert (Usage() + Usage()).cost_usd is None
