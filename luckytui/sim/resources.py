"""The simulated production's resources: nodes, pods, deployments, jobs, events,
database connections and statements, endpoints and alert rules, and the constants that
shape them. Plain data; :mod:`luckytui.sim.model` makes them evolve."""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

Scale = Literal["small", "large"]
CPU_TRAIL_S = 300  # seconds of per-pod CPU kept for the simulated Prometheus's range queries
NAMESPACE = "luckygas"
DATABASE = "luckygas_prod"
PLAN_ENDPOINTS = (
    # name, group, method, path, base latency ms
    ("health", "site", "GET", "/health", 8.0),
    ("login", "login", "POST", "/api/v1/auth/login", 60.0),
    ("executive", "analytics", "GET", "/api/v1/analytics/executive", 140.0),
    ("operations", "analytics", "GET", "/api/v1/analytics/operations", 120.0),
    ("financial", "analytics", "GET", "/api/v1/analytics/financial", 160.0),
    ("performance", "analytics", "GET", "/api/v1/analytics/performance", 110.0),
    ("orders", "orders", "POST", "/api/v1/orders", 90.0),
)
ANALYTICS = ("executive", "operations", "financial", "performance")
EXTRA_RESOURCES = (
    "customers", "deliveries", "drivers", "routes", "invoices", "payments", "products",
    "cylinders", "inventory", "depots", "vehicles", "schedules", "zones", "prices",
    "promotions", "complaints", "tickets", "notifications", "subscriptions", "contracts",
    "meters", "refills", "returns", "suppliers", "warehouses", "shifts", "reports",
    "audits", "regions", "accounts", "sessions", "settings", "webhooks",
)
EXTRA_SERVICES = (
    "api-gateway", "pricing", "inventory", "dispatch", "routing", "billing",
    "notifications", "customer-portal", "driver-app-api", "payments", "invoicing",
    "reporting", "search", "geocoder", "scheduler", "meter-reader", "refill-planner",
    "fleet-tracker", "audit-log", "promotions", "support-desk", "sms-gateway",
    "email-sender", "warehouse", "supplier-sync", "etl-loader", "feature-flags",
)


def _h(*parts: object) -> str:
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()


def iso(ts: float) -> str:
    """RFC 3339 UTC with a Z, as the Kubernetes API and Prometheus write times."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class SimNode:
    name: str
    uid: str
    cpu_capacity_m: int
    memory_capacity_mi: int
    created: float
    unschedulable: bool = False
    resource_version: int = 0


@dataclass
class SimPod:
    name: str
    uid: str
    deployment: str
    template_hash: str
    node: str
    created: float
    ready_at: float  # Pending until then
    cpu_request_m: int
    cpu_limit_m: int
    memory_limit_mi: int
    restarts: int = 0
    jitter: float = 1.0  # this pod's share of its deployment's load
    cpu_m: float = 0.0
    cpu_seconds: float = 0.0  # the container_cpu_usage_seconds_total counter
    cpu_trail: deque[float] = field(default_factory=lambda: deque(maxlen=CPU_TRAIL_S))
    memory_mi: float = 0.0
    terminating_at: float | None = None
    resource_version: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    crash_message: str | None = None  # its template's config makes the container exit
    finished_at: float | None = None  # a Job's pod: when its container exited for good
    crash_at: float | None = None  # when the container first exits
    exited_at: float | None = None  # when it last exited (the kubelet's lastState)
    next_restart_at: float = 0.0  # the kubelet's back-off: the next restart of a crashed one
    backoff_s: float = 10.0

    def phase(self, now: float) -> str:
        return "Running" if now >= self.ready_at else "Pending"

    def crashed(self, now: float) -> bool:
        return self.crash_at is not None and now >= self.crash_at

    def finished(self, now: float) -> bool:
        return self.finished_at is not None and now >= self.finished_at

    def ready(self, now: float) -> bool:
        return (now >= self.ready_at and self.terminating_at is None and not self.crashed(now)
                and not self.finished(now))


@dataclass
class SimDeployment:
    name: str
    uid: str
    replicas: int
    created: float
    cpu_request_m: int
    cpu_limit_m: int
    memory_limit_mi: int
    demand_m: float  # CPU the service needs at load factor 1.0
    db_pool: int = 0  # connections each pod holds
    env: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    generation: int = 1
    resource_version: int = 0
    labels: dict[str, str] = field(default_factory=dict)  # the Deployment's own
    meta_annotations: dict[str, str] = field(default_factory=dict)  # the Deployment's own
    history: dict[str, SimRevision] = field(default_factory=dict)  # template hash -> revision
    bad_configs: list[tuple[dict[str, str], str]] = field(default_factory=list)

    @property
    def template_hash(self) -> str:
        env = sorted(self.env.items())
        ann = sorted(self.annotations.items())
        return _h(self.name, env, ann)[:10]

    @property
    def revision(self) -> int:
        return max((r.number for r in self.history.values()), default=1)

    def crash_message(self) -> str | None:
        """What a pod of the current template says as it exits, if the config is a bad one."""
        for env, message in self.bad_configs:
            if all(self.env.get(k) == v for k, v in env.items()):
                return message
        return None


@dataclass
class SimRevision:
    """One pod template a deployment has had: its ReplicaSet `<deploy>-<template_hash>`."""

    number: int
    template_hash: str
    env: dict[str, str]
    annotations: dict[str, str]
    created: float


@dataclass
class SimCronJob:
    name: str
    uid: str
    schedule: str
    created: float
    last_schedule: float | None = None
    resource_version: int = 0


@dataclass
class SimJob:
    name: str
    uid: str
    created: float
    completes_at: float
    from_cronjob: str | None = None
    resource_version: int = 0
    failed: str | None = None  # why it failed (it never completes then)

    def succeeded(self, now: float) -> bool:
        return self.failed is None and now >= self.completes_at


@dataclass
class SimEvent:
    name: str
    type: str  # Normal, Warning
    reason: str
    message: str
    kind: str
    object_name: str
    ts: float
    count: int = 1


# what a session waiting on another's row lock waits for, as pg_locks says it: the
# holder's transaction id (the row's relation is in the tuple lock the waiter holds)
ROW_LOCK_WAIT = ("ShareLock", "transactionid", "orders")


@dataclass
class SimConnection:
    pid: int
    usename: str
    application_name: str
    client_addr: str | None
    backend_start: float
    backend_type: str = "client backend"
    datname: str | None = DATABASE
    state: str | None = "idle"
    state_change: float = 0.0
    xact_start: float | None = None
    query_start: float | None = None
    wait_event_type: str | None = None
    wait_event: str | None = None
    query: str = ""
    owner: str = ""  # pod name or role that holds it
    pinned: bool = False  # a scripted session the random walk leaves alone
    blocked_by: tuple[int, ...] = ()
    lock: tuple[str, str, str] | None = None  # waited for: mode, locktype, relation


@dataclass
class SimStatement:
    queryid: int
    query: str
    calls: int
    total_exec_time: float
    rows: int
    base_ms: float
    weight: float  # calls per second at load 1.0

    @property
    def mean_exec_time(self) -> float:
        return self.total_exec_time / self.calls if self.calls else 0.0


@dataclass
class SimEndpoint:
    name: str
    group: str
    method: str
    path: str
    base_ms: float


@dataclass
class SimAlertRule:
    name: str
    severity: str
    for_s: float
    summary: str
    pending_since: float | None = None
    value: float = 0.0


WORKLOAD_QUERIES = (
    "SELECT * FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT $2",
    "UPDATE orders SET status = $1, updated_at = now() WHERE id = $2",
    "INSERT INTO orders (customer_id, product_id, quantity, status) VALUES ($1, $2, $3, $4)",
    "SELECT id, name, address FROM customers WHERE id = $1",
    "SELECT * FROM deliveries WHERE driver_id = $1 AND scheduled_for::date = current_date",
    "UPDATE cylinders SET location = $1 WHERE serial = $2",
    "SELECT count(*) FROM orders WHERE status = 'pending'",
    "COMMIT",
)
STATEMENTS = (
    # query, base mean ms, calls/s at load 1
    ("SELECT o.* FROM orders o JOIN customers c ON c.id = o.customer_id "
     "WHERE o.status = $1 ORDER BY o.created_at DESC LIMIT $2", 4.0, 40.0),
    ("INSERT INTO orders (customer_id, product_id, quantity, status) VALUES ($1, $2, $3, $4)",
     2.5, 12.0),
    ("UPDATE orders SET status = $1, updated_at = now() WHERE id = $2", 1.8, 20.0),
    ("SELECT id, name, address, phone FROM customers WHERE id = $1", 0.4, 90.0),
    ("SELECT * FROM deliveries WHERE driver_id = $1 AND scheduled_for::date = current_date",
     6.0, 15.0),
    ("SELECT date_trunc($1, created_at) AS period, sum(total) FROM orders "
     "WHERE created_at > now() - $2::interval GROUP BY 1 ORDER BY 1", 1450.0, 0.05),
    ("SELECT c.region, count(*), sum(o.total) FROM orders o JOIN customers c "
     "ON c.id = o.customer_id GROUP BY c.region", 2300.0, 0.02),
    ("SELECT * FROM cylinders WHERE next_inspection < now() + $1::interval", 320.0, 0.2),
    ("UPDATE cylinders SET location = $1, updated_at = now() WHERE serial = $2", 1.1, 8.0),
    ("SELECT count(*) FROM orders WHERE status = $1", 85.0, 1.0),
    ("SELECT * FROM routes WHERE depot_id = $1 AND day = $2", 12.0, 3.0),
    ("DELETE FROM sessions WHERE expires_at < now()", 640.0, 0.05),
)
ANALYTICS_QUERY = (
    "SELECT c.region, date_trunc('day', o.created_at), sum(o.total), count(DISTINCT o.customer_id) "
    "FROM orders o JOIN customers c ON c.id = o.customer_id "
    "WHERE o.created_at > now() - interval '90 days' GROUP BY 1, 2"
)
LEAK_QUERY = "SELECT id FROM orders WHERE status = 'pending' FOR UPDATE SKIP LOCKED LIMIT 10"




@dataclass
class LoginGuard:
    """The LuckyGas API's login defences: failed attempts by source address, the
    addresses blocked, and the login secret (rotating it ends a stolen session)."""

    attackers: list[str] = field(default_factory=list)
    rate: float = 0.0  # failed attempts a second from each attacking address
    since: float | None = None
    success_at: float | None = None  # when one attacker gets in (model seconds)
    blocked: set[str] = field(default_factory=set)
    failures: dict[str, float] = field(default_factory=dict)  # address -> count
    recent: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=120))
    secret_version: int = 1
    compromised_since: float | None = None
    compromised_by: str | None = None

    def attack(self, ips: list[str], rate: float, now: float, success_at: float | None) -> None:
        self.attackers, self.rate, self.since, self.success_at = list(ips), rate, now, success_at

    def attacking(self, now: float) -> bool:
        return self.since is not None and any(ip not in self.blocked for ip in self.attackers)

    def step(self, now: float) -> list[str]:
        """One second of attempts; the addresses that tried (for the backend's log)."""
        tried = [ip for ip in self.attackers if ip not in self.blocked] if self.since else []
        for ip in tried:
            self.failures[ip] = self.failures.get(ip, 0.0) + self.rate
        self.recent.append((now, self.rate * len(tried)))
        if (tried and self.success_at is not None and now >= self.success_at
                and self.attackers[0] in tried):
            self.success_at = None
            self.compromised_since, self.compromised_by = now, self.attackers[0]
        return tried

    def failure_rate(self, now: float, window: float = 60.0) -> float:
        """Failed logins a second over the last `window` seconds."""
        return sum(n for t, n in self.recent if t > now - window) / window

    def block(self, ip: str) -> bool:
        new = ip not in self.blocked
        self.blocked.add(ip)
        return new

    def rotate(self) -> int:
        self.secret_version += 1
        self.compromised_since = self.compromised_by = None
        return self.secret_version


@dataclass
class SimConfigMap:
    name: str
    uid: str
    created: float
    data: dict[str, str]
    resource_version: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass
class SimSecret:
    """A Secret: its values are only ever served base64-encoded, and never logged."""

    name: str
    uid: str
    created: float
    data: dict[str, bytes] = field(repr=False)
    type: str = "Opaque"
    resource_version: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass
class SimCache:
    """The Redis cache the backend reads through (served as the pod `redis-0`)."""

    keys: int
    flushes: int = 0
