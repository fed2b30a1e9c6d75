"""The simulated shop: its services, what each operation calls, and the dependency graph derived from that."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Service:
    """One service of the shop (or an external endpoint it calls)."""

    name: str
    kind: str  # web | api | database | cache | queue | external
    language: str  # node | python | go | java | postgres | redis | rabbitmq ("" for external)
    port: int
    protocol: str  # how callers talk to it
    replicas: int = 1
    cpu_pct: float = 0.0  # CPU use at baseline load, % of the limit
    memory_mb: float = 0.0  # resident memory at baseline
    memory_limit_mb: float = 0.0
    log_rate: float = 0.0  # request log lines per second at baseline traffic
    capacity: float = 0.0  # databases: busy-seconds per second they can serve
    max_connections: int = 0  # databases: server-side connection limit
    disk_pct: float | None = None  # stateful services: volume use at the window start
    description: str = ""

    @property
    def internal(self) -> bool:
        return self.kind != "external"

    @property
    def app(self) -> bool:
        """An application service (deployed by the team, with versions)."""
        return self.kind in ("web", "api")


@dataclass(frozen=True)
class Call:
    """One downstream call made while serving an operation."""

    service: str
    operation: str
    probability: float = 1.0
    timeout_ms: float = 3000.0
    cached_by: str | None = None  # made only on a miss of this cache (always when the cache is unreachable)
    optional: bool = False  # a failure is logged and tolerated, not propagated


@dataclass(frozen=True)
class Operation:
    """An operation a service serves: its own processing time and its downstream calls."""

    service: str
    name: str
    own_ms: float
    calls: tuple[Call, ...] = ()
    write: bool = False  # databases: the operation writes to disk


SERVICES: dict[str, Service] = {
    s.name: s
    for s in (
        Service(
            "frontend",
            "web",
            "node",
            8080,
            "http",
            cpu_pct=31.0,
            memory_mb=410.0,
            log_rate=4.5,
            description="storefront web server (server-side rendering, API gateway)",
            replicas=3,
            memory_limit_mb=1024.0,
        ),
        Service(
            "checkout",
            "api",
            "python",
            8080,
            "http",
            cpu_pct=18.0,
            memory_mb=330.0,
            log_rate=0.6,
            description="places orders: cart, payment, order record, order event",
            replicas=3,
            memory_limit_mb=1024.0,
        ),
        Service(
            "payment",
            "api",
            "go",
            9090,
            "grpc",
            cpu_pct=12.0,
            memory_mb=120.0,
            log_rate=0.5,
            replicas=2,
            memory_limit_mb=512.0,
            description="charges cards through the payment provider",
        ),
        Service(
            "cart",
            "api",
            "python",
            8080,
            "grpc",
            cpu_pct=22.0,
            memory_mb=290.0,
            log_rate=0.8,
            description="shopping carts, kept in the cache",
            replicas=3,
            memory_limit_mb=1024.0,
        ),
        Service(
            "catalog",
            "api",
            "java",
            8080,
            "http",
            cpu_pct=27.0,
            memory_mb=640.0,
            log_rate=1.2,
            description="products, prices and reviews",
            replicas=3,
            memory_limit_mb=1024.0,
        ),
        Service(
            "postgres",
            "database",
            "postgres",
            5432,
            "postgresql",
            cpu_pct=14.0,
            memory_mb=3100.0,
            memory_limit_mb=8192.0,
            log_rate=0.15,
            capacity=0.9,
            max_connections=100,
            disk_pct=61.0,
            description="PostgreSQL 15 primary (orders, payments, products)",
        ),
        Service(
            "redis",
            "cache",
            "redis",
            6379,
            "redis",
            cpu_pct=6.0,
            memory_mb=900.0,
            memory_limit_mb=2048.0,
            disk_pct=23.0,
            description="Redis 7 (product cache, carts)",
        ),
        Service(
            "queue",
            "queue",
            "rabbitmq",
            5672,
            "amqp",
            cpu_pct=9.0,
            memory_mb=450.0,
            memory_limit_mb=2048.0,
            disk_pct=34.0,
            description="RabbitMQ 3.12 (order events)",
        ),
        Service("psp.example.net", "external", "", 443, "https", description="external payment provider API"),
        Service("reviews.partner.example", "external", "", 443, "https", description="external reviews API"),
    )
}

FRONTEND_RPS = 60.0

# Traffic share of each frontend operation.
ENTRYPOINTS: tuple[tuple[str, float], ...] = (
    ("GET /", 0.30),
    ("GET /product/{id}", 0.35),
    ("GET /cart", 0.15),
    ("POST /cart/items", 0.12),
    ("POST /checkout", 0.08),
)


def _op(service: str, name: str, own_ms: float, *calls: Call, write: bool = False) -> Operation:
    return Operation(service, name, own_ms, calls, write)


OPERATIONS: dict[tuple[str, str], Operation] = {
    (o.service, o.name): o
    for o in (
        _op("frontend", "GET /", 9.0, Call("catalog", "ListProducts")),
        _op(
            "frontend",
            "GET /product/{id}",
            7.0,
            Call("catalog", "GetProduct"),
            Call("cart", "GetCart", probability=0.5, timeout_ms=1000.0),
        ),
        _op("frontend", "GET /cart", 5.0, Call("cart", "GetCart", timeout_ms=1000.0)),
        _op("frontend", "POST /cart/items", 6.0, Call("cart", "AddItem", timeout_ms=2000.0)),
        _op("frontend", "POST /checkout", 8.0, Call("checkout", "PlaceOrder", timeout_ms=10000.0)),
        _op(
            "catalog",
            "ListProducts",
            5.0,
            Call("redis", "GET", timeout_ms=200.0, optional=True),
            Call("postgres", "SELECT products", probability=0.1, timeout_ms=2000.0, cached_by="redis"),
        ),
        _op(
            "catalog",
            "GetProduct",
            3.0,
            Call("redis", "GET", timeout_ms=200.0, optional=True),
            Call("postgres", "SELECT product", probability=0.15, timeout_ms=2000.0, cached_by="redis"),
            Call("reviews.partner.example", "GET /v2/reviews", probability=0.4, timeout_ms=2500.0),
        ),
        _op("cart", "GetCart", 2.5, Call("redis", "HGETALL", timeout_ms=200.0)),
        _op(
            "cart",
            "AddItem",
            3.0,
            Call("catalog", "GetProduct", timeout_ms=1000.0),
            Call("redis", "HSET", timeout_ms=200.0),
        ),
        _op(
            "checkout",
            "PlaceOrder",
            14.0,
            Call("cart", "GetCart", timeout_ms=1000.0),
            Call("payment", "Charge", timeout_ms=3000.0),
            Call("postgres", "INSERT orders", timeout_ms=2000.0),
            Call("queue", "publish orders.created", timeout_ms=5000.0),
        ),
        _op(
            "payment",
            "Charge",
            9.0,
            Call("psp.example.net", "POST /v1/charges", timeout_ms=10000.0),
            Call("postgres", "INSERT payments", timeout_ms=2000.0),
        ),
        _op("postgres", "SELECT products", 35.0),
        _op("postgres", "SELECT product", 8.0),
        _op("postgres", "INSERT orders", 4.0, write=True),
        _op("postgres", "INSERT payments", 3.0, write=True),
        _op("postgres", "SELECT product_variants", 0.15),
        _op("postgres", "SELECT order_line_prices", 0.2),
        _op("redis", "GET", 0.3),
        _op("redis", "HGETALL", 0.4),
        _op("redis", "HSET", 0.4),
        _op("queue", "publish orders.created", 1.2),
        _op("psp.example.net", "POST /v1/charges", 180.0),
        _op("reviews.partner.example", "GET /v2/reviews", 45.0),
    )
}


@dataclass(frozen=True)
class Dependency:
    """A caller -> callee edge of the service graph."""

    caller: str
    callee: str
    protocol: str
    port: int
    external: bool


@cache
def dependencies() -> tuple[Dependency, ...]:
    """Every caller -> callee edge, derived from the operations' calls."""
    seen: dict[tuple[str, str], Dependency] = {}
    for op in OPERATIONS.values():
        for call in op.calls:
            callee = SERVICES[call.service]
            seen.setdefault(
                (op.service, call.service),
                Dependency(op.service, call.service, callee.protocol, callee.port, not callee.internal),
            )
    return tuple(seen.values())


def callers_of(service: str) -> list[str]:
    return sorted({d.caller for d in dependencies() if d.callee == service})


@cache
def operation_order() -> tuple[Operation, ...]:
    """Operations ordered so every caller comes before the operations it calls."""
    order: list[Operation] = []
    state: dict[tuple[str, str], bool] = {}

    def visit(key: tuple[str, str]) -> None:
        if state.get(key):
            return
        if key in state:
            raise ValueError(f"call cycle through {key}")
        state[key] = False
        for call in OPERATIONS[key].calls:
            visit((call.service, call.operation))
        state[key] = True
        order.append(OPERATIONS[key])

    for key in OPERATIONS:
        visit(key)
    return tuple(reversed(order))


def sql_statement(operation: str) -> str:
    """The SQL text of a database operation ("SELECT products" -> "SELECT * FROM products WHERE ...")."""
    verb, table = operation.split(" ", 1)
    if verb == "INSERT":
        return f"INSERT INTO {table} VALUES ($1, $2, $3, ...)"
    return f"SELECT * FROM {table} WHERE id = $1"
