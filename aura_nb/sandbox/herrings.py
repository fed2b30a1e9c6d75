"""Things that are not the cause: background log noise every service writes, and per-scenario red herrings
(an unrelated deploy, an unrelated feature flag, noisy but harmless warnings and errors)."""

from __future__ import annotations

from aura_nb.sandbox.incident import Incident, iso
from aura_nb.sandbox.records import RedHerring
from aura_nb.sandbox.topology import SERVICES

# (service, lines per second, level, template): written all through the window in every scenario.
BACKGROUND: tuple[tuple[str, float, str, str], ...] = (
    ("checkout", 1 / 60, "info", "refreshed feature flags (14 flags, etag {hex})"),
    ("checkout", 0.01, "warn", "retrying cart fetch for user {user} (attempt 2/3)"),
    ("payment", 0.02, "info", "card declined code=insufficient_funds customer={user}"),
    ("payment", 1 / 300, "info", "refreshed psp access token (expires in 3600s)"),
    ("cart", 1 / 120, "info", "expired {n} abandoned carts"),
    ("catalog", 1 / 60, "info", "HikariPool-1 - Pool stats (total=10, active={n}, idle=8, waiting=0)"),
    ("frontend", 0.01, "warn", "client aborted request GET /product/{product} after {ms}ms"),
    ("postgres", 1 / 300, "info", "checkpoint starting: time"),
    ("postgres", 1 / 300, "info", "checkpoint complete: wrote {ms} buffers (0.4%); 0 WAL file(s) added"),
    ("postgres", 1 / 600, "info", 'automatic vacuum of table "shop.public.orders": index scans: 1'),
    ("postgres", 0.004, "error", 'duplicate key value violates unique constraint "idempotency_keys_pkey"'),
    ("redis", 1 / 300, "info", "100 changes in 300 seconds. Saving..."),
    ("redis", 1 / 300, "info", "Background saving started by pid {pid}"),
    ("redis", 1 / 300, "info", "DB saved on disk"),
    ("queue", 0.01, "info", "accepting AMQP connection {erl} ({ip}:{port} -> 10.0.4.3:5672)"),
    (
        "queue",
        0.004,
        "warn",
        "closing AMQP connection {erl} ({ip}:{port} -> 10.0.4.3:5672): client unexpectedly closed TCP connection",
    ),
)

# Noisy, harmless lines: each scenario picks two from services that are not the cause.
NOISY: tuple[tuple[str, str, str], ...] = (
    ("catalog", "warn", "deprecated field 'legacy_sku' requested by client web/3.2; use 'sku'"),
    ("cart", "error", "failed to flush metrics to statsd:8125: [Errno 111] Connection refused"),
    ("frontend", "warn", "[ssr] hydration mismatch on /product/{product}: server rendered 12 items, client 11"),
    ("payment", "warn", "fraud score service responded late; using cached score for customer {user}"),
    ("checkout", "error", "coupon lookup failed: code 'SPRING24' is no longer valid for user {user}"),
)

FLAGS: dict[str, str] = {
    "frontend": "homepage.recommendations_carousel",
    "catalog": "catalog.search_typo_tolerance",
    "cart": "cart.save_for_later",
    "checkout": "checkout.express_pay_button",
    "payment": "payment.3ds_frictionless",
}


def add_background(incident: Incident) -> None:
    """Routine lines every service writes whatever happens."""
    for service, rate, level, template in BACKGROUND:
        incident.emit(service, 0, incident.n_steps, rate, level, template)


def add_red_herrings(incident: Incident, cause: str) -> list[RedHerring]:
    """An unrelated deploy, an unrelated feature flag and two noisy log patterns, away from `cause`."""
    rng = incident.rng
    apps = [s.name for s in SERVICES.values() if s.app and s.name != cause]
    deployed = rng.choice(apps)
    latest = min(75.0, (incident.onset - incident.start) / 60 - 5)  # minutes before the onset, inside the window
    deploy = incident.deploy(incident.onset - rng.uniform(40, latest) * 60, deployed)
    flagged = rng.choice([a for a in apps if a != deployed])
    flag = FLAGS[flagged]
    toggle = incident.change(
        incident.onset - rng.uniform(12, 35) * 60,
        flagged,
        "feature_flag",
        f"{flagged}: turn {flag} off -> on",
        {"key": flag, "old": "off", "new": "on", "rollout": "100%"},
    )
    herrings = [
        RedHerring(kind="deploy", service=deployed, ts=iso(deploy.ts), change_id=deploy.id),
        RedHerring(kind="feature_flag", service=flagged, ts=iso(toggle.ts), change_id=toggle.id),
    ]
    for service, level, template in rng.sample([n for n in NOISY if n[0] != cause], 2):
        incident.emit(service, 0, incident.n_steps, rng.uniform(0.04, 0.1), level, template)
        herrings.append(RedHerring(kind="log", service=service, level=level, pattern=template.split("{")[0].strip()))
    probe_pod = rng.choice(incident.replica_set(deployed, incident.start).pods)
    incident.event(
        incident.start + rng.uniform(5, 30) * 60,
        deployed,
        f"pod/{probe_pod}",
        "Warning",
        "Unhealthy",
        "Readiness probe failed: HTTP probe failed with statuscode: 503",
    )
    return herrings
