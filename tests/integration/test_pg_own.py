"""luckytui's own PostgreSQL sessions and statements are known by what a client cannot
fake: the backend pid the server gave luckytui's connections, and the role its
statements ran under. An application_name of "luckytui" or a copied statement spares
nothing and hides nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from luckytui.mitigations.base import ActionError
from luckytui.mitigations.pg import PgContext, SignalBackend, TerminateMany
from luckytui.sources.postgres import ACTIVITY_SQL, PostgresSource
from luckytui.systems.postgres import RealPgOps
from tests.integration.pg import DATABASE, PgCluster, postgres  # noqa: F401

APP_ROLE = "order_app"
APP_PASSWORD = "order-app-pw-91c2"  # a test secret


async def alive(cluster: PgCluster, pid: int) -> bool:
    async with await psycopg.AsyncConnection.connect(cluster.dsn("postgres"),
                                                     autocommit=True) as c:
        cur = await c.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
        row = await cur.fetchone()
        return bool(row and row[0])


@pytest.fixture
async def opened() -> AsyncIterator[list[psycopg.AsyncConnection[Any]]]:
    conns: list[psycopg.AsyncConnection[Any]] = []
    yield conns
    for conn in conns:
        await conn.close()


async def test_a_session_calling_itself_luckytui_is_ended_and_luckytuis_own_are_not(
        postgres: PgCluster, opened: list[psycopg.AsyncConnection[Any]]) -> None:  # noqa: F811
    spoof = await psycopg.AsyncConnection.connect(postgres.dsn(DATABASE), autocommit=True,
                                                  application_name="luckytui")
    opened.append(spoof)
    source = PostgresSource(postgres.dsn(DATABASE), "prod")
    ops = RealPgOps(postgres.dsn(DATABASE))
    try:
        await source.fetch()  # the dashboard's session: luckytui's own
        own = source.backend_pid
        assert own is not None
        await asyncio.sleep(1.3)  # both idle for longer than the remedy's age
        ctx = PgContext(ops, DATABASE)
        rows = {r["pid"]: r for r in await ops.activity()}
        assert rows[spoof.info.backend_pid]["application_name"] == "luckytui"
        assert rows[own]["application_name"] == "luckytui" and rows[own]["own"]

        action = TerminateMany(ctx, idle=True)
        plan = await action.plan("1s")
        frozen = {int(pid) for pid, _ in plan.args["backends"]}
        assert spoof.info.backend_pid in frozen
        assert own not in frozen and not any(r["own"] and p in frozen for p, r in rows.items())
        assert (await action.execute(plan)).ok
        assert not await alive(postgres, spoof.info.backend_pid)
        assert await alive(postgres, own)
        await source.fetch()
        assert source.backend_pid == own  # the same session went on: never ended

        with pytest.raises(ActionError, match=f"pid {own} is luckytui's own session"):
            await SignalBackend(ctx, terminate=True).plan(str(own))
        await source.aclose()
        rows = {r["pid"]: r for r in await ops.activity()}
        assert own not in rows or not rows[own]["own"]  # closed: no longer spared
    finally:
        await source.aclose()
        await ops.aclose()


async def test_a_users_copy_of_luckytuis_statement_is_shown(postgres: PgCluster) -> None:  # noqa: F811
    postgres.execute(f"DROP ROLE IF EXISTS {APP_ROLE}")
    postgres.execute(f"CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{APP_PASSWORD}'")
    source = PostgresSource(postgres.dsn(DATABASE), "prod", top_statements=200,
                            statements_interval=0)
    try:
        postgres.execute("SELECT pg_stat_statements_reset()", dbname=DATABASE)
        await source.fetch()
        await source.fetch()  # luckytui's own scan is recorded, under its role
        async with await psycopg.AsyncConnection.connect(
                postgres.dsn(DATABASE, user=APP_ROLE), password=APP_PASSWORD,
                autocommit=True) as user:
            for _ in range(3):  # the very same text, mark and all, by another role
                await user.execute(ACTIVITY_SQL)
        snap = await source.fetch()
        async with await psycopg.AsyncConnection.connect(postgres.dsn(DATABASE),
                                                         autocommit=True) as check:
            cur = await check.execute(
                "SELECT userid::regrole::text, queryid::text, calls FROM pg_stat_statements "
                "WHERE query LIKE 'SELECT /* luckytui */%%json_agg%%' ORDER BY 1")
            entries = await cur.fetchall()
        by_role = {role: (queryid, calls) for role, queryid, calls in entries}
        assert set(by_role) == {"postgres", APP_ROLE}
        queryid, calls = by_role[APP_ROLE]
        assert by_role["postgres"][0] == queryid  # one statement, two roles' entries
        shown = [s for s in snap.statements if s.queryid == queryid]
        assert [(s.calls, s.query.startswith("SELECT /* luckytui */")) for s in shown] == [
            (calls, True)]
        assert calls == 3  # the user's entry, not luckytui's own
    finally:
        await source.aclose()
        postgres.execute(f"DROP OWNED BY {APP_ROLE}", dbname=DATABASE)
        postgres.execute(f"DROP ROLE IF EXISTS {APP_ROLE}")
