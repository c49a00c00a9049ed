"""A drill scenario's faults, played on the simulated production.

A scenario file's `[[fault]]` list (luckytui/drills/scenario.py documents the
format) is read here into `Fault`s, each checked against the kinds below: an
unknown kind or key, a wrong type or a value out of range is one ConfigError
line naming the file and the key (`fault[2].rate`).

`Drill` starts each fault when the simulated clock reaches its `at` (seconds
after the drill starts), through the model's mechanics, and then reads the
model to know whether the fault is over: a fault is over once its harm has
been seen and is gone (the long queries ended, the leaked sessions gone, the
lock holder gone, p95 back under 2 s, the analytics endpoint answering, the
attacking addresses blocked and the login secret rotated, the bad rollout
undone). When a real PostgreSQL server plays the drill (`model.server`, see
pgdrill.py), the database faults' sessions are opened there and their harm is
read from what that server shows. Production has recovered when every fault has started and is over;
`on_recovered` is called once, then. Nothing here does I/O.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from luckytui.configread import Reader
from luckytui.drills.scenario import Scenario, load_scenario
from luckytui.sim.objects import failed_aggregation
from luckytui.sim.resources import ROW_LOCK_WAIT

if TYPE_CHECKING:
    from luckytui.sim.model import Production

STORYLINE = Path(__file__).parent.parent / "drills" / "storyline.toml"
MAX_AT_S = 86400.0
LONG_QUERY = "SELECT o.*, pg_sleep(3600) FROM orders AS o WHERE o.status = 'pending'"
LOCK_QUERY = "UPDATE orders SET status = 'processing' WHERE id = 88200"
LOCK_WAIT_QUERY = "UPDATE orders SET status = 'delivered' WHERE id = 88200"

# kind -> {key: (type, default, low, high)}; a default of None means required
Spec = tuple[type, Any, float, float]
_NUM = (float, int)
KINDS: dict[str, dict[str, Spec]] = {
    # backend load: factor x normal requests, reached over `ramp` seconds
    "surge": {"factor": (float, 2.3, 1.0, 10.0), "ramp": (float, 30.0, 0.0, 600.0)},
    # the analytics aggregation job fails: the financial endpoint answers 500
    "analytics_down": {},
    # order-worker opens one idle-in-transaction session every `every` seconds,
    # `count` of them (0: until its pods are retired)
    "connection_leak": {"every": (float, 2.0, 1.0, 600.0), "count": (int, 0, 0, 10000)},
    # `count` long-running queries from order-worker, `age` seconds old when they start
    "long_queries": {"count": (int, 3, 1, 100), "age": (float, 400.0, 0.0, 86400.0)},
    # an idle-in-transaction order-worker session holds an order row; `waiters` wait on it
    "lock_pileup": {"waiters": (int, 3, 1, 100), "age": (float, 120.0, 0.0, 86400.0)},
    # failed logins from `ips`, `rate` a second from each; after `success_after`
    # seconds (0: never) one succeeds from the first address
    "failed_logins": {"ips": (list, None, 1, 32), "rate": (float, 2.0, 0.1, 100.0),
                      "success_after": (float, 0.0, 0.0, 86400.0)},
    # a config rollout that makes the deployment's pods crash-loop
    "bad_rollout": {"deployment": (str, None, 0, 0), "env": (dict, {}, 0, 32),
                    "message": (str, "bad configuration", 0, 0)},
}
COMMON = {"kind", "at", "say", "say_from"}
# the kinds a real PostgreSQL server plays when one runs the drill (model.server)
DATABASE_KINDS = ("long_queries", "connection_leak", "lock_pileup")
SAYS_FROM = {"surge": "luckygas-backend", "analytics_down": "luckygas-backend",
             "failed_logins": "luckygas-backend", "bad_rollout": "luckygas-backend"}


@dataclass
class Fault:
    kind: str
    at: float
    params: Mapping[str, Any]
    say: tuple[str, ...] = ()
    say_from: str = "order-worker"
    started: bool = False
    seen: bool = False  # its harm has shown
    pids: set[int] = field(default_factory=set)  # the sessions it opened


def parse_faults(raw: Sequence[Mapping[str, Any]], where: str) -> tuple[Fault, ...]:
    """The scenario's `[[fault]]` tables, checked; ConfigError names file and key."""
    out: list[Fault] = []
    for i, table in enumerate(raw):
        r = Reader(where, table, f"fault[{i}].")
        kind = r.get("kind", str, required=True)
        if kind not in KINDS:
            raise r.fail("kind", f"unknown fault kind {kind!r} (known: {', '.join(KINDS)})")
        spec = KINDS[kind]
        r.check_keys(COMMON | set(spec))
        at = r.number("at", 0.0, 0.0, MAX_AT_S, unit=" seconds")
        params: dict[str, Any] = {}
        for key, (kind_t, default, low, high) in spec.items():
            params[key] = _param(r, key, kind_t, default, low, high)
        say = r.get("say", list, [])
        for j, line in enumerate(say):
            if not isinstance(line, str):
                raise r.fail(f"say[{j}]", f"must be str, not {type(line).__name__}")
            Reader(where, {f"say[{j}]": line}, r.prefix).get(f"say[{j}]", str)
        say_from = r.name("say_from", SAYS_FROM.get(kind, "order-worker"))
        out.append(Fault(kind, at, params, tuple(say), say_from))
    return tuple(out)


def _param(r: Reader, key: str, kind: type, default: Any, low: float, high: float) -> Any:
    if kind is float:
        return r.number(key, default, low, high)
    if kind is int:
        value = r.get(key, int, default)
        if not low <= value <= high:
            raise r.fail(key, f"must be between {low:g} and {high:g}, not {value!r}")
        return value
    if kind is str:
        return r.name(key, default, required=default is None)
    if kind is dict:
        table = r.get(key, dict, default)
        for k, v in table.items():
            if not isinstance(v, str):
                raise r.fail(f"{key}.{k}", f"must be str, not {type(v).__name__}")
        return dict(table)
    items = r.get(key, list, default, required=default is None)
    if not low <= len(items) <= high:
        raise r.fail(key, f"must name {low:g} to {high:g} addresses")
    for j, ip in enumerate(items):
        try:
            ipaddress.ip_address(ip if isinstance(ip, str) else "")
        except ValueError:
            raise r.fail(f"{key}[{j}]", f"not an IP address: {ip!r}") from None
    return list(items)


def storyline() -> Scenario:
    """The demo's story (surge, connection leak, failed aggregation), as a scenario."""
    return load_scenario(STORYLINE)


class Drill:
    """Plays a scenario's faults on the model and says when production has recovered."""

    def __init__(self, model: Production, scenario: Scenario) -> None:
        self.model = model
        self.scenario = scenario
        self.faults = parse_faults(scenario.faults, scenario.source or scenario.name)
        self.began = model.elapsed  # the drill's second zero, on the model's clock
        self.recovered_at: float | None = None
        self.on_started: Callable[[], None] | None = None
        self.on_recovered: Callable[[], None] | None = None
        self._announced = False

    @property
    def elapsed(self) -> float:
        return self.model.elapsed - self.began

    @property
    def started(self) -> bool:
        return any(f.started for f in self.faults)

    def fault(self, kind: str) -> Fault:
        return next(f for f in self.faults if f.kind == kind)

    def step(self) -> None:
        """One simulated second: start what is due, then check what is over."""
        for f in self.faults:
            if not f.started and self.elapsed >= f.at:
                self.start(f)
        for f in self.faults:
            if f.started:
                f.seen = f.seen or self.harming(f)
        if self.recovered_at is None and self.faults and all(
                f.started and self.over(f) for f in self.faults):
            self.recovered_at = self.model.now
            self.model.event("Normal", "Recovered", "Namespace", self.model.namespace,
                             f"{self.scenario.title}: every fault is over")
            if self.on_recovered is not None:
                self.on_recovered()

    def begin(self, kind: str) -> None:
        """Start the first fault of this kind now (the demo's `begin(chapter)`)."""
        for f in self.faults:
            if f.kind == kind and not f.started:
                self.start(f)
                return

    def start(self, f: Fault) -> None:
        """Start one fault now, through the model's mechanics."""
        m, p = self.model, f.params
        f.started = True
        if not self._announced:
            self._announced = True
            if self.on_started is not None:
                self.on_started()
        if f.kind == "surge":
            m.surge_since, m.surge_factor, m.surge_ramp = m.elapsed, p["factor"], p["ramp"]
            m.surge_active = True
            m.event("Warning", "HighLoad", "Deployment", "luckygas-backend",
                    f"request rate {p['factor']:g}x normal")
        elif f.kind == "analytics_down":
            m.analytics_broken_since = m.now
            failed_aggregation(m, "analytics-aggregation-29117")  # its Job, pod and event
        elif f.kind == "connection_leak":
            m.leak_active, m.leak_every = True, p["every"]
            m.leak_left = p["count"] or None
            m.leak_since = m.elapsed
        elif f.kind in DATABASE_KINDS and m.server is not None:
            pass  # the load generator opens its sessions on the real server (pgdrill.py)
        elif f.kind == "long_queries":
            for _ in range(p["count"]):
                c = m.open_session("order-worker", "active", LONG_QUERY, p["age"])
                if c is not None:
                    f.pids.add(c.pid)
        elif f.kind == "lock_pileup":
            holder = m.open_session("order-worker", "idle in transaction", LOCK_QUERY,
                                    p["age"])
            if holder is not None:
                f.pids.add(holder.pid)
                m.order_locks.add(holder.pid)
                for _ in range(p["waiters"]):
                    w = m.open_session("order-worker", "active", LOCK_WAIT_QUERY,
                                       p["age"] - 5)
                    if w is not None:
                        w.wait_event_type, w.wait_event = "Lock", "transactionid"
                        w.blocked_by, w.lock = (holder.pid,), ROW_LOCK_WAIT
        elif f.kind == "failed_logins":
            m.logins.attack(p["ips"], p["rate"], m.now,
                            m.now + p["success_after"] if p["success_after"] else None)
        elif f.kind == "bad_rollout":
            m.rollout_bad_config(p["deployment"], p["env"], p["message"])
        for line in f.say:
            m.say(f.say_from, line)

    def harming(self, f: Fault) -> bool:
        """Is this fault's harm in production now?"""
        m = self.model
        if f.kind == "surge":
            return m.api_p95_ms() > 2000.0
        if f.kind == "analytics_down":
            return m.analytics_broken_since is not None
        if m.server is not None and f.kind in DATABASE_KINDS:
            return m.server.harming(f, m)
        if f.kind == "connection_leak":
            return m.leak_active or bool(m.leak_pids & m.connections.keys())
        if f.kind in ("long_queries", "lock_pileup"):
            return any(m.connections[pid].pinned for pid in f.pids & m.connections.keys())
        if f.kind == "failed_logins":
            return m.logins.attacking(m.now) or m.logins.compromised_since is not None
        if f.kind == "bad_rollout":  # a pod of the deployment crash-loops, or none is ready
            pods = [p for p in m.pods.values() if p.deployment == f.params["deployment"]
                    and p.terminating_at is None]
            return (any(p.crashed(m.now) for p in pods)
                    or not any(p.ready(m.now) for p in pods))
        return False

    def over(self, f: Fault) -> bool:
        return f.seen and not self.harming(f)

    def still(self) -> list[str]:
        """The faults still harming production, by kind."""
        return [f.kind for f in self.faults if f.started and not self.over(f)]
