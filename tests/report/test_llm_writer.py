"""The LLM writer over the real anthropic SDK against fakellm on loopback: its prose is kept only where the
citations hold — an uncited sentence is removed, a wrong or impossible citation flagged."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from llm_server import fakellm_server

from aura_nb.models.anthropic import AnthropicModel
from aura_nb.models.retry import RetryPolicy
from aura_nb.report import postmortem
from aura_nb.report.compose import material
from aura_nb.report.document import Paragraph, Sentence
from aura_nb.report.text import when
from aura_nb.trace.record import RunRecord

pytestmark = pytest.mark.slow


def _sentences(pm: object, key: str) -> list[Sentence]:
    section = pm.document.section(key)  # type: ignore[attr-defined]
    return [s for b in section.blocks if isinstance(b, Paragraph) for s in b.sentences]


def test_llm_prose_is_checked_against_the_run(demo_runs: dict[str, RunRecord]) -> None:
    record = demo_runs["bad_deploy"]
    made = material(record)
    trigger, alert = made.story.trigger, made.story.first_alert
    assert trigger is not None and trigger.id and alert is not None
    planner_turn = next(n for n, e in enumerate(made.facts.steps, start=1) if e.agent == "planner")
    reply = (
        "## Summary\n"
        f"The incident was triggered by change {trigger.id} on {trigger.service} [step {trigger.step}]. "
        f"The alert {alert.name} fired on {alert.service} [step {alert.step}].\n\n"
        "## Impact\n"
        f"{alert.service} raised {alert.name} from {when(alert.starts)[11:16]} on [step {alert.step}]. "
        "Customers were very unhappy about all of it.\n\n"
        "## Root cause and trigger\n"
        f"The root cause is the deploy {trigger.id} [step {planner_turn}].\n\n"
        "## Detection\n"
        f"Detection was by the alert {alert.name} [step {alert.step}]. "
        "An on-call engineer paged the team [step 9999].\n"
    )
    rules = [{"name": "postmortem", "when": {"turn": 1}, "respond": {"content": reply}}]
    with fakellm_server(rules) as url:
        model = AnthropicModel("claude-test", base_url=url, api_key="k", retry=RetryPolicy(base=0.01))
        pm = postmortem(record, model=model)

    summary = _sentences(pm, "summary")
    assert [s.flag for s in summary] == [None, None]  # both cite steps that show what they say
    assert summary[0].steps == (trigger.step,) and trigger.id in summary[0].text
    impact = _sentences(pm, "impact")
    assert len(impact) == 1 and impact[0].flag is None  # the uncited sentence is gone
    wrong = _sentences(pm, "root_cause")
    assert len(wrong) == 1 and wrong[0].flag is not None and trigger.id in wrong[0].flag  # the planted mistake
    detection = _sentences(pm, "detection")
    assert detection[0].flag is None and detection[1].flag == "the run has no step 9999"

    markdown = pm.markdown()
    assert "very unhappy" not in markdown
    assert "removed 1 uncited sentence" in markdown
    assert f"⚠ The root cause is the deploy {trigger.id}" in markdown
    writer = pm.provenance["writer"]
    assert "LLM writer (anthropic:claude-test)" in writer and "2 flagged, 1 removed" in writer
    assert pm.provenance["model"] == "offline-investigator"  # the run's model; the writer's is named apart
    # everything but the prose is the offline writer's
    offline = postmortem(record).document
    for key in ("timeline", "evidence", "ruled_out", "charts", "action_items", "resolution"):
        assert pm.document.section(key) == offline.section(key)


def test_a_failing_model_leaves_the_offline_prose(demo_runs: dict[str, RunRecord]) -> None:
    record = demo_runs["bad_deploy"]
    model = AnthropicModel("claude-test", base_url="http://127.0.0.1:9", api_key="k", retry=RetryPolicy(max_retries=0))
    pm = postmortem(record, model=model)
    assert pm.provenance["writer"].startswith("offline writer — the LLM writer (anthropic:claude-test) failed")
    assert pm.document.section("summary") == postmortem(record).document.section("summary")
