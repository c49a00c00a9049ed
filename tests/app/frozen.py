"""Deterministic snapshots of the simulated production, for screenshots.

The model runs on a manual clock; its database rows and alerts go through the
same parsing code the live sources use (`build_db_snapshot`,
`parse_alerts_document`). Endpoint latencies come from the model with fixed
draws instead of a stopwatch, so every run renders the same screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from luckytui.sim.model import DATABASE, Production
from luckytui.sim.pgapi import activity_row, statement_row
from luckytui.snapshots import (
    AlertsSnapshot,
    DeploymentInfo,
    EndpointResult,
    EndpointsSnapshot,
    NodeInfo,
    PodInfo,
    PodsSnapshot,
)
from luckytui.sources.alerts import parse_alerts_document
from luckytui.sources.base import SourceError
from luckytui.sources.endpoints import p95
from luckytui.sources.postgres import build_db_snapshot
from tests.conftest import ManualClock


def at(model: Production) -> datetime:
    return datetime.fromtimestamp(model.now, UTC)


def pods_snapshot(m: Production, history: dict[str, list[float]]) -> PodsSnapshot:
    pods = []
    for p in m.pods.values():
        history.setdefault(p.name, []).append(round(p.cpu_m, 1))
        pods.append(PodInfo(
            name=p.name, uid=p.uid, deployment=p.deployment, node=p.node,
            phase="Terminating" if p.terminating_at else p.phase(m.now), ready=p.ready(m.now),
            restarts=p.restarts, started_at=datetime.fromtimestamp(p.created, UTC),
            cpu_m=round(p.cpu_m, 1), cpu_limit_m=float(p.cpu_limit_m),
            cpu_history=tuple(history[p.name][-20:])))
    deps = []
    for d in m.deployments.values():
        live = [p for p in m.pods.values() if p.deployment == d.name]
        ready = sum(1 for p in live if p.ready(m.now))
        deps.append(DeploymentInfo(d.name, d.replicas, ready, ready, ready))
    nodes = [NodeInfo(n.name, True, n.unschedulable, None, float(n.cpu_capacity_m))
             for n in m.nodes.values()]
    return PodsSnapshot(at(m), m.namespace, tuple(pods), tuple(deps), tuple(nodes))


def endpoints_snapshot(m: Production, history: dict[str, list[float]]) -> EndpointsSnapshot:
    results = []
    for i, ep in enumerate(m.endpoints):
        status, latency = m.endpoint_response(ep, (i * 0.37) % 1.0)
        if ep.method == "POST" and ep.name == "orders" and status == 200:
            status = 201
        latency = round(latency, 1)
        history.setdefault(ep.name, []).append(latency)
        ok = status in (200, 201)
        results.append(EndpointResult(
            name=ep.name, group=ep.group, method=ep.method, url="http://127.0.0.1:8080" + ep.path,
            status=status, latency_ms=latency, p95_ms=p95(history[ep.name]), ok=ok,
            error=None if ok else f"HTTP {status}", checked_at=at(m),
            history=tuple(history[ep.name][-30:])))
    return EndpointsSnapshot(at(m), tuple(results))


def snapshots_after(seconds: int, seed: int = 7, scale: str = "small") -> dict[str, Any]:
    """Run the model `seconds` in 2-second refreshes; the last snapshot of each source."""
    clock = ManualClock()
    m = Production(seed=seed, scale=scale, clock=clock)  # type: ignore[arg-type]
    pod_hist: dict[str, list[float]] = {}
    ep_hist: dict[str, list[float]] = {}
    out: dict[str, Any] = {}
    for _ in range(0, seconds, 2):
        clock.advance(2)
        m.sync()
        out["kube"] = pods_snapshot(m, pod_hist)
        out["endpoints"] = endpoints_snapshot(m, ep_hist)
    rows: Sequence[dict[str, Any]] = [activity_row(c) for c in m.connections.values()]
    out["db"] = build_db_snapshot(DATABASE, m.max_connections, rows,
                                  [statement_row(s) for s in m.statements], at(m))
    try:
        alerts = parse_alerts_document({"status": "success", "data": {"alerts": m.alerts()}})
    except SourceError:  # pragma: no cover - the model always answers well-formed alerts
        raise
    out["alerts"] = AlertsSnapshot(at(m), alerts)
    out["now"] = at(m)
    return out
