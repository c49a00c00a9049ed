"""A model of LuckyGas production that evolves over time.

The model is plain Python, driven by a clock: `sync()` advances it in whole
simulated seconds up to the clock's time, and each step draws from one seeded
random generator in a fixed order, so a seed, a sequence of steps and a
sequence of actions always give the same state.

Load follows a slow wave plus a scripted storyline of the plan's incidents:
a backend load surge (API latency climbs, HighAPIResponseTime), a connection
leak in order-worker (DatabaseConnectionPoolExhausted), and a failed analytics
aggregation (AnalyticsEndpointDown). The plan's mitigations fix them: scaling
the backend spreads its CPU and lowers latency, restarting order-worker or
terminating idle sessions frees connections, a Job from the
analytics-aggregation CronJob repairs the analytics endpoint.

The servers in this package (Kubernetes API, LuckyGas API, Prometheus alerts,
database activity) read and change this model; nothing here does I/O.
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from luckytui.sim import objects, rollouts

# the resources' names stay importable from here, where the model makes them evolve
from luckytui.sim.resources import (
    ANALYTICS,
    ANALYTICS_QUERY,
    CPU_TRAIL_S,
    DATABASE,
    EXTRA_RESOURCES,
    EXTRA_SERVICES,
    LEAK_QUERY,
    NAMESPACE,
    PLAN_ENDPOINTS,
    ROW_LOCK_WAIT,
    STATEMENTS,
    WORKLOAD_QUERIES,
    LoginGuard,
    Scale,
    SimAlertRule,
    SimCache,
    SimConfigMap,
    SimConnection,
    SimCronJob,
    SimDeployment,
    SimEndpoint,
    SimEvent,
    SimJob,
    SimNode,
    SimPod,
    SimSecret,
    SimStatement,
    _h,
    iso,
)
from luckytui.sim.views import ClientView

if TYPE_CHECKING:
    from luckytui.drills.scenario import Scenario
    from luckytui.sim.drill import Drill
    from luckytui.sim.pgdrill import ServerView

__all__ = [
    "ANALYTICS", "ANALYTICS_QUERY", "CPU_TRAIL_S", "DATABASE", "EXTRA_RESOURCES",
    "EXTRA_SERVICES", "LEAK_QUERY", "NAMESPACE", "PLAN_ENDPOINTS", "STATEMENTS",
    "WORKLOAD_QUERIES", "LoginGuard", "Production", "Scale", "SimAlertRule",
    "SimCache", "SimConfigMap", "SimConnection", "SimCronJob", "SimDeployment",
    "SimEndpoint", "SimEvent", "SimJob", "SimNode", "SimPod", "SimStatement", "_h", "iso",
]


class Production(ClientView, rollouts.Workloads):
    """LuckyGas production, simulated.

    `clock` returns epoch seconds; the model steps in whole seconds up to it.
    """

    def __init__(
        self, seed: int = 7, scale: Scale = "small", clock: Callable[[], float] = time.time,
        scenario: Scenario | None = None,
    ) -> None:
        self.seed = seed
        self.size: Scale = scale
        self.clock = clock
        self.rng = random.Random(seed)
        self.started = float(math.floor(clock()))
        self.now = self.started
        self._rv = 1000
        self.namespace = NAMESPACE
        self.nodes: dict[str, SimNode] = {}
        self.deployments: dict[str, SimDeployment] = {}
        self.pods: dict[str, SimPod] = {}
        self.cronjobs: dict[str, SimCronJob] = {}
        self.jobs: dict[str, SimJob] = {}
        self.events: deque[SimEvent] = deque(maxlen=200)
        self.said: dict[str, deque[tuple[float, str, str]]] = {}  # deployment -> log lines
        self.configmaps: dict[str, SimConfigMap] = {}
        self.secrets: dict[str, SimSecret] = {}
        self.cache = SimCache(keys=48213)
        self.extra_pods: dict[str, SimPod] = {}  # pods no deployment owns (redis-0)
        self.connections: dict[int, SimConnection] = {}
        self.statements: list[SimStatement] = []
        self.endpoints: list[SimEndpoint] = []
        self.max_connections = 100 if scale == "small" else 1200
        self.read_only_databases: set[str] = set()
        self.orders_created = 0
        self.orders_processed = 0
        self.orders_failed = 0
        self.last_order_processed = self.started
        self.analytics_broken_since: float | None = None
        self.leak_active = False
        self.leak_every, self.leak_since = 2.0, 0.0
        self.leak_left: int | None = None  # sessions still to open (None: no end)
        self.leak_pids: set[int] = set()
        self.leak_attempts = 0  # the leak's sessions due so far (a full pool refuses some)
        # a real PostgreSQL server playing the drill's database faults: what it shows
        # is what the database alert, the orders endpoint and the drill read
        self.server: ServerView | None = None
        self.surge_active = False
        self.surge_since, self.surge_factor, self.surge_ramp = 0.0, 2.3, 30.0
        self.order_locks: set[int] = set()  # sessions holding order rows (orders stall)
        self.logins = LoginGuard()
        self._next_pid = 4100
        self.alert_rules = [
            SimAlertRule("HighAPIResponseTime", "warning", 30.0,
                         "API p95 response time is above 2 s"),
            SimAlertRule("AnalyticsEndpointDown", "critical", 15.0,
                         "An analytics endpoint answers 5xx"),
            SimAlertRule("NoOrdersProcessed", "critical", 60.0,
                         "No orders processed in the last 2 minutes"),
            SimAlertRule("DatabaseConnectionPoolExhausted", "critical", 15.0,
                         "Database connections above 90% of max_connections"),
            SimAlertRule("SuspiciousLoginActivity", "critical", 15.0,
                         "Failed logins above 1/s, or a login from an attacking address"),
        ]
        self._build()
        self._step_pods()  # pods have their CPU from the first answer on
        from luckytui.sim.drill import Drill, storyline  # it reads the model's type

        # what happens to production, and when: the demo's story unless a drill's
        self.drill: Drill = Drill(self, scenario or storyline())

    # --- construction ---------------------------------------------------------

    def _uid(self, *parts: object) -> str:
        h = _h(self.seed, *parts)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"

    def next_rv(self) -> int:
        self._rv += 1
        return self._rv

    @property
    def resource_version(self) -> int:
        return self._rv

    def _build(self) -> None:
        t0 = self.started - 86400 * 12
        node_count = 3 if self.size == "small" else 60
        for i in range(node_count):
            name = f"gke-luckygas-pool-{i + 1:02d}"
            cpu = 8000 if self.size == "small" else 16000
            self.nodes[name] = SimNode(name, self._uid("node", name), cpu, 32768, t0,
                                       resource_version=self.next_rv())
        specs: list[tuple[str, int, int, int, float, int]] = [
            # name, replicas, request m, limit m, demand m at load 1, db pool per pod
            ("luckygas-backend", 3, 500, 1000, 1500.0, 5),
            ("luckygas-frontend", 2, 100, 500, 300.0, 0),
            ("order-worker", 2, 200, 500, 400.0, 4),
        ]
        if self.size == "large":
            specs = [("luckygas-backend", 120, 500, 1000, 60000.0, 3),
                     ("luckygas-frontend", 60, 100, 500, 9000.0, 0),
                     ("order-worker", 40, 200, 500, 8000.0, 2)]
            for i, svc in enumerate(EXTRA_SERVICES):
                reps = 62 + (i * 7) % 11
                specs.append((svc, reps, 100, 400, reps * 120.0, 0))
        for name, reps, req, lim, demand, pool in specs:
            d = SimDeployment(name, self._uid("deploy", name), reps, t0, req, lim, 512,
                              demand, pool, env={"DB_POOL_SIZE": str(pool)} if pool else {},
                              resource_version=self.next_rv())
            self.deployments[name] = d
            rollouts.record_revision(self, d).created = t0
            for _ in range(reps):
                self._add_pod(d, ready_at=t0 + self.rng.uniform(0, 86400 * 10), created=None)
        self.cronjobs["analytics-aggregation"] = SimCronJob(
            "analytics-aggregation", self._uid("cronjob"), "*/15 * * * *", t0,
            resource_version=self.next_rv())
        for name, group, method, path, base in PLAN_ENDPOINTS:
            self.endpoints.append(SimEndpoint(name, group, method, path, base))
        if self.size == "large":
            for res in EXTRA_RESOURCES:
                self.endpoints.append(SimEndpoint(res, "api", "GET", f"/api/v1/{res}", 40.0))
        for i, (q, base_ms, weight) in enumerate(STATEMENTS):
            calls = int(weight * 86400 * 3) + 1
            self.statements.append(SimStatement(
                int(_h("stmt", i)[:15], 16), q, calls, calls * base_ms, calls * 3, base_ms, weight))
        self._build_connections()
        objects.seed(self)

    def _add_pod(self, d: SimDeployment, ready_at: float, created: float | None) -> SimPod:
        node = self._pick_node()
        suffix = _h(self.seed, d.name, len(self.pods), self._rv, self.rng.random())[:5]
        name = f"{d.name}-{d.template_hash}-{suffix}"
        pod = SimPod(
            name=name, uid=self._uid("pod", name), deployment=d.name,
            template_hash=d.template_hash, node=node,
            created=created if created is not None else ready_at - 4,
            ready_at=ready_at, cpu_request_m=d.cpu_request_m, cpu_limit_m=d.cpu_limit_m,
            memory_limit_mi=d.memory_limit_mi,
            restarts=self.rng.choice((0, 0, 0, 0, 0, 0, 1, 2)),
            jitter=self.rng.uniform(0.75, 1.25), memory_mi=self.rng.uniform(120, 380),
            resource_version=self.next_rv(), labels={"app": d.name,
                                                     "pod-template-hash": d.template_hash},
        )
        rollouts.start_crashing(pod, d.crash_message())
        self.pods[name] = pod
        return pod

    def _pick_node(self) -> str:
        counts = {n: 0 for n, node in self.nodes.items() if not node.unschedulable}
        if not counts:
            return ""
        for p in self.pods.values():
            if p.node in counts:
                counts[p.node] += 1
        return min(counts, key=lambda n: (counts[n], n))

    def _new_conn(self, owner: str, app: str, user: str = "luckygas_app") -> SimConnection:
        pid = self._next_pid
        self._next_pid += 1 + self.rng.randrange(3)
        conn = SimConnection(pid, user, app, f"10.8.{pid % 250}.{(pid * 7) % 250}",
                             self.now - self.rng.uniform(60, 7200), owner=owner,
                             state_change=self.now - self.rng.uniform(0, 30),
                             query=self.rng.choice(WORKLOAD_QUERIES))
        self.connections[pid] = conn
        return conn

    def _build_connections(self) -> None:
        for bt in ("autovacuum launcher", "logical replication launcher", "checkpointer",
                   "background writer", "walwriter"):
            c = self._new_conn(bt, "", user="")
            c.backend_type, c.datname, c.state, c.query, c.client_addr = bt, None, None, "", None
            c.pinned = True
        for pod in self.pods.values():
            self._connect_pod(pod)
        if self.size == "large":
            while len(self.connections) < 1000:
                self._new_conn("pgbouncer", "pgbouncer")
        # a scripted long-running report, over the plan's 5-minute line from the start
        c = self._new_conn("analytics-aggregation", "metabase", user="analytics")
        c.state, c.pinned = "active", True
        c.query_start = c.xact_start = c.state_change = self.now - 420
        c.query = ANALYTICS_QUERY
        # a session that forgot its transaction, and one waiting on its lock
        holder = self._new_conn("order-worker", "order-worker")
        holder.state, holder.pinned = "idle in transaction", True
        holder.xact_start = holder.query_start = self.now - 95
        holder.state_change = self.now - 94
        holder.query = "UPDATE orders SET status = 'processing' WHERE id = 88123"
        waiter = self._new_conn("order-worker", "order-worker")
        waiter.state, waiter.pinned = "active", True
        waiter.xact_start = waiter.query_start = waiter.state_change = self.now - 80
        waiter.wait_event_type, waiter.wait_event = "Lock", "transactionid"
        waiter.query = "UPDATE orders SET status = 'delivered' WHERE id = 88123"
        waiter.blocked_by, waiter.lock = (holder.pid,), ROW_LOCK_WAIT

    def _connect_pod(self, pod: SimPod) -> None:
        d = self.deployments[pod.deployment]
        pool = int(d.env.get("DB_POOL_SIZE", d.db_pool) or 0) if d.db_pool else 0
        room = self.max_connections - 3 - len(self.connections)
        for _ in range(max(0, min(pool, room))):
            self._new_conn(pod.name, pod.deployment)

    # --- time -----------------------------------------------------------------

    def sync(self) -> None:
        """Advance the model to the clock, one simulated second at a time."""
        target = math.floor(self.clock())
        steps = int(target - self.now)
        if steps > 600:  # a long pause (laptop lid): skip ahead, do not replay it
            self.now = target - 600
            steps = 600
        for _ in range(steps):
            self.now += 1
            self._step()

    @property
    def elapsed(self) -> float:
        return self.now - self.started

    def load_factor(self) -> float:
        """Requests relative to normal: a slow wave and the scripted surge."""
        wave = 1.0 + 0.15 * math.sin(self.elapsed * 2 * math.pi / 600)
        surge = 1.0
        if self.surge_active:
            ramp = min(1.0, (self.elapsed - self.surge_since) / max(1.0, self.surge_ramp))
            surge = 1.0 + (self.surge_factor - 1.0) * ramp
        return wave * surge

    def _step(self) -> None:
        self.drill.step()
        for ip in self.logins.step(self.now):
            if self.rng.random() < 0.2:  # the backend logs some of the attempts
                self.say("luckygas-backend", f"login failed for admin@luckygas.com.tw "
                         f"from {ip}: invalid password", "WARNING")
        self._step_pods()
        self._step_connections()
        self._step_statements()
        self._step_jobs()
        self._step_orders()
        self._step_alerts()

    def begin(self, chapter: str) -> None:
        """Start one fault of the scenario now: a fault kind, or the demo's chapter names
        (surge, leak, analytics); each fault starts once."""
        self.drill.begin({"leak": "connection_leak", "analytics": "analytics_down"}
                         .get(chapter, chapter))

    def open_session(self, deployment: str, state: str, query: str,
                     age: float) -> SimConnection | None:
        """A scripted session of one of the deployment's ready pods, `age` seconds into
        its query (None when no pod is ready or the server is full)."""
        pods = [p for p in self.pods.values() if p.deployment == deployment and
                p.ready(self.now) and p.terminating_at is None]
        if not pods or len(self.connections) >= self.max_connections - 3:
            return None
        c = self._new_conn(pods[len(self.connections) % len(pods)].name, deployment)
        c.state, c.pinned, c.query = state, True, query
        c.xact_start = c.query_start = self.now - age
        c.state_change = self.now - (age if state == "active" else max(0.0, age - 1))
        return c

    def _step_pods(self) -> None:
        now, rng = self.now, self.rng
        load = self.load_factor()
        by_dep: dict[str, list[SimPod]] = {}
        for p in list(self.pods.values()):
            if p.terminating_at is not None and now >= p.terminating_at:
                self._remove_pod(p)
                continue
            if p.crash_at is not None:
                rollouts.step_crash(self, p)
            by_dep.setdefault(p.deployment, []).append(p)
        for d in self.deployments.values():
            pods = by_dep.get(d.name, [])
            self._reconcile(d, pods)
            ready = [p for p in pods if p.ready(now)]
            demand = d.demand_m * (load if d.name != "order-worker" else 1.0)
            if d.name == "luckygas-backend" and d.env.get("CACHE_TTL"):
                demand *= 0.7
            share = demand / max(1, len(ready))
            for p in pods:
                p.cpu_seconds += p.cpu_m / 1000.0  # the second that just passed
                if not p.ready(now):
                    p.cpu_m = 5.0 if p.phase(now) == "Running" else 0.0
                    continue
                noise = rng.uniform(0.92, 1.08)
                p.cpu_m = min(float(p.cpu_limit_m), share * p.jitter * noise)
                p.memory_mi = min(p.memory_limit_mi * 0.95, p.memory_mi + rng.uniform(-2, 2.2))
            for p in pods:
                p.cpu_trail.append(p.cpu_m)  # what this second's CPU is, for range queries
        objects.step(self)

    def _reconcile(self, d: SimDeployment, pods: list[SimPod]) -> None:
        """Bring the pods in line with the deployment: scale and roll."""
        now = self.now
        live = [p for p in pods if p.terminating_at is None]
        current = [p for p in live if p.template_hash == d.template_hash]
        old = [p for p in live if p.template_hash != d.template_hash]
        # rolling update: start one new pod at a time, retire an old one when it is ready
        missing = d.replicas - len(current)
        if missing > 0:
            starting = sum(1 for p in current if not p.ready(now))
            batch = missing if not old else min(missing, max(1, d.replicas // 4) - starting)
            for _ in range(max(0, batch)):
                pod = self._add_pod(d, ready_at=now + 3 + self.rng.randrange(3), created=now)
                self._connect_pod(pod)
                self.event("Normal", "Scheduled", "Pod", pod.name,
                           f"Successfully assigned {self.namespace}/{pod.name} to {pod.node}")
        elif missing < 0:
            for p in sorted(current, key=lambda p: -p.created)[: -missing]:
                self.terminate(p)
        ready_new = sum(1 for p in current if p.ready(now))
        for p in old[: max(0, ready_new - (d.replicas - len(old)) + 1)] if ready_new else []:
            self.terminate(p)

    def terminate(self, p: SimPod) -> None:
        p.terminating_at = self.now + 2
        p.resource_version = self.next_rv()
        self.event("Normal", "Killing", "Pod", p.name, "Stopping container")

    def _remove_pod(self, p: SimPod) -> None:
        del self.pods[p.name]
        for pid in [c.pid for c in self.connections.values() if c.owner == p.name]:
            del self.connections[pid]

    def _step_connections(self) -> None:
        now, rng = self.now, self.rng
        busy = min(0.9, 0.12 * self.load_factor())
        for c in self.connections.values():
            if c.pinned or c.backend_type != "client backend":
                continue
            if rng.random() < 0.5:  # half the sessions change state each second
                if rng.random() < busy:
                    c.state = "active"
                    c.query = rng.choice(WORKLOAD_QUERIES)
                    c.query_start = c.xact_start = now - rng.uniform(0, 0.8)
                else:
                    c.state = "idle"
                    c.xact_start = None
                c.state_change = now
        if self.leak_active and self.leak_due():
            self.leak_attempts += 1  # on a real server, the load generator opens it
            leaked = None if self.server is not None else self.open_session(
                "order-worker", "idle in transaction", LEAK_QUERY, 0)
            if leaked is not None:
                self.leak_pids.add(leaked.pid)
            if self.leak_left is not None:  # counted in attempts: a full pool refuses some
                self.leak_left -= 1
                self.leak_active = self.leak_left > 0

    def leak_due(self) -> bool:
        """A leaked session is opened this second (one every `leak_every` seconds)."""
        k = (self.elapsed - self.leak_since) / self.leak_every
        return k >= 0 and math.floor(k) != math.floor(k - 1 / self.leak_every)

    def _step_statements(self) -> None:
        load = self.load_factor()
        qcache = bool(self.deployments.get("luckygas-backend") and
                      self.deployments["luckygas-backend"].env.get("QUERY_CACHE_TTL"))
        pressure = 1.0 + max(0.0, self.db_clients() / self.db_max_connections() - 0.6) * 2
        for s in self.statements:
            rate = s.weight * load * (0.5 if qcache else 1.0)
            calls = max(0, int(rate * self.rng.uniform(0.7, 1.3) + self.rng.random()))
            if calls:
                s.calls += calls
                s.total_exec_time += calls * s.base_ms * pressure * self.rng.uniform(0.9, 1.15)
                s.rows += calls * 3

    def _step_jobs(self) -> None:
        for j in self.jobs.values():
            if (j.from_cronjob == "analytics-aggregation" and j.succeeded(self.now)
                    and self.analytics_broken_since is not None
                    and j.created >= self.analytics_broken_since):
                self.analytics_broken_since = None
                self.event("Normal", "Completed", "Job", j.name, "Job completed")

    def _step_orders(self) -> None:
        workers = sum(1 for p in self.pods.values()
                      if p.deployment == "order-worker" and p.ready(self.now))
        if workers and self.orders_stalled():
            self.orders_failed += workers
        elif workers and DATABASE not in self.read_only_databases:
            self.last_order_processed = self.now
            self.orders_processed += workers

    def _step_alerts(self) -> None:
        now = self.now
        p95 = self.api_p95_ms()
        conds = {
            "HighAPIResponseTime": (p95 / 1000.0, p95 > 2000.0),
            "AnalyticsEndpointDown": (1.0, self.analytics_broken_since is not None),
            "NoOrdersProcessed": (now - self.last_order_processed,
                                  now - self.last_order_processed > 120),
            "DatabaseConnectionPoolExhausted": (
                self.db_clients() / self.db_max_connections(),
                self.db_clients() > 0.9 * self.db_max_connections()),
            "SuspiciousLoginActivity": (
                self.logins.failure_rate(now),
                self.logins.failure_rate(now) > 1.0 or bool(self.logins.compromised_since)),
        }
        for rule in self.alert_rules:
            value, on = conds[rule.name]
            rule.value = value
            if on and rule.pending_since is None:
                rule.pending_since = now
            elif not on:
                rule.pending_since = None

    # --- actions (what the Kubernetes API, SQL and the API change) ---------------

    def event(self, type_: str, reason: str, kind: str, obj: str, message: str) -> None:
        name = f"{obj}.{_h(obj, reason, self.now, len(self.events))[:16]}"
        self.events.append(SimEvent(name, type_, reason, message, kind, obj, self.now))

    def scale(self, name: str, replicas: int) -> SimDeployment:
        d = self.deployments[name]
        if replicas != d.replicas:
            self.event("Normal", "ScalingReplicaSet", "Deployment", name,
                       f"Scaled {'up' if replicas > d.replicas else 'down'} replica set "
                       f"{name}-{d.template_hash} from {d.replicas} to {replicas}")
            d.replicas = replicas
            d.generation += 1
            d.resource_version = self.next_rv()
        return d

    def patch_template(self, name: str, annotations: dict[str, str | None],
                       env: dict[str, str | None]) -> SimDeployment:
        """Change the pod template: new pods roll out, old ones go."""
        d = self.deployments[name]
        before = d.template_hash
        for k, v in annotations.items():
            if v is None:
                d.annotations.pop(k, None)
            else:
                d.annotations[k] = v
        for k, v in env.items():
            if v is None:
                d.env.pop(k, None)
            else:
                d.env[k] = v
        if d.template_hash != before:
            d.generation += 1
            d.resource_version = self.next_rv()
            rollouts.record_revision(self, d)
            self.event("Normal", "ScalingReplicaSet", "Deployment", name,
                       f"Scaled up replica set {name}-{d.template_hash} to 1")
            if name == "order-worker":
                self.leak_active = False  # fresh pods, the leaking ones are retired
        return d

    def restart(self, name: str) -> SimDeployment:
        return self.patch_template(
            name, {"kubectl.kubernetes.io/restartedAt": iso(self.clock())}, {})

    def set_unschedulable(self, node: str, flag: bool) -> SimNode:
        n = self.nodes[node]
        if n.unschedulable != flag:
            n.unschedulable = flag
            n.resource_version = self.next_rv()
            self.event("Normal", "NodeNotSchedulable" if flag else "NodeSchedulable", "Node",
                       node, f"Node {node} status is now: "
                       f"{'NodeNotSchedulable' if flag else 'NodeSchedulable'}")
        return n

    def create_job(self, name: str, from_cronjob: str | None) -> SimJob:
        if name in self.jobs:
            raise KeyError(name)
        job = SimJob(name, self._uid("job", name), self.now, self.now + 8, from_cronjob,
                     resource_version=self.next_rv())
        self.jobs[name] = job
        pod = objects.job_pod(self, job)
        self.event("Normal", "SuccessfulCreate", "Job", name, f"Created pod: {pod.name}")
        return job

    def cancel_backend(self, pid: int) -> bool:
        c = self.connections.get(pid)
        if c is None or c.backend_type != "client backend":
            return False
        if c.state == "active":
            c.state, c.pinned, c.wait_event_type, c.wait_event = "idle", False, None, None
            c.state_change, c.blocked_by, c.lock = self.now, (), None
        return True

    def terminate_backend(self, pid: int) -> bool:
        c = self.connections.pop(pid, None)
        if c is None:
            return False
        for other in self.connections.values():
            if pid in other.blocked_by:
                other.blocked_by = tuple(p for p in other.blocked_by if p != pid)
                if not other.blocked_by:
                    other.wait_event_type = other.wait_event = other.lock = None
        return True

    def set_read_only(self, database: str, flag: bool) -> None:
        if flag:
            self.read_only_databases.add(database)
        else:
            self.read_only_databases.discard(database)
