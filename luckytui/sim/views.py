"""What the simulated production's clients see: endpoint answers, the API's p95,
the backend's load, the active alerts. Read from the model's state; the model
(luckytui/sim/model.py) makes that state evolve."""

from __future__ import annotations

from typing import TYPE_CHECKING

from luckytui.sim.resources import (
    DATABASE,
    SimAlertRule,
    SimConnection,
    SimEndpoint,
    SimPod,
    iso,
)

if TYPE_CHECKING:
    from luckytui.sim.pgdrill import ServerView


class ClientView:
    """Mixed into `Production`: its answers to the API, Prometheus and the alerts."""

    now: float
    namespace: str
    pods: dict[str, SimPod]
    connections: dict[int, SimConnection]
    endpoints: list[SimEndpoint]
    alert_rules: list[SimAlertRule]
    max_connections: int
    read_only_databases: set[str]
    analytics_broken_since: float | None
    order_locks: set[int]
    server: ServerView | None

    def orders_stalled(self) -> bool:
        """Order writes wait on a row lock a forgotten transaction holds (on a real
        server: the holding session is still connected there)."""
        if self.server is not None:
            return bool(self.order_locks & self.server.alive)
        return bool(self.order_locks & self.connections.keys())

    def db_clients(self) -> int:
        """The database's connections: the real server's client backends when one plays
        the drill, else the simulated sessions."""
        return self.server.clients if self.server is not None else len(self.connections)

    def db_max_connections(self) -> int:
        return self.server.max_connections if self.server is not None else self.max_connections

    def backend_utilisation(self) -> float:
        pods = [p for p in self.pods.values()
                if p.deployment == "luckygas-backend" and p.ready(self.now)]
        if not pods:
            return 1.0
        return sum(p.cpu_m / p.cpu_limit_m for p in pods) / len(pods)

    def endpoint_response(self, ep: SimEndpoint, draw: float) -> tuple[int, float]:
        """(HTTP status, latency in ms) for one request; `draw` is in [0, 1)."""
        if ep.group == "site":
            frontend = [p for p in self.pods.values() if p.deployment == "luckygas-frontend"]
            if frontend and not any(p.ready(self.now) for p in frontend):
                return 503, 2.0  # every frontend pod down (crash-looping)
            return 200, ep.base_ms * (0.8 + 0.4 * draw)
        backend_ready = any(p.deployment == "luckygas-backend" and p.ready(self.now)
                            for p in self.pods.values())
        if not backend_ready:
            return 503, 2.0
        u = min(self.backend_utilisation(), 0.97)
        queue = 1.0 / (1.0 - u) if u > 0.5 else 2.0
        latency = ep.base_ms * queue * (0.7 + 0.6 * draw)
        if self.db_clients() >= self.db_max_connections() - 3 and ep.group != "site":
            latency += 900.0  # waiting for a pooled connection
        if ep.name == "financial" and self.analytics_broken_since is not None:
            return 500, latency * 0.3
        if ep.name == "orders" and (DATABASE in self.read_only_databases
                                    or self.orders_stalled()):
            return 503, latency
        return 200, latency

    def api_p95_ms(self) -> float:
        """The API's p95 latency as the backend's load makes it (what the alert reads)."""
        u = self.backend_utilisation()
        slowest = max(ep.base_ms for ep in self.endpoints if ep.group == "analytics")
        return slowest * (1.0 / (1.0 - min(u, 0.97)) if u > 0.5 else 2.0) * 1.25

    def alerts(self) -> list[dict[str, object]]:
        """Active alerts in the shape of Prometheus's /api/v1/alerts."""
        out: list[dict[str, object]] = []
        for r in self.alert_rules:
            if r.pending_since is None:
                continue
            state = "firing" if self.now - r.pending_since >= r.for_s else "pending"
            out.append({
                "labels": {"alertname": r.name, "severity": r.severity,
                           "namespace": self.namespace, "service": "luckygas"},
                "annotations": {"summary": r.summary},
                "state": state,
                "activeAt": iso(r.pending_since),
                "value": f"{r.value:.6g}",
            })
        return out
