"""The mutable state a scenario is built in: the time grid, per-step health of every service, the fleet of
pods and versions, and the changes, Kubernetes events and extra log lines the faults and red herrings add."""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from random import Random
from typing import Any

from aura_nb.sandbox.records import Change, K8sEvent, LogRecord
from aura_nb.sandbox.topology import SERVICES, Call

STEP_SECONDS = 30
WINDOW_STEPS = 240  # two hours


@dataclass
class Health:
    """How one service behaves during one step; the defaults are a healthy service."""

    error: float = 0.0  # share of its requests failing for a reason of its own
    error_ops: frozenset[str] | None = None  # the operations `error` applies to (None: all)
    error_message: str = ""
    unreachable: float = 0.0  # share of calls that never reach it (refused, TLS failure, DNS ...)
    unreachable_message: Mapping[str, str] = field(default_factory=dict)  # by caller language, "*" default
    latency_mult: float = 1.0
    latency_add_ms: float = 0.0
    spread: float = 1.0  # widens the latency distribution (tail latency)
    extra_calls: tuple[tuple[str, Call, int], ...] = ()  # (operation, call, times per request)
    cpu_add: float = 0.0
    memory_mb: float | None = None
    disk_pct: float | None = None
    queue_depth: float | None = None
    down: bool = False  # not running: no metrics, no logs


@dataclass(frozen=True)
class Emitter:
    """Log lines a service writes at a steady rate during a range of steps."""

    service: str
    first_step: int
    last_step: int  # exclusive
    rate: float  # lines per second
    level: str
    template: str  # str.format template; see `fill`


@dataclass
class ReplicaSet:
    since: float
    version: str
    pods: list[str]


_NAME_CHARS = string.ascii_lowercase + string.digits


class _Fill(dict[str, str]):
    """Random values for the placeholders of a log template ({ip}, {port}, {order} ...)."""

    def __init__(self, rng: Random, fixed: Mapping[str, str]) -> None:
        super().__init__(fixed)
        self.rng = rng

    def __missing__(self, key: str) -> str:
        r = self.rng
        makers = {
            "ip": lambda: f"10.0.{r.randint(0, 7)}.{r.randint(2, 254)}",
            "port": lambda: str(r.randint(32768, 60999)),
            "pid": lambda: str(r.randint(200, 32000)),
            "product": lambda: str(r.randint(1000, 9999)),
            "order": lambda: "ord_" + "".join(r.choices(_NAME_CHARS, k=10)),
            "user": lambda: f"u_{r.randint(10000, 99999)}",
            "ms": lambda: str(r.randint(2, 900)),
            "slow": lambda: str(r.randint(5200, 14800)),
            "hex": lambda: f"{r.getrandbits(32):08x}",
            "n": lambda: str(r.randint(2, 9)),
            "amount": lambda: f"{r.uniform(5, 300):.2f}",
            "thread": lambda: str(r.randint(1, 64)),
            "erl": lambda: f"<0.{r.randint(300, 9000)}.0>",
        }
        if key not in makers:
            raise KeyError(key)
        return makers[key]()


def fill(template: str, rng: Random, **fixed: str) -> str:
    """`template` with its placeholders replaced by `fixed` values or random plausible ones."""
    return template.format_map(_Fill(rng, fixed))


def iso(ts: float) -> str:
    """Epoch seconds as ISO-8601 UTC with milliseconds."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _bump(version: str, rng: Random) -> str:
    major, minor, patch = (int(p) for p in version.split("."))
    return f"{major}.{minor + 1}.0" if rng.random() < 0.6 else f"{major}.{minor}.{patch + 1}"


class Incident:
    """A scenario under construction: faults and red herrings write into it, the simulator reads it."""

    def __init__(self, scenario: str, seed: int) -> None:
        self.rng = Random(f"{scenario}:{seed}:incident")
        self.step = STEP_SECONDS
        self.n_steps = WINDOW_STEPS
        day = datetime(2025, 3, 3, tzinfo=UTC).timestamp() + 86400 * self.rng.randint(0, 90)
        self.start = day + 3600 * self.rng.randint(7, 19) + 60 * self.rng.choice((0, 15, 30, 45))
        self.end = self.start + self.step * self.n_steps
        self.onset_step = self.rng.randint(110, 150)
        self.health: dict[str, list[Health]] = {name: [Health() for _ in range(self.n_steps)] for name in SERVICES}
        self.changes: list[Change] = []
        self.k8s_events: list[K8sEvent] = []
        self.emitters: list[Emitter] = []
        self.logs: list[LogRecord] = []  # explicit lines; an empty pod is chosen when rendering
        self.fleet: dict[str, list[ReplicaSet]] = {}
        for svc in SERVICES.values():
            if not svc.internal:
                continue
            if svc.app:
                version = f"{self.rng.randint(1, 4)}.{self.rng.randint(2, 30)}.{self.rng.randint(0, 9)}"
                self.fleet[svc.name] = [ReplicaSet(self.start - 86400 * 3, version, self._pod_names(svc.name))]
            else:
                self.fleet[svc.name] = [ReplicaSet(self.start - 86400 * 30, "", [f"{svc.name}-0"])]

    # --- time -------------------------------------------------------------------------------------------

    @property
    def onset(self) -> float:
        return self.ts(self.onset_step)

    def ts(self, step: int) -> float:
        return self.start + step * self.step

    def step_of(self, ts: float) -> int:
        return min(self.n_steps - 1, max(0, int((ts - self.start) // self.step)))

    def steps_from(self, service: str, first: int, last: int | None = None) -> Iterator[tuple[int, Health]]:
        """(step, health) of `service` for steps first..last (exclusive; default: to the end)."""
        grid = self.health[service]
        for i in range(max(0, first), min(self.n_steps, self.n_steps if last is None else last)):
            yield i, grid[i]

    # --- fleet --------------------------------------------------------------------------------------------

    def _pod_names(self, service: str) -> list[str]:
        rs = "".join(self.rng.choices(_NAME_CHARS, k=10))
        return [
            f"{service}-{rs}-{''.join(self.rng.choices(_NAME_CHARS, k=5))}" for _ in range(SERVICES[service].replicas)
        ]

    def replica_set(self, service: str, ts: float) -> ReplicaSet:
        current = self.fleet[service][0]
        for rs in self.fleet[service]:
            if rs.since <= ts:
                current = rs
        return current

    def version(self, service: str, ts: float) -> str:
        return self.replica_set(service, ts).version

    # --- what happened ------------------------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{self.rng.getrandbits(24):06x}"

    def change(
        self, ts: float, service: str | None, kind: str, summary: str, details: dict[str, Any], author: str = ""
    ) -> Change:
        author = author or self.rng.choice(("deploy-bot", "a.moreau", "j.okafor", "s.lindqvist", "r.tanaka"))
        change = Change(self.new_id("chg"), ts, service, kind, summary, author, details)
        self.changes.append(change)
        return change

    def event(self, ts: float, service: str | None, obj: str, type_: str, reason: str, message: str) -> None:
        self.k8s_events.append(K8sEvent(ts, service, obj, type_, reason, message))

    def log(self, ts: float, service: str, level: str, message: str, pod: str = "") -> None:
        self.logs.append(LogRecord(ts, service, pod, level, message))

    def emit(self, service: str, first_step: int, last_step: int, rate: float, level: str, template: str) -> None:
        self.emitters.append(Emitter(service, first_step, last_step, rate, level, template))

    def roll_out(self, ts: float, service: str, version: str) -> ReplicaSet:
        """Replace the service's pods by a new replica set at `ts` (Kubernetes events and start-up lines)."""
        old = self.replica_set(service, ts)
        new = ReplicaSet(ts, version, self._pod_names(service))
        self.fleet[service].append(new)
        self.fleet[service].sort(key=lambda rs: rs.since)
        rs_name = new.pods[0].rsplit("-", 1)[0]
        self.event(
            ts - 25,
            service,
            f"deployment/{service}",
            "Normal",
            "ScalingReplicaSet",
            f"Scaled up replica set {rs_name} to {len(new.pods)}",
        )
        for i, (old_pod, new_pod) in enumerate(zip(old.pods, new.pods, strict=True)):
            t = ts - 24 + 8 * i
            image = f"registry.internal/shop/{service}:{version}"
            self.event(
                t,
                service,
                f"pod/{new_pod}",
                "Normal",
                "Pulled",
                f'Container image "{image}" already present on machine',
            )
            self.event(t + 1, service, f"pod/{new_pod}", "Normal", "Started", f"Started container {service}")
            self.event(t + 6, service, f"pod/{old_pod}", "Normal", "Killing", f"Stopping container {service}")
            self.log(
                t + 2,
                service,
                "info",
                f"starting {service} {version} (pid 1) listening on :{SERVICES[service].port}",
                new_pod,
            )
            self.log(t + 6, service, "info", "received SIGTERM, draining connections", old_pod)
        return new

    def deploy(self, ts: float, service: str, author: str = "deploy-bot") -> Change:
        """A deploy of a new version of `service` that finished at `ts`."""
        old = self.version(service, ts)
        new = _bump(old, self.rng)
        self.roll_out(ts, service, new)
        pipeline = self.rng.randint(18000, 26000)
        return self.change(
            ts - 30,
            service,
            "deploy",
            f"deploy {service} {old} -> {new}",
            {
                "from_version": old,
                "to_version": new,
                "image": f"registry.internal/shop/{service}:{new}",
                "pipeline": pipeline,
            },
            author,
        )
