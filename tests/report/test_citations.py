"""The citation check on its own: sentences split with their citations, each held against the steps it cites."""

from __future__ import annotations

from aura_nb.content import ToolResult
from aura_nb.events import ToolCall
from aura_nb.report.citations import check, split

STEPS = [
    ToolCall(tool="ops.list_changes", result=ToolResult.of_text('{"id": "rel-42a", "ts": "2026-03-01T09:14:00Z"}')),
    ToolCall(tool="ops.error_rate", arguments={"service": "billing"}, result=ToolResult.of_text("[[1, 0.0912]]")),
    ToolCall(tool="ops.alerts", result=ToolResult.of_text("PaymentsDown on billing since 09:20")),
]
NAMES = ["billing", "ledger"]


def test_citations_before_or_after_the_full_stop_belong_to_their_sentence() -> None:
    text = "First claim [step 1]. Second claim. [steps 2, 3] Third [steps 1 and 3]!"
    assert split(text) == [("First claim.", (1,)), ("Second claim.", (2, 3)), ("Third!", (1, 3))]


def test_supported_claims_pass_and_wrong_ones_are_named() -> None:
    checked = check(
        "Release rel-42a went out at 09:14 [step 1]. "
        "The error rate of billing reached 9.1% [step 2]. "
        "Billing alerted [step 3]. "
        "The ledger failed at 09:14 [step 3]. "
        "Release rel-42a raised errors to 9.1% [step 1]. "
        "It was a bad day. "
        "See the dashboard [step 7].",
        STEPS,
        NAMES,
    )
    flags = [(s.text, s.flag) for s in checked.sentences]
    assert flags[:3] == [
        ("Release rel-42a went out at 09:14.", None),
        ("The error rate of billing reached 9.1%.", None),  # 0.0912 as a percentage, at the sentence's precision
        ("Billing alerted.", None),
    ]
    assert flags[3][1] == "step 3 does not show 09:14, ledger"
    assert flags[4][1] == "step 1 does not show 9.1"
    assert flags[5] == ("See the dashboard.", "the run has no step 7")
    assert checked.removed == 1 and checked.flagged == 3
