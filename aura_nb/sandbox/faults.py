"""The fault catalogue: each fault type perturbs a service's health from the onset on and adds the changes,
Kubernetes events and log lines an SRE would find. Nothing here is ever shown to a tool verbatim except the
telemetry it produces."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from aura_nb.sandbox.incident import Incident, iso
from aura_nb.sandbox.records import Change
from aura_nb.sandbox.topology import SERVICES, Call, callers_of


@dataclass
class Injection:
    """What a fault did, for the ground truth."""

    root_cause_service: str
    trigger: Change | None
    summary: str
    evidence: list[str]
    parameters: dict[str, Any] = field(default_factory=dict)


class Fault(ABC):
    """One fault type."""

    name: ClassVar[str]
    description: ClassVar[str]
    targets: ClassVar[tuple[str, ...]]

    def inject(self, incident: Incident) -> Injection:
        """Choose a target (seeded) and perturb the incident from its onset on."""
        return self.inject_into(incident, incident.rng.choice(self.targets))

    @abstractmethod
    def inject_into(self, incident: Incident, target: str) -> Injection: ...


def _ramp(incident: Incident, service: str, steps: int = 1, **values: Any) -> None:
    """Set health fields of `service` from the onset on (numeric values reached over `steps` steps)."""
    grid = incident.health[service]
    for i, h in incident.steps_from(service, incident.onset_step):
        k = min(1.0, (i - incident.onset_step + 1) / steps)
        scaled = {
            key: (getattr(h, key) + (v - getattr(h, key)) * k if isinstance(v, float) else v)
            for key, v in values.items()
        }
        grid[i] = replace(h, **scaled)


class BadDeploy(Fault):
    name = "bad_deploy"
    description = "a deploy introduces a bug: a share of the service's requests fail from the rollout on"
    targets = ("checkout", "cart", "catalog", "payment")
    ERRORS: ClassVar[dict[str, str]] = {
        "checkout": "TypeError: unsupported operand type(s) for +: 'decimal.Decimal' and 'NoneType' "
        "(pricing/discounts.py:142 in apply_discounts)",
        "cart": "KeyError: 'sku' (cart/serializers.py:88 in serialize_line) for user {user}",
        "catalog": 'java.lang.NullPointerException: Cannot invoke "com.shop.catalog.model.Price.amount()" '
        'because "product.price" is null (product {product})',
        "payment": "panic recovered: runtime error: invalid memory address or nil pointer dereference "
        "(internal/charge/charge.go:214)",
    }

    def inject_into(self, incident: Incident, target: str) -> Injection:
        deploy = incident.deploy(incident.onset, target)
        share = round(incident.rng.uniform(0.25, 0.45), 3)
        _ramp(incident, target, error=share, error_message=self.ERRORS[target])
        return Injection(
            target,
            deploy,
            f"{deploy.summary} ships a bug; about {share:.0%} of {target} requests fail from the rollout on",
            [f"{target} errors: {self.ERRORS[target]}", f"change {deploy.id}: {deploy.summary} just before onset"],
            {"target": target, "error_share": share},
        )


class NPlusOne(Fault):
    name = "n_plus_one"
    description = "a deploy makes a list endpoint query the database once per item: latency and query load jump"
    targets = ("catalog", "checkout")
    QUERIES: ClassVar[dict[str, tuple[str, str]]] = {
        "catalog": ("ListProducts", "SELECT product_variants"),
        "checkout": ("PlaceOrder", "SELECT order_line_prices"),
    }

    def inject_into(self, incident: Incident, target: str) -> Injection:
        deploy = incident.deploy(incident.onset, target)
        operation, query = self.QUERIES[target]
        per_request = incident.rng.randint(90, 140)
        extra = ((operation, Call("postgres", query, timeout_ms=2000.0), per_request),)
        _ramp(incident, target, extra_calls=extra, latency_add_ms=per_request * 3.0, spread=1.25, cpu_add=14.0)
        return Injection(
            target,
            deploy,
            f"{deploy.summary} runs one '{query}' per item in {operation} (~{per_request} queries per request)",
            [
                f"{target} {operation} latency up several-fold from the deploy on",
                f"traces of {operation} hold ~{per_request} postgres spans; request logs show db_queries~{per_request}",
                "postgres request rate up by an order of magnitude",
            ],
            {"target": target, "operation": operation, "queries_per_request": per_request},
        )


class MemoryLeak(Fault):
    name = "memory_leak"
    description = "a deploy leaks memory: pods grow until the kernel kills them (OOMKilled) and restart"
    targets = ("cart", "checkout", "catalog", "payment")

    def inject_into(self, incident: Incident, target: str) -> Injection:
        svc = SERVICES[target]
        deploy = incident.deploy(incident.onset, target)
        pods = incident.replica_set(target, incident.onset).pods
        minutes = [incident.rng.uniform(12.0, 20.0) for _ in pods]
        born = [incident.onset - incident.rng.uniform(0, 60) for _ in pods]
        restarts = [0] * len(pods)
        oom_kills = 0
        restarting = 0.0  # share of pods still coming back from a kill in the previous step
        for i, h in incident.steps_from(target, incident.onset_step):
            t = incident.ts(i)
            memory: list[float] = []
            down, restarting = restarting, 0.0
            for p, pod in enumerate(pods):
                growth = (svc.memory_limit_mb - svc.memory_mb) / (minutes[p] * 60.0)
                used = svc.memory_mb + growth * (t - born[p])
                if used >= svc.memory_limit_mb:
                    restarts[p] += 1
                    oom_kills += 1
                    kill = t + incident.rng.uniform(0, incident.step)
                    self._oom(incident, target, pod, kill, restarts[p])
                    born[p] = kill + 8.0
                    used = svc.memory_mb * 0.8
                    down += 1.0 / len(pods)
                    restarting += 0.6 / len(pods)
                memory.append(min(used, svc.memory_limit_mb))
            fullness = sum(memory) / len(memory) / svc.memory_limit_mb
            pressure = max(0.0, fullness - 0.7) / 0.3
            incident.health[target][i] = replace(
                h,
                memory_mb=sum(memory) / len(memory),
                latency_mult=1.0 + 2.5 * pressure,
                spread=1.0 + 0.6 * pressure,
                cpu_add=30.0 * pressure,
                unreachable=min(1.0, down),
            )
            if svc.language == "java" and pressure > 0.5:
                incident.emit(
                    target, i, i + 1, 0.2, "warn", "GC overhead {ms}ms in the last second; heap usage above 90%"
                )
        return Injection(
            target,
            deploy,
            f"{deploy.summary} leaks memory; pods are OOMKilled and restart ({oom_kills} kills in the window)",
            [
                f"{target} memory grows steadily from the deploy on, then drops at each restart",
                f"Kubernetes events: {target} pods OOMKilled (exit code 137)",
                f"callers see connection refused from {target} during restarts",
            ],
            {"target": target, "minutes_to_oom": [round(m, 1) for m in minutes], "oom_kills": oom_kills},
        )

    @staticmethod
    def _oom(incident: Incident, service: str, pod: str, ts: float, count: int) -> None:
        limit = SERVICES[service].memory_limit_mb
        incident.event(
            ts,
            service,
            f"pod/{pod}",
            "Warning",
            "OOMKilled",
            f"Container {service} was OOMKilled (exit code 137, memory limit {limit:.0f}Mi); restart count {count}",
        )
        incident.event(
            ts + 2, service, f"pod/{pod}", "Warning", "BackOff", f"Back-off restarting failed container {service}"
        )
        incident.event(ts + 9, service, f"pod/{pod}", "Normal", "Started", f"Started container {service}")
        version = incident.version(service, ts)
        incident.log(
            ts + 10,
            service,
            "info",
            f"starting {service} {version} (pid 1) listening on :{SERVICES[service].port}",
            pod,
        )


class DependencyTimeout(Fault):
    name = "dependency_timeout"
    description = "an external API the service depends on becomes very slow: calls time out up the graph"
    targets = ("payment", "catalog")
    UPSTREAMS: ClassVar[dict[str, str]] = {"payment": "psp.example.net", "catalog": "reviews.partner.example"}
    SLOW_LOG: ClassVar[dict[str, str]] = {
        "payment": "upstream psp.example.net slow: POST /v1/charges took {slow}ms (p99 budget 1500ms)",
        "catalog": "reviews.partner.example GET /v2/reviews still pending after 2500ms; cancelling",
    }
    SLOWDOWN: ClassVar[dict[str, tuple[float, float]]] = {"payment": (40.0, 60.0), "catalog": (110.0, 160.0)}

    def inject_into(self, incident: Incident, target: str) -> Injection:
        upstream = self.UPSTREAMS[target]
        factor = incident.rng.uniform(*self.SLOWDOWN[target])
        _ramp(incident, upstream, steps=2, latency_mult=factor, spread=1.3)
        incident.emit(target, incident.onset_step, incident.n_steps, 0.25, "warn", self.SLOW_LOG[target])
        return Injection(
            target,
            None,
            f"{upstream} (called by {target}) slows down ~{factor:.0f}x; calls to {target} time out",
            [
                f"{target} latency rises to seconds; it logs slow responses from {upstream}",
                f"{', '.join(callers_of(target))} log timeouts calling {target}",
                "no change near the onset",
            ],
            {"target": target, "upstream": upstream, "slowdown": round(factor, 1)},
        )


class CacheFailure(Fault):
    name = "cache_failure"
    description = "the cache goes away: its clients fail or fall back to the database, which overloads"
    targets = ("redis",)
    REFUSED: ClassVar[dict[str, str]] = {
        "python": "redis.exceptions.ConnectionError: Error 111 connecting to redis:6379. Connection refused.",
        "java": "io.lettuce.core.RedisConnectionException: Unable to connect to redis/10.96.14.7:6379: "
        "Connection refused",
        "*": "connection refused redis:6379",
    }

    def inject_into(self, incident: Incident, target: str) -> Injection:
        node = f"ip-10-0-3-{incident.rng.randint(10, 250)}.ec2.internal"
        drain = incident.change(
            incident.onset - 40,
            None,
            "infra",
            f"drain node {node} (node pool cache-pool) for kernel upgrade",
            {"node": node, "action": "drain", "node_pool": "cache-pool"},
            author="platform-automation",
        )
        incident.event(
            incident.onset - 35,
            None,
            f"node/{node}",
            "Normal",
            "NodeNotSchedulable",
            f"Node {node} status is now: NodeNotSchedulable",
        )
        incident.event(incident.onset - 5, target, "pod/redis-0", "Normal", "Killing", "Stopping container redis")
        for line in (
            "# Received SIGTERM scheduling shutdown...",
            "* User requested shutdown...",
            "* Saving the final RDB snapshot before exiting.",
            "# Redis is now ready to exit, bye bye...",
        ):
            incident.log(
                incident.onset - 5, target, "warn" if line.startswith("#") else "info", line.lstrip("#* "), "redis-0"
            )
        for i in range(incident.onset_step, incident.n_steps, 10):
            incident.event(
                incident.ts(i) + 3,
                target,
                "pod/redis-0",
                "Warning",
                "FailedScheduling",
                "0/6 nodes are available: 1 node(s) were unschedulable, 5 Insufficient memory. "
                "preemption: 0/6 nodes are available: 6 No preemption victims found for incoming pod.",
            )
        _ramp(incident, target, down=True, unreachable=1.0, unreachable_message=self.REFUSED)
        return Injection(
            target,
            drain,
            "redis-0 was evicted by a node drain and cannot be rescheduled; carts fail and the catalog "
            "falls back to postgres, which runs out of connections",
            [
                "cart and catalog log connection refused to redis:6379",
                "redis metrics stop (target down); FailedScheduling events for redis-0",
                "postgres connections at the limit, latency up; 'too many clients' errors",
            ],
            {"target": target, "node": node},
        )


class CertExpired(Fault):
    name = "cert_expired"
    description = "the service's TLS certificate passes its expiry: every client handshake fails"
    targets = ("payment", "catalog", "cart")
    CLIENT: ClassVar[dict[str, str]] = {
        "node": "Error: certificate has expired (code CERT_HAS_EXPIRED) connecting to {callee}:{cport}",
        "python": "httpx.ConnectError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
        "certificate has expired (_ssl.c:1006) connecting to {callee}:{cport}",
        "go": 'rpc error: code = Unavailable desc = connection error: desc = "transport: authentication handshake '
        'failed: tls: failed to verify certificate: x509: certificate has expired or is not yet valid" ({callee})',
        "java": "javax.net.ssl.SSLHandshakeException: PKIX path validation failed: "
        "java.security.cert.CertPathValidatorException: validity check failed ({callee}:{cport})",
    }
    SERVER: ClassVar[dict[str, str]] = {
        "go": "http: TLS handshake error from {ip}:{port}: remote error: tls: bad certificate",
        "java": "javax.net.ssl.SSLHandshakeException: Received fatal alert: certificate_unknown from /{ip}:{port}",
        "python": "ssl.SSLError: [SSL: SSLV3_ALERT_CERTIFICATE_UNKNOWN] sslv3 alert certificate unknown "
        "(_ssl.c:2580) from {ip}:{port}",
    }

    def inject_into(self, incident: Incident, target: str) -> Injection:
        _ramp(incident, target, unreachable=1.0, unreachable_message=self.CLIENT)
        server_line = self.SERVER[SERVICES[target].language]
        incident.emit(target, incident.onset_step, incident.n_steps, 0.6, "warn", server_line)
        not_after = iso(incident.onset)
        return Injection(
            target,
            None,
            f"the TLS certificate of {target} expired at {not_after}; clients reject every handshake",
            [
                f"{', '.join(callers_of(target))} log certificate verification failures calling {target}",
                f"{target} request rate drops to ~0 while it logs TLS handshake errors",
                "no change near the onset",
            ],
            {"target": target, "not_after": not_after},
        )


class DiskFull(Fault):
    name = "disk_full"
    description = "a stateful service's volume fills up: writes fail from the moment it is full"
    targets = ("postgres", "queue")

    def inject_into(self, incident: Incident, target: str) -> Injection:
        start_pct = incident.rng.uniform(86.0, 90.0) if target == "postgres" else incident.rng.uniform(38.0, 45.0)
        growth_from = 0 if target == "postgres" else incident.onset_step - incident.rng.randint(90, 110)
        for i, h in incident.steps_from(target, 0):
            k = min(1.0, max(0.0, (i - growth_from) / (incident.onset_step - growth_from)))
            pct = 100.0 if i >= incident.onset_step else start_pct + (99.5 - start_pct) * k
            depth = 20.0 + 1_400_000.0 * k if target == "queue" else None
            incident.health[target][i] = replace(h, disk_pct=pct, queue_depth=depth)
        if target == "postgres":
            return self._postgres(incident)
        return self._queue(incident)

    @staticmethod
    def _postgres(incident: Incident) -> Injection:
        relation = incident.rng.randint(16400, 24999)
        message = f'could not extend file "base/16384/{relation}": No space left on device'
        _ramp(
            incident,
            "postgres",
            error=1.0,
            error_ops=frozenset({"INSERT orders", "INSERT payments"}),
            error_message=message,
        )
        incident.emit(
            "postgres",
            incident.onset_step,
            incident.n_steps,
            0.08,
            "error",
            'could not write to file "pg_wal/xlogtemp.{pid}": No space left on device',
        )
        incident.emit("postgres", incident.onset_step, incident.n_steps, 0.02, "error", "checkpoint request failed")
        return Injection(
            "postgres",
            None,
            "the postgres data volume filled up (WAL kept by an inactive replication slot); every write fails",
            [
                "postgres logs 'No space left on device' on INSERTs and WAL writes",
                "checkout and payment fail writing orders and payments",
                "postgres disk_used_pct reaches 100% at the onset",
            ],
            {"target": "postgres", "relation": relation},
        )

    @staticmethod
    def _queue(incident: Incident) -> Injection:
        _ramp(incident, "queue", latency_add_ms=60000.0)
        node = "rabbit@queue-0"
        t = incident.onset + 1
        incident.log(
            t, "queue", "warn", "Free disk space is insufficient. Free bytes: 48234496. Limit: 50000000", "queue-0"
        )
        incident.log(t, "queue", "warn", f"disk resource limit alarm set on node '{node}'.", "queue-0")
        incident.log(t, "queue", "warn", "Publishers will be blocked until this alarm clears", "queue-0")
        incident.emit(
            "queue",
            incident.onset_step,
            incident.n_steps,
            0.1,
            "warn",
            "connection {erl} ({ip}:{port} -> 10.0.4.3:5672) is blocked by resource alarm: disk",
        )
        incident.emit(
            "checkout",
            incident.onset_step,
            incident.n_steps,
            0.15,
            "warn",
            "AMQP connection blocked by broker: low on disk; publish of orders.created waiting",
        )
        return Injection(
            "queue",
            None,
            "the queue's disk filled up behind a stuck consumer; the broker blocks publishers and checkout times out",
            [
                "queue logs the disk alarm and blocks publishers",
                "checkout publish calls time out; orders fail",
                "queue depth grew for the hour before; disk_used_pct reaches 100% at the onset",
            ],
            {"target": "queue", "node": node},
        )


@dataclass(frozen=True)
class _Misconfig:
    service: str
    kind: str  # config | feature_flag
    key: str
    old: str
    new: str
    error: float
    message: str
    operations: frozenset[str] | None = None


class BadConfig(Fault):
    name = "bad_config"
    description = "a configuration change or feature flag breaks the service from the moment it applies"
    VARIANTS: ClassVar[tuple[_Misconfig, ...]] = (
        _Misconfig(
            "checkout",
            "feature_flag",
            "checkout.tax_engine_v2",
            "off",
            "on",
            0.4,
            "TaxCalculationError: no tax rule for region 'DE' in ruleset 2025-02 (order {order})",
            frozenset({"PlaceOrder"}),
        ),
        _Misconfig(
            "payment",
            "config",
            "PSP_TIMEOUT_MS",
            "8000",
            "80",
            0.9,
            'Post "https://psp.example.net/v1/charges": context deadline exceeded '
            "(Client.Timeout exceeded while awaiting headers) timeout=80ms",
        ),
        _Misconfig(
            "cart",
            "config",
            "REDIS_URL",
            "redis://redis:6379/0",
            "redis://redis-cart:6379/0",
            1.0,
            "redis.exceptions.ConnectionError: Error -2 connecting to redis-cart:6379. Name or service not known.",
        ),
        _Misconfig(
            "catalog",
            "feature_flag",
            "catalog.price_display_v2",
            "off",
            "on",
            0.3,
            "java.lang.IllegalArgumentException: Unknown currency code 'EURO' (PriceFormatter.java:57)",
            frozenset({"GetProduct"}),
        ),
    )
    targets = tuple(v.service for v in VARIANTS)

    def inject_into(self, incident: Incident, target: str) -> Injection:
        variant = next(v for v in self.VARIANTS if v.service == target)
        ts = incident.onset - incident.rng.randint(10, 40)
        verb = "set" if variant.kind == "config" else "turn"
        change = incident.change(
            ts,
            target,
            variant.kind,
            f"{target}: {verb} {variant.key} {variant.old} -> {variant.new}",
            {"key": variant.key, "old": variant.old, "new": variant.new}
            | ({"rollout": "100%"} if variant.kind == "feature_flag" else {"configmap": f"{target}-config"}),
        )
        if variant.kind == "config":
            incident.roll_out(incident.onset, target, incident.version(target, ts))
        _ramp(incident, target, error=variant.error, error_ops=variant.operations, error_message=variant.message)
        return Injection(
            target,
            change,
            f"{change.summary} breaks {target}: {variant.error:.0%} of its requests fail",
            [f"{target} errors: {variant.message}", f"change {change.id}: {change.summary} just before onset"],
            {"target": target, "key": variant.key, "kind": variant.kind},
        )


FAULTS: dict[str, Fault] = {
    f.name: f
    for f in (
        BadDeploy(),
        NPlusOne(),
        MemoryLeak(),
        DependencyTimeout(),
        CacheFailure(),
        CertExpired(),
        DiskFull(),
        BadConfig(),
    )
}
