"""The war room against the simulated production, through the real client code."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from luckytui.app import LuckyApp
from luckytui.config import load_settings
from luckytui.sim.runner import Simulation, start_simulation
from luckytui.snapshots import SourceStatus
from widgets.alerts import AlertsPane
from widgets.database import DatabasePane
from widgets.endpoints import EndpointsPane
from widgets.pods import PodsPane
from widgets.slow_queries import SlowQueriesPane
from widgets.table import DiffTable


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[Simulation]:
    simulation = await start_simulation(tmp_path / "sim", seed=7)
    simulation.model.begin("surge")  # the surge is at its height at once
    simulation.model.surge_since = simulation.model.elapsed - 30
    try:
        yield simulation
    finally:
        await simulation.stop()


async def wait_for(pilot: Pilot[int], condition: object, within: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await pilot.pause(0.1)


async def test_every_pane_fills_with_simulated_data(sim: Simulation, tmp_path: Path) -> None:
    settings = load_settings(sim.config_path).with_overrides(refresh=0.5)
    app = LuckyApp(settings, log_path=tmp_path / "log.sqlite3")
    async with app.run_test(size=(160, 48)) as pilot:
        panes = [app.dashboard.query_one(PodsPane), app.dashboard.query_one(DatabasePane),
                 app.dashboard.query_one(SlowQueriesPane), app.dashboard.query_one(EndpointsPane),
                 app.dashboard.query_one(AlertsPane)]
        await wait_for(pilot, lambda: all(p.snapshot is not None for p in panes))
        pods = app.dashboard.query_one(PodsPane).snapshot
        assert pods is not None
        assert {d.name for d in pods.deployments} == set(sim.model.deployments)
        assert {p.name for p in pods.pods} == set(sim.model.every_pod())
        # CPU through PromQL, from the simulated Prometheus, trend backfilled at once
        assert pods.metrics_available and all(p.cpu_m is not None for p in pods.pods)
        assert all(len(p.cpu_history) > 1 for p in pods.pods)
        assert all(min(p.cpu_history) > 0 for p in pods.pods if p.ready), [
            p.cpu_history for p in pods.pods]
        db = app.dashboard.query_one(DatabasePane).snapshot
        assert db is not None and db.max_connections == sim.model.max_connections
        assert db.long_running, "the 7-minute report query is listed"
        endpoints = app.dashboard.query_one(EndpointsPane).snapshot
        assert endpoints is not None
        names = {e.name for e in endpoints.endpoints}
        assert {"login", "health", "executive", "orders"} <= names
        assert all(e.ok for e in endpoints.endpoints if e.group in ("login", "analytics")), [
            (e.name, e.error) for e in endpoints.endpoints]
        assert all(s.status is SourceStatus.OK for s in app.states.values())
        table = app.dashboard.query_one(PodsPane).query_one(DiffTable)
        assert table.row_count > 0

        # the data keeps changing
        first = pods.pods
        await wait_for(pilot, lambda: app.dashboard.query_one(PodsPane).snapshot.pods != first)  # type: ignore[union-attr]


async def test_a_source_going_down_marks_its_pane_and_recovers(
        sim: Simulation, tmp_path: Path) -> None:
    settings = load_settings(sim.config_path).with_overrides(refresh=0.3)
    app = LuckyApp(settings, log_path=tmp_path / "log.sqlite3")
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: len(app.pollers) == 4 and all(
            s.status is SourceStatus.OK for s in app.states.values()))
        prom = sim.runners[2]
        site_sockets = [s for site in prom.sites for s in site._server.sockets]  # type: ignore[union-attr]
        port = site_sockets[0].getsockname()[1]
        await prom.cleanup()
        await wait_for(pilot, lambda: app.states["alerts"].status is SourceStatus.FAILING)
        pane = app.dashboard.query_one(AlertsPane)
        assert pane.snapshot is not None, "the last good data is kept"
        assert "failing" in str(pane.border_subtitle)
        # the others go on
        assert app.states["kube"].status is SourceStatus.OK
        # the service comes back on the same address
        from aiohttp import web

        from luckytui.sim.promapi import make_prometheus_app

        runner = web.AppRunner(make_prometheus_app(sim.model))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        sim.runners[2] = runner
        await wait_for(pilot, lambda: app.states["alerts"].status is SourceStatus.OK)


async def test_fired_alerts_reach_the_log_and_timeline(sim: Simulation, tmp_path: Path) -> None:
    sim.model.alert_rules[0].for_s = 0  # HighAPIResponseTime fires as soon as it is true
    settings = load_settings(sim.config_path).with_overrides(refresh=0.3)
    log_path = tmp_path / "log.sqlite3"
    app = LuckyApp(settings, log_path=log_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: any("HighAPIResponseTime" in i.text for _, i
                                          in app._timeline), within=40)
    from luckytui.store import EventLog

    async with await EventLog.open(log_path) as log:
        records = await log.records(kinds=["alert.fired"])
    assert [r.data["alert"] for r in records].count("HighAPIResponseTime") == 1
