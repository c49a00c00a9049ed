"""The PostgreSQL remedies against a real PostgreSQL server, and through `luckytui act`
against the simulated production.

Against the real server the sessions are real connections: a terminated one is
gone from pg_stat_activity and its connection is broken, a cancelled pg_sleep
ends with query_canceled while its session stays, read-only mode is what a new
session sees.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest

from luckytui.config import ConfigError, DatabaseSettings, Settings
from luckytui.mitigations.base import ActionError
from luckytui.mitigations.pg import (
    PgContext,
    ReadOnly,
    SignalBackend,
    TerminateMany,
    iso,
    parse_age,
)
from luckytui.mitigations.registry import build_actions
from luckytui.sim.model import DATABASE as SIM_DATABASE
from luckytui.sim.pgtwin import SimPgOps, SimPostgresSource
from luckytui.sim.pgtwin import register as register_pg_twin
from luckytui.sim.runner import Simulation
from luckytui.sources.factory import build_sources
from luckytui.systems import postgres as pg_system
from luckytui.systems.postgres import RealPgOps
from tests.integration.pg import (
    DATABASE,
    PLAIN_DATABASE,
    PgCluster,
    postgres,  # noqa: F401
)
from tests.integration.test_act import act, records

Conn = psycopg.AsyncConnection[tuple[Any, ...]]


@pytest.fixture
def cluster(postgres: PgCluster) -> PgCluster:  # noqa: F811
    return postgres


@pytest.fixture
async def ctx(cluster: PgCluster) -> AsyncIterator[PgContext]:
    ops = RealPgOps(cluster.dsn(DATABASE))
    try:
        yield PgContext(ops, DATABASE)
    finally:
        await ops.aclose()


@pytest.fixture
async def sessions(cluster: PgCluster) -> AsyncIterator[list[Conn]]:
    """Connections a test opens; closed after it, whatever state they are in."""
    opened: list[Conn] = []
    yield opened
    for conn in opened:
        await conn.close()


async def session(cluster: PgCluster, opened: list[Conn], app: str,
                  dbname: str = DATABASE) -> Conn:
    conn = await psycopg.AsyncConnection.connect(cluster.dsn(dbname), autocommit=True,
                                                 application_name=app)
    opened.append(conn)
    return conn


async def alive(cluster: PgCluster, pid: int) -> bool:
    async with await psycopg.AsyncConnection.connect(cluster.dsn("postgres"),
                                                     autocommit=True) as c:
        cur = await c.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
        row = await cur.fetchone()
        assert row is not None
        return bool(row[0])


async def state_of(cluster: PgCluster, pid: int, want: str, timeout: float = 5) -> None:
    """Wait until the backend reports `want` (a query sent is active a moment later)."""
    async with await psycopg.AsyncConnection.connect(cluster.dsn("postgres"),
                                                     autocommit=True) as c:
        for _ in range(int(timeout / 0.02)):
            cur = await c.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,))
            row = await cur.fetchone()
            if row is not None and row[0] == want:
                return
            await asyncio.sleep(0.02)
    raise AssertionError(f"backend {pid} never became {want}")


async def test_terminate_one_backend(cluster: PgCluster, ctx: PgContext,
                                     sessions: list[Conn]) -> None:
    victim = await session(cluster, sessions, "victim")
    pid = victim.info.backend_pid
    action = SignalBackend(ctx, terminate=True)
    plan = await action.plan(str(pid))
    assert plan.target == f"backend/{pid}" and plan.identity["pid"] == str(pid)
    assert f"pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = {pid} " \
           f"AND backend_start = '{plan.identity['backend_start']}'" in plan.command
    assert "idle for" in plan.changes[0].before and "terminated" in plan.changes[0].after
    outcome = await action.execute(plan)
    assert outcome.ok and outcome.detail == f"backend {pid} terminated"
    assert not await alive(cluster, pid)
    with pytest.raises(psycopg.OperationalError):
        await victim.execute("SELECT 1")


async def test_cancel_interrupts_the_query_and_keeps_the_session(
        cluster: PgCluster, ctx: PgContext, sessions: list[Conn]) -> None:
    sleeper = await session(cluster, sessions, "sleeper")
    pid = sleeper.info.backend_pid
    sleeping = asyncio.create_task(sleeper.execute("SELECT pg_sleep(30)"))
    await state_of(cluster, pid, "active")
    action = SignalBackend(ctx, terminate=False)
    plan = await action.plan(str(pid))
    assert "active for" in plan.changes[0].before and "pg_sleep(30)" in plan.changes[0].before
    assert plan.command.startswith("SELECT pg_cancel_backend(pid)")
    assert (await action.execute(plan)).ok
    with pytest.raises(psycopg.errors.QueryCanceled):
        await asyncio.wait_for(sleeping, 5)
    assert await alive(cluster, pid)
    cur = await sleeper.execute("SELECT pg_backend_pid()")
    assert await cur.fetchone() == (pid,)


async def test_terminate_long_terminates_exactly_the_long_ones(
        cluster: PgCluster, ctx: PgContext, sessions: list[Conn]) -> None:
    long_a = await session(cluster, sessions, "report-a")
    long_b = await session(cluster, sessions, "report-b")
    idle = await session(cluster, sessions, "idle-one")
    tasks = [asyncio.create_task(c.execute("SELECT pg_sleep(60)")) for c in (long_a, long_b)]
    for c in (long_a, long_b):
        await state_of(cluster, c.info.backend_pid, "active")
    await asyncio.sleep(1.3)
    short = await session(cluster, sessions, "fresh")
    short_task = asyncio.create_task(short.execute("SELECT pg_sleep(3)"))
    await state_of(cluster, short.info.backend_pid, "active")

    action = TerminateMany(ctx, idle=False)
    plan = await action.plan("1s")
    frozen = {int(p) for p, _ in plan.args["backends"]}
    assert frozen == {long_a.info.backend_pid, long_b.info.backend_pid}
    assert plan.typed_confirmation == DATABASE
    assert len(plan.touches) == 2 and all("pg_sleep(60)" in t for t in plan.touches)
    assert any(t.startswith(f"{long_a.info.backend_pid} (postgres, report-a, active ")
               for t in plan.touches)
    outcome = await action.execute(plan)
    assert outcome.ok and outcome.detail == "terminated 2 of 2 sessions"
    for c, task in zip((long_a, long_b), tasks, strict=True):
        assert not await alive(cluster, c.info.backend_pid)
        with pytest.raises(psycopg.OperationalError):
            await task
    assert await alive(cluster, short.info.backend_pid)
    assert await alive(cluster, idle.info.backend_pid)
    await short_task  # it ran to its end


async def test_terminate_idle_terminates_exactly_the_idle_long_ones(
        cluster: PgCluster, ctx: PgContext, sessions: list[Conn]) -> None:
    old = await session(cluster, sessions, "old-idle")
    # a forgotten transaction holds a pool slot as surely as an idle session
    forgot = await session(cluster, sessions, "forgot-commit")
    await forgot.set_autocommit(False)
    await forgot.execute("SELECT 1")
    await state_of(cluster, forgot.info.backend_pid, "idle in transaction")
    other_db = await session(cluster, sessions, "elsewhere", PLAIN_DATABASE)
    busy = await session(cluster, sessions, "busy")
    busy_task = asyncio.create_task(busy.execute("SELECT pg_sleep(4)"))
    await state_of(cluster, busy.info.backend_pid, "active")
    await asyncio.sleep(1.3)
    fresh = await session(cluster, sessions, "fresh-idle")

    action = TerminateMany(ctx, idle=True)
    plan = await action.plan("1s")
    idle_ones = {old.info.backend_pid, forgot.info.backend_pid}
    assert {int(p) for p, _ in plan.args["backends"]} == idle_ones
    assert "WHERE datname = 'luckygas_prod' AND state LIKE 'idle%'" in plan.command
    outcome = await action.execute(plan)
    assert outcome.ok and set(outcome.changed["terminated"]) == idle_ones
    assert outcome.changed["gone"] == []
    assert not await alive(cluster, old.info.backend_pid)
    assert not await alive(cluster, forgot.info.backend_pid)
    for c in (other_db, busy, fresh):
        assert await alive(cluster, c.info.backend_pid)
    await busy_task
    # none left, once everything old enough is gone
    with pytest.raises(ActionError, match="nothing to terminate"):
        await action.plan("1h")


async def test_read_only_on_for_new_sessions_then_off(
        cluster: PgCluster, ctx: PgContext, sessions: list[Conn]) -> None:
    action = ReadOnly(ctx)
    on = await action.plan(DATABASE, "on")
    assert on.typed_confirmation == DATABASE
    assert (on.changes[0].before, on.changes[0].after) == ("off (read-write)",
                                                           "on (read-only)")
    assert on.command == ('ALTER DATABASE "luckygas_prod" SET '
                          "default_transaction_read_only = on;")
    assert on.undo == {"action": "read-only", "args": [DATABASE, "off"]}
    assert (await action.execute(on)).ok
    try:
        newcomer = await session(cluster, sessions, "newcomer")
        cur = await newcomer.execute("SHOW default_transaction_read_only")
        assert await cur.fetchone() == ("on",)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            await newcomer.execute("UPDATE accounts SET balance = balance + 1 WHERE id = 1")
        with pytest.raises(ActionError, match="already read-only"):
            await action.plan(DATABASE, "on")
        # a fresh luckytui connection can still turn it off
        ops = RealPgOps(cluster.dsn(DATABASE))
        try:
            undo = ReadOnly(PgContext(ops, DATABASE))
            off = await undo.plan(*on.undo["args"])
            assert (await undo.execute(off)).ok
        finally:
            await ops.aclose()
    finally:
        cluster.execute(f"ALTER DATABASE {DATABASE} SET default_transaction_read_only = off")
    later = await session(cluster, sessions, "later")
    cur = await later.execute("SHOW default_transaction_read_only")
    assert await cur.fetchone() == ("off",)
    await later.execute("UPDATE accounts SET balance = balance WHERE id = 1")


async def test_read_only_refused_when_changed_since_the_plan(
        cluster: PgCluster, ctx: PgContext) -> None:
    action = ReadOnly(ctx)
    plan = await action.plan(PLAIN_DATABASE, "on")
    cluster.execute(f"ALTER DATABASE {PLAIN_DATABASE} SET default_transaction_read_only = on")
    try:
        with pytest.raises(ActionError, match="changed by someone else"):
            await action.execute(plan)
    finally:
        cluster.execute(f"ALTER DATABASE {PLAIN_DATABASE} RESET default_transaction_read_only")


async def test_refusals(cluster: PgCluster, ctx: PgContext) -> None:
    rows = await ctx.ops.activity()
    own = next(r for r in rows if r["own"])
    with pytest.raises(ActionError, match="luckytui's own session"):
        await SignalBackend(ctx, terminate=True).plan(str(own["pid"]))
    server = next(r for r in rows if r["backend_type"] == "checkpointer")
    for terminate in (False, True):
        with pytest.raises(ActionError, match="server's checkpointer, not a client session"):
            await SignalBackend(ctx, terminate=terminate).plan(str(server["pid"]))
    with pytest.raises(ActionError, match="postgres is a system database"):
        await ReadOnly(ctx).plan("postgres", "on")
    with pytest.raises(ActionError, match='database "nope" does not exist'):
        await ReadOnly(ctx).plan("nope", "on")
    with pytest.raises(ActionError, match="no backend with pid 999999"):
        await SignalBackend(ctx, terminate=True).plan("999999")
    with pytest.raises(ActionError, match="PID must be a whole number"):
        await SignalBackend(ctx, terminate=True).plan("x")
    with pytest.raises(ActionError, match="usage: read-only DATABASE on"):
        await ReadOnly(ctx).plan(DATABASE, "maybe")
    with pytest.raises(ActionError, match="at least 1s"):
        await TerminateMany(ctx, idle=True).plan("0s")
    with pytest.raises(ActionError, match="not an age"):
        await TerminateMany(ctx, idle=True).plan("soon")
    assert parse_age("5m") == 300 and parse_age("90") == 90 and parse_age("1h") == 3600


async def test_a_backend_gone_since_the_plan_is_reported_not_hit(
        cluster: PgCluster, ctx: PgContext, sessions: list[Conn]) -> None:
    victim = await session(cluster, sessions, "victim")
    pid = victim.info.backend_pid
    action = SignalBackend(ctx, terminate=True)
    plan = await action.plan(str(pid))
    bulk = TerminateMany(ctx, idle=True)
    await asyncio.sleep(1.1)
    bulk_plan = await bulk.plan("1s")
    assert str(pid) in bulk_plan.identity
    cluster.execute(f"SELECT pg_terminate_backend({pid}, 5000)")
    # a pid whose backend_start differs is another session: never signalled
    mine = own_pid(await ctx.ops.activity())
    stale = replace(plan, args={"pid": mine, "backend_start": plan.args["backend_start"]})
    with pytest.raises(ActionError, match="has gone since the plan: nothing was signalled"):
        await action.execute(plan)
    with pytest.raises(ActionError, match="has gone since the plan"):
        await action.execute(stale)
    assert own_pid(await ctx.ops.activity()) == mine  # still connected: nothing was hit
    outcome = await bulk.execute(bulk_plan)
    assert outcome.ok and pid in outcome.changed["gone"]
    assert f"already gone: {pid}" in outcome.detail or pid in outcome.changed["gone"]
    # the pane's frozen backend_start: a reused pid is refused at plan time
    other = await session(cluster, sessions, "other")
    with pytest.raises(ActionError, match="is now another session"):
        await action.plan(str(other.info.backend_pid), plan.args["backend_start"])
    rows = await ctx.ops.activity()
    start = next(r["backend_start"] for r in rows if r["pid"] == other.info.backend_pid)
    assert (await action.plan(str(other.info.backend_pid), iso(start))).args["pid"] == \
        other.info.backend_pid


def own_pid(rows: list[dict[str, Any]]) -> int:
    return int(next(r["pid"] for r in rows if r["own"]))


def pg_context(action: object) -> PgContext:
    assert isinstance(action, SignalBackend | ReadOnly)
    return action.ctx


def test_registry_offers_the_database_actions() -> None:
    real = build_actions(Settings(databases=(DatabaseSettings(
        "prod", dsn="host=127.0.0.1 dbname=luckygas_prod"),)))
    assert {"cancel", "terminate", "terminate-long", "terminate-idle",
            "read-only"} <= set(real)
    assert isinstance(pg_context(real["cancel"]).ops, RealPgOps)
    assert pg_context(real["cancel"]).database == "luckygas_prod"
    register_pg_twin()
    sim = build_actions(Settings(databases=(DatabaseSettings(
        "prod", api_url="http://127.0.0.1:9/databases/luckygas_prod/activity"),)))
    ops = pg_context(sim["read-only"]).ops
    assert isinstance(ops, SimPgOps)
    assert (ops.base_url, ops.datname) == ("http://127.0.0.1:9", "luckygas_prod")
    assert build_actions(Settings(read_only=True, databases=(DatabaseSettings(
        "prod", dsn="dbname=x"),))) == {}


def test_a_database_served_over_http_needs_a_registered_twin(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine has no adapter of its own for `api_url`: without the simulation's
    twin registered, building the sources or the remedies says so in one line."""
    monkeypatch.setattr(pg_system, "_twin", [])
    settings = Settings(databases=(DatabaseSettings(
        "prod", api_url="http://127.0.0.1:9/databases/luckygas_prod/activity"),))
    problem = "databases: nothing in this process serves the database at http://127.0.0.1:9/"
    with pytest.raises(ConfigError, match=problem):
        build_actions(settings)
    with pytest.raises(ConfigError, match=problem):
        build_sources(settings)
    register_pg_twin()
    assert [s.name for s in build_sources(settings)] == ["db"]
    assert isinstance(build_sources(settings)[0], SimPostgresSource)


# --- the simulation, through `luckytui act` ------------------------------------------------


async def test_act_terminate_idle_and_one_backend_in_the_simulation(
        sim: Simulation, tmp_path: Path) -> None:
    log = tmp_path / "log"
    code, out, err = await act(sim, log, "--list")
    assert code == 0 and "terminate-idle [AGE]" in out and "read-only DATABASE on|off" in out
    model = sim.model
    model.sync()
    for c in model.connections.values():  # a quiet moment: the pool sits idle
        if c.backend_type == "client backend" and not c.pinned:
            c.pinned, c.state = True, "idle"
            c.state_change = model.now - 600
    idle = {p for p, c in model.connections.items()
            if c.state == "idle" and c.backend_type == "client backend"}
    assert idle
    code, out, err = await act(sim, log, "terminate-idle", "5m", "--yes", "--json")
    assert code == 0, err + out
    doc = json.loads(out)
    assert doc["status"] == "ok" and set(doc["changed"]["terminated"]) == idle
    assert doc["plan"]["args"]["older_than_s"] == 300
    assert not idle & set(model.connections)
    report = next(p for p, c in model.connections.items()
                  if c.application_name == "metabase")
    code, out, err = await act(sim, log, "terminate", str(report), "--yes")
    assert code == 0, err + out
    assert f"backend {report} terminated" in out and report not in model.connections
    server = next(p for p, c in model.connections.items() if c.backend_type == "checkpointer")
    code, out, _ = await act(sim, log, "terminate", str(server), "--yes")
    assert code == 1 and "not a client session" in out and server in model.connections
    kinds = [k for k, _ in await records(log)]
    assert kinds == ["mitigation.intent", "mitigation.outcome"] * 2 + ["mitigation.refused"]


async def test_act_read_only_in_the_simulation(sim: Simulation, tmp_path: Path) -> None:
    log = tmp_path / "log"
    code, _, err = await act(sim, log, "read-only", SIM_DATABASE, "on")  # no terminal
    assert code == 2 and "pass --yes" in err
    assert SIM_DATABASE not in sim.model.read_only_databases
    code, out, err = await act(sim, log, "read-only", SIM_DATABASE, "on", "--yes")
    assert code == 0, err + out
    assert "default_transaction_read_only (new sessions): off (read-write) → on" in out
    assert SIM_DATABASE in sim.model.read_only_databases
    code, out, _ = await act(sim, log, "read-only", SIM_DATABASE, "on", "--yes")
    assert code == 1 and "already read-only" in out
    code, out, err = await act(sim, log, "read-only", SIM_DATABASE, "off", "--yes")
    assert code == 0, err + out
    assert SIM_DATABASE not in sim.model.read_only_databases
    code, out, _ = await act(sim, log, "read-only", "postgres", "on", "--yes")
    assert code == 1 and "system database" in out


async def test_sim_refuses_a_reused_pid(sim: Simulation) -> None:
    ops = SimPgOps(sim.pg_url, SIM_DATABASE)
    rows = await ops.activity()
    row = next(r for r in rows if r["backend_type"] == "client backend")
    later = row["backend_start"].replace(microsecond=(row["backend_start"].microsecond + 1)
                                         % 1_000_000)
    assert not await ops.terminate(row["pid"], later)
    assert row["pid"] in sim.model.connections
    assert await ops.terminate(row["pid"], row["backend_start"])
    assert row["pid"] not in sim.model.connections
    assert not await ops.terminate(row["pid"], row["backend_start"])


async def test_read_only_can_also_end_the_open_sessions(
        cluster: PgCluster, ctx: PgContext, sessions: list[Conn]) -> None:
    open_one = await session(cluster, sessions, "open-before")
    await open_one.execute("SELECT 1")
    pid = open_one.info.backend_pid
    action = ReadOnly(ctx)
    plan = await action.plan(DATABASE, "on", "terminate")
    assert any(f"{pid}" in t for t in plan.touches)
    try:
        outcome = await action.execute(plan)
        assert outcome.ok and pid in outcome.changed["terminated"]
        with pytest.raises(psycopg.OperationalError):
            await open_one.execute("SELECT 1")  # it was ended
        again = await session(cluster, sessions, "reconnected")
        cur = await again.execute("SHOW default_transaction_read_only")
        assert await cur.fetchone() == ("on",)
    finally:
        cluster.execute(f"ALTER DATABASE {DATABASE} SET default_transaction_read_only = off")
    with pytest.raises(ActionError, match="usage"):
        await action.plan(DATABASE, "off", "terminate")
