"""The simulator's invariants, checked on the DuckDB file as any client would read it: each fault's signature
is in the telemetry from the recorded onset on (and not before), red herrings are there, nothing names the
fault, and generation is seeded."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

import duckdb
import pytest

from aura_nb.sandbox import SandboxData, scenario_names
from aura_nb.sandbox.faults import FAULTS
from aura_nb.sandbox.herrings import add_background
from aura_nb.sandbox.incident import Incident, fill
from aura_nb.sandbox.messages import describe
from aura_nb.sandbox.model import ServiceState, evaluate
from aura_nb.sandbox.records import GroundTruth
from aura_nb.sandbox.simulate import UnknownScenario, simulate
from aura_nb.sandbox.topology import SERVICES, callers_of

STEP = timedelta(seconds=30)
TABLES = ("services", "dependencies", "metrics", "logs", "spans", "changes", "alerts", "k8s_events")


@dataclass
class Case:
    """One generated dataset, opened read-only, with its ground truth."""

    con: duckdb.DuckDBPyConnection
    truth: GroundTruth
    data: SandboxData

    @property
    def root(self) -> str:
        return self.truth.root_cause_service

    @property
    def onset(self) -> datetime:
        return datetime.fromisoformat(self.truth.onset).astimezone(UTC).replace(tzinfo=None)

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, list(params)).fetchall()

    def value(self, sql: str, *params: Any) -> Any:
        row = self.con.execute(sql, list(params)).fetchone()
        assert row is not None
        return row[0]

    def log_times(self, where: str, *params: Any) -> list[datetime]:
        return [ts for (ts,) in self.rows(f"SELECT ts FROM logs WHERE {where} ORDER BY ts", *params)]

    def mean(self, service: str, metric: str, start: datetime, end: datetime) -> float:
        value = self.value(
            "SELECT avg(value) FROM metrics WHERE service = ? AND metric = ? AND ts >= ? AND ts < ?",
            service,
            metric,
            start,
            end,
        )
        assert value is not None, f"no {metric} of {service} between {start} and {end}"
        return float(value)

    def before(self, service: str, metric: str) -> float:
        """Mean over the 30 minutes before the onset."""
        return self.mean(service, metric, self.onset - timedelta(minutes=30), self.onset)

    def after(self, service: str, metric: str) -> float:
        """Mean over minutes 2-12 after the onset."""
        return self.mean(service, metric, self.onset + timedelta(minutes=2), self.onset + timedelta(minutes=12))

    def callers(self) -> list[str]:
        return [caller for (caller,) in self.rows("SELECT caller FROM dependencies WHERE callee = ?", self.root)]

    def change(self, change_id: str | None) -> tuple[Any, ...]:
        rows = self.rows("SELECT id, ts, service, kind FROM changes WHERE id = ?", change_id)
        assert len(rows) == 1, f"change {change_id} not in the changes table"
        return rows[0]

    def assert_starts_at_onset(self, times: list[datetime], what: str, within: timedelta = STEP) -> None:
        """The signal exists, never before the onset, and first within one step (or `within`) of it."""
        assert times, f"no {what} at all"
        early = [t for t in times if t < self.onset]
        assert not early, f"{len(early)} {what} before the onset {self.onset}, first at {early[0]}"
        assert times[0] <= self.onset + within, f"first {what} at {times[0]}, over {within} after {self.onset}"

    def assert_triggered_by(self, kinds: tuple[str, ...]) -> None:
        _, ts, service, kind = self.change(self.truth.triggering_change_id)
        assert service == self.root and kind in kinds
        assert self.onset - timedelta(minutes=2) <= ts <= self.onset

    def assert_no_change_near_onset(self) -> None:
        near = self.rows(
            "SELECT id, ts FROM changes WHERE ts BETWEEN ? AND ?",
            self.onset - timedelta(minutes=10),
            self.onset + timedelta(minutes=5),
        )
        assert self.truth.triggering_change_id is None and not near


def _target(scenario: str, seed: int) -> str:
    return FAULTS[scenario].inject(Incident(scenario, seed)).root_cause_service


def _cases() -> list[tuple[str, int]]:
    """Seed 1 of every scenario, plus the first other seed whose fault hits another service."""
    cases = []
    for scenario in scenario_names():
        cases.append((scenario, 1))
        other = next((seed for seed in range(2, 20) if _target(scenario, seed) != _target(scenario, 1)), None)
        if other is not None:
            cases.append((scenario, other))
    return cases


@pytest.fixture(scope="module", params=_cases(), ids=str)
def case(request: pytest.FixtureRequest, dataset: Callable[[str, int], SandboxData]) -> Iterator[Case]:
    scenario, seed = request.param
    data = dataset(scenario, seed)
    con = duckdb.connect(str(data.db_path), read_only=True)
    yield Case(con, data.ground_truth, data)
    con.close()


# --- each fault's signature, as an SRE would look for it ------------------------------------------------


def bad_deploy(c: Case) -> None:
    c.assert_triggered_by(("deploy",))
    c.assert_starts_at_onset(c.log_times("service = ? AND level = 'error'", c.root), f"{c.root} errors")
    assert c.after(c.root, "error_rate") > 0.1 > 0.01 > c.before(c.root, "error_rate")


def n_plus_one(c: Case) -> None:
    c.assert_triggered_by(("deploy",))
    many = c.log_times("service = ? AND TRY_CAST(regexp_extract(message, 'db_queries=(\\d+)', 1) AS INT) >= 30", c.root)
    c.assert_starts_at_onset(many, f"{c.root} requests with 30+ queries")
    heavy = c.rows(
        """SELECT min(p.start_ts) FROM spans p JOIN spans q ON q.parent_span_id = p.span_id
           WHERE p.service = ? AND q.service = 'postgres' GROUP BY p.span_id HAVING count(*) >= 30 ORDER BY 1""",
        c.root,
    )
    # traces are sampled (about one request in 150), so the first such trace may take a few steps
    c.assert_starts_at_onset([ts for (ts,) in heavy], f"{c.root} spans with 30+ postgres children", 4 * STEP)
    assert c.after(c.root, "latency_p50_ms") > 2.5 * c.before(c.root, "latency_p50_ms")
    assert c.after("postgres", "request_rate") > 10 * c.before("postgres", "request_rate")


def memory_leak(c: Case) -> None:
    c.assert_triggered_by(("deploy",))
    kills = c.rows("SELECT ts FROM k8s_events WHERE service = ? AND reason = 'OOMKilled' ORDER BY ts", c.root)
    assert kills and kills[0][0] >= c.onset, "no OOMKilled event after the onset"
    assert not c.rows("SELECT ts FROM k8s_events WHERE reason = 'OOMKilled' AND service <> ?", c.root)
    low, high = c.rows(
        "SELECT min(value), max(value) FROM metrics WHERE service = ? AND metric = 'memory_mb' AND ts < ?",
        c.root,
        c.onset,
    )[0]
    assert high < 1.1 * low, "memory was already growing before the onset"
    grown = c.mean(c.root, "memory_mb", c.onset + timedelta(minutes=9), c.onset + timedelta(minutes=11))
    assert grown > 1.3 * c.before(c.root, "memory_mb")


def dependency_timeout(c: Case) -> None:
    c.assert_no_change_near_onset()
    callers = c.callers()
    where = f"service IN ({', '.join('?' * len(callers))}) AND level = 'error' AND message LIKE ?"
    c.assert_starts_at_onset(c.log_times(where, *callers, f"%{c.root}%"), f"errors calling {c.root}")
    assert c.after(c.root, "latency_p50_ms") > 10 * c.before(c.root, "latency_p50_ms")


def cache_failure(c: Case) -> None:
    _, ts, service, kind = c.change(c.truth.triggering_change_id)
    assert (service, kind) == (None, "infra") and c.onset - timedelta(minutes=2) <= ts <= c.onset
    last = c.value("SELECT max(ts) FROM metrics WHERE service = 'redis'")
    assert c.onset - STEP <= last < c.onset, "redis metrics should stop at the onset"
    refused = c.log_times("message ILIKE '%redis%6379%refused%'")
    c.assert_starts_at_onset(refused, "connection refused to redis")
    assert c.after("postgres", "connections") > 5 * c.before("postgres", "connections")


def cert_expired(c: Case) -> None:
    c.assert_no_change_near_onset()
    callers = c.callers()
    where = f"service IN ({', '.join('?' * len(callers))}) AND level = 'error' AND message ILIKE '%certificate%'"
    c.assert_starts_at_onset(c.log_times(where, *callers), f"certificate errors calling {c.root}")
    assert c.after(c.root, "request_rate") < 0.05 * c.before(c.root, "request_rate")


def disk_full(c: Case) -> None:
    involved = [c.root, *c.callers()]
    where = (
        f"service IN ({', '.join('?' * len(involved))}) AND (message ILIKE '%space left%' OR message ILIKE '%disk%')"
    )
    c.assert_starts_at_onset(c.log_times(where, *involved), f"lines about {c.root}'s disk")
    before, after = c.rows(
        "SELECT max(value) FILTER (WHERE ts < ?), min(value) FILTER (WHERE ts >= ?) FROM metrics "
        "WHERE service = ? AND metric = 'disk_used_pct'",
        c.onset,
        c.onset,
        c.root,
    )[0]
    assert before < 99.9 and after == 100.0


def bad_config(c: Case) -> None:
    c.assert_triggered_by(("config", "feature_flag"))
    c.assert_starts_at_onset(c.log_times("service = ? AND level = 'error'", c.root), f"{c.root} errors")
    assert c.after(c.root, "error_rate") > 0.1 > 0.01 > c.before(c.root, "error_rate")


SIGNATURES: dict[str, Callable[[Case], None]] = {
    f.__name__: f
    for f in (
        bad_deploy,
        n_plus_one,
        memory_leak,
        dependency_timeout,
        cache_failure,
        cert_expired,
        disk_full,
        bad_config,
    )
}


def test_every_fault_type_has_a_signature_check() -> None:
    assert sorted(SIGNATURES) == sorted(scenario_names())
    assert len(scenario_names()) >= 8


def _degraded(before: ServiceState, after: ServiceState) -> bool:
    health = after.health
    return (
        after.error_rate > before.error_rate + 0.05
        or after.p50 > 2 * before.p50
        or after.received < 0.5 * before.received
        or health.down
        or health.disk_pct == 100.0
        or (health.memory_mb is not None and before.health.memory_mb is None)
    )


@pytest.mark.parametrize(("scenario", "target"), [(name, t) for name, f in FAULTS.items() for t in f.targets])
def test_every_variant_of_every_fault_degrades_its_target_from_the_onset(scenario: str, target: str) -> None:
    incident = Incident(scenario, 1)
    add_background(incident)
    injection = FAULTS[scenario].inject_into(incident, target)
    assert injection.root_cause_service == target

    def state(step: int) -> dict[str, ServiceState]:
        return evaluate({name: incident.health[name][step] for name in SERVICES}, 1.0).services

    early, before, after = state(0), state(incident.onset_step - 1), state(incident.onset_step + 2)
    watched = [target, *callers_of(target)]
    assert not any(_degraded(early[s], before[s]) for s in watched), "degraded before the onset"
    assert any(_degraded(before[s], after[s]) for s in watched), f"{scenario} on {target} changed nothing"
    rng = Random(0)  # every line the fault makes services write can be rendered
    for op in evaluate({n: incident.health[n][incident.onset_step + 2] for n in SERVICES}, 1.0).ops.values():
        for _, failure in op.causes + op.tolerated:
            assert describe(op.op.service, failure, rng)
    assert all(fill(e.template, rng) for e in incident.emitters)


def test_fault_signature_starts_at_the_recorded_onset(case: Case) -> None:
    assert case.truth.fault_type == case.truth.scenario
    SIGNATURES[case.truth.fault_type](case)


def test_onset_lies_in_the_second_half_of_the_window(case: Case) -> None:
    start = datetime.fromisoformat(case.truth.window_start).replace(tzinfo=None)
    end = datetime.fromisoformat(case.truth.window_end).replace(tzinfo=None)
    assert start + (end - start) * 0.4 < case.onset < end - timedelta(minutes=30)
    assert case.value("SELECT min(ts) FROM metrics") == start
    assert (case.onset - start) % STEP == timedelta(0)


def test_red_herrings_are_present_and_plausible(case: Case) -> None:
    herrings = case.truth.red_herrings
    assert {h.kind for h in herrings} >= {"deploy", "feature_flag", "log"}
    for h in herrings:
        assert h.service != case.root
        if h.change_id is not None:
            _, ts, service, kind = case.change(h.change_id)
            assert (service, kind) == (h.service, h.kind)
            assert ts < case.onset - timedelta(minutes=10), "a red herring change should come well before the onset"
        else:
            counts = case.rows(
                "SELECT count(*) FILTER (WHERE ts < ?), count(*) FILTER (WHERE ts >= ?) FROM logs "
                "WHERE service = ? AND level = ? AND message LIKE ?",
                case.onset,
                case.onset,
                h.service,
                h.level,
                f"%{h.pattern}%",
            )[0]
            assert min(counts) >= 10, f"noisy line {h.pattern!r} should be there before and after the onset: {counts}"


def test_alerts_fire_after_the_onset_and_not_before(case: Case) -> None:
    starts = [ts for (ts,) in case.rows("SELECT starts_at FROM alerts ORDER BY starts_at")]
    assert starts and starts[0] >= case.onset
    assert starts[0] <= case.onset + timedelta(minutes=25)


def test_logs_traces_and_volume_are_realistic(case: Case) -> None:
    levels = dict(case.rows("SELECT level, count(*) FROM logs GROUP BY level"))
    assert set(levels) <= {"debug", "info", "warn", "error", "fatal"}
    assert 30_000 <= sum(levels.values()) <= 200_000
    frontend_bytes = case.value("SELECT sum(strlen(line) + 1) FROM logs WHERE service = 'frontend'")
    assert frontend_bytes > 3_000_000, "the frontend's raw log should be several megabytes"
    formats = case.rows("SELECT service, any_value(line) FROM logs WHERE level = 'info' GROUP BY service")
    assert len({_shape(line) for _, line in formats}) >= 5, "logs should come in several formats"
    orphans = case.value(
        "SELECT count(*) FROM spans s WHERE parent_span_id IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM spans p WHERE p.span_id = s.parent_span_id AND p.trace_id = s.trace_id)"
    )
    assert orphans == 0
    linked = case.value(
        "SELECT count(*) FROM logs l WHERE trace_id IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM spans s WHERE s.trace_id = l.trace_id)"
    )
    assert linked == 0, "a trace id in a log line must lead to a stored trace"


def _shape(line: str) -> str:
    return re.sub(r"[0-9a-z]+", "x", line[:12])


def test_nothing_a_tool_can_read_names_the_fault(case: Case, giveaway: re.Pattern[str]) -> None:
    for table in TABLES:
        columns = [
            c for c, t in case.rows(f"SELECT column_name, column_type FROM (DESCRIBE {table})") if t == "VARCHAR"
        ]
        for column in columns:
            hits = case.rows(
                f"SELECT {column} FROM {table} WHERE regexp_matches({column}, ?, 'i') LIMIT 3", giveaway.pattern
            )
            assert not hits, f"{table}.{column} gives the fault away: {hits}"


def _digest(db_path: Path) -> str:
    con = duckdb.connect(str(db_path), read_only=True)
    digest = hashlib.sha256()
    for table in TABLES:
        for row in con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall():
            digest.update(repr(row).encode())
    con.close()
    return digest.hexdigest()


@pytest.mark.slow
def test_same_seed_gives_identical_telemetry_in_another_process(
    dataset: Callable[[str, int], SandboxData], tmp_path: Path
) -> None:
    mine = dataset("cache_failure", 1)
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    cmd = [sys.executable, "-m", "aura_nb.sandbox", "generate", "--scenario", "cache_failure", "--seed", "1"]
    subprocess.run([*cmd, "--out", str(tmp_path)], check=True, env=env, capture_output=True, timeout=120)
    assert _digest(tmp_path / "telemetry.duckdb") == _digest(mine.db_path)
    assert (tmp_path / "ground_truth.json").read_text() == mine.ground_truth_path.read_text()


def test_different_seeds_give_different_incidents(dataset: Callable[[str, int], SandboxData]) -> None:
    one, two = dataset("bad_config", 1), dataset("bad_config", 2)
    assert _digest(one.db_path) != _digest(two.db_path)
    assert one.ground_truth.onset != two.ground_truth.onset


def test_generation_is_fast_and_reports_its_size(dataset: Callable[[str, int], SandboxData]) -> None:
    data = dataset("n_plus_one", 1)  # the biggest scenario: one postgres span per item
    assert data.seconds < 15
    assert data.rows["logs"] > 30_000 and data.rows["metrics"] > 10_000 and data.rows["spans"] > 5_000


def test_unknown_scenario_is_refused_with_the_known_names() -> None:
    with pytest.raises(UnknownScenario, match="bad_deploy") as info:
        simulate("meteor_strike", 1)
    assert "meteor_strike" in str(info.value)
