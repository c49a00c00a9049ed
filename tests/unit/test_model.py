"""The simulated production: deterministic, and it reacts to the plan's remedies."""

from __future__ import annotations

from luckytui.sim.model import DATABASE, Production
from tests.conftest import ManualClock


def state(m: Production) -> tuple[object, ...]:
    return (
        sorted((p.name, round(p.cpu_m, 6)) for p in m.pods.values()),
        sorted((c.pid, c.state) for c in m.connections.values()),
        [(s.calls, round(s.total_exec_time, 6)) for s in m.statements],
        m.alerts(),
    )


def run(seed: int, seconds: int) -> Production:
    clock = ManualClock()
    m = Production(seed=seed, clock=clock)
    clock.advance(seconds)
    m.sync()
    return m


def test_same_seed_same_story_other_seed_other_story() -> None:
    assert state(run(7, 90)) == state(run(7, 90))
    assert state(run(7, 90)) != state(run(8, 90))


def test_plan_topology() -> None:
    m = run(7, 0)
    assert {n: d.replicas for n, d in m.deployments.items()} == {
        "luckygas-backend": 3, "luckygas-frontend": 2, "order-worker": 2}
    assert len(m.nodes) >= 3 and "analytics-aggregation" in m.cronjobs
    assert len(m.pods) == 7
    states = {c.state for c in m.connections.values()}
    assert {"active", "idle", "idle in transaction"} <= states
    assert any(c.wait_event_type == "Lock" and c.blocked_by for c in m.connections.values())
    long = [c for c in m.connections.values()
            if c.state == "active" and c.query_start and m.now - c.query_start > 300]
    assert long, "a query over the plan's 5-minute line exists from the start"


def test_large_scale_sizes() -> None:
    m = Production(seed=1, scale="large", clock=ManualClock())
    assert len(m.pods) >= 2000 and len(m.deployments) >= 30
    assert len(m.connections) >= 1000 and len(m.endpoints) >= 40


def test_surge_fires_high_latency_and_scaling_fixes_it() -> None:
    clock = ManualClock()
    m = Production(seed=7, clock=clock)
    clock.advance(90)
    m.sync()
    firing = {a["labels"]["alertname"] for a in m.alerts() if a["state"] == "firing"}  # type: ignore[index]
    assert "HighAPIResponseTime" in firing
    hot = m.backend_utilisation()
    m.scale("luckygas-backend", 10)
    clock.advance(20)
    m.sync()
    backend = [p for p in m.pods.values() if p.deployment == "luckygas-backend"]
    assert len(backend) == 10
    assert m.backend_utilisation() < hot * 0.6
    clock.advance(5)
    m.sync()
    assert "HighAPIResponseTime" not in {a["labels"]["alertname"] for a in m.alerts()}  # type: ignore[index]


def test_leak_fills_connections_and_restart_stops_it() -> None:
    clock = ManualClock()
    m = Production(seed=7, clock=clock)
    clock.advance(200)
    m.sync()
    leaked = [c for c in m.connections.values() if c.state == "idle in transaction"]
    assert len(leaked) > 30
    assert len(m.connections) > 0.9 * m.max_connections
    m.restart("order-worker")
    clock.advance(30)
    m.sync()
    assert not m.leak_active
    assert len(m.connections) < 0.6 * m.max_connections


def test_analytics_breaks_and_a_manual_job_repairs_it() -> None:
    clock = ManualClock()
    m = Production(seed=7, clock=clock)
    clock.advance(100)
    m.sync()
    financial = next(e for e in m.endpoints if e.name == "financial")
    assert m.endpoint_response(financial, 0.5)[0] == 500
    m.create_job("analytics-manual-1", "analytics-aggregation")
    clock.advance(10)
    m.sync()
    assert m.endpoint_response(financial, 0.5)[0] == 200


def test_terminate_and_read_only() -> None:
    m = run(7, 5)
    holder = next(c for c in m.connections.values() if c.state == "idle in transaction")
    waiter = next(c for c in m.connections.values() if holder.pid in c.blocked_by)
    assert m.terminate_backend(holder.pid)
    assert holder.pid not in m.connections and waiter.blocked_by == ()
    assert not m.terminate_backend(holder.pid)
    orders = next(e for e in m.endpoints if e.name == "orders")
    m.set_read_only(DATABASE, True)
    assert m.endpoint_response(orders, 0.1)[0] == 503
    m.set_read_only(DATABASE, False)
    assert m.endpoint_response(orders, 0.1)[0] in (200, 201)


def test_cordon_keeps_new_pods_off_the_node() -> None:
    clock = ManualClock()
    m = Production(seed=7, clock=clock)
    node = sorted(m.nodes)[0]
    m.set_unschedulable(node, True)
    m.scale("luckygas-frontend", 8)
    clock.advance(10)
    m.sync()
    new = [p for p in m.pods.values() if p.deployment == "luckygas-frontend"
           and p.created >= m.started]
    assert new and all(p.node != node for p in new)
