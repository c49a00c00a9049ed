"""The activity view's sessions from a real PostgreSQL server: every busy session, with
its wait event, who blocks it and the lock it waits for, from the one scan a refresh
makes; idle sessions only when the view asks for them."""

from __future__ import annotations

import asyncio

import pytest

from luckytui.activity import blocking_tree
from luckytui.sources.postgres import PostgresSource
from tests.integration.pg import DATABASE, PgCluster, postgres  # noqa: F401
from tests.integration.test_postgres import client_pids, sessions, until


async def test_every_busy_session_with_its_wait_and_blockers(
        postgres: PgCluster, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.delenv("PGAPPNAME", raising=False)
    source = PostgresSource(postgres.dsn(DATABASE), "prod", timeout=5.0)
    async with sessions(postgres) as made:
        checker = await made.connect()

        async def quiet() -> bool:  # earlier tests' sessions are gone
            return not await client_pids(checker)
        await until(quiet, "earlier sessions to end")

        idle = await made.connect()
        await idle.execute("SELECT 1")
        holder, waiter, second, sleeper = [await made.connect() for _ in range(4)]
        busy = [await made.connect() for _ in range(3)]
        await holder.execute("BEGIN")
        await holder.execute("UPDATE accounts SET balance = balance + 1 WHERE id = 2")
        made.start(waiter, "UPDATE accounts SET balance = balance - 1 WHERE id = 2")
        await asyncio.sleep(0.1)
        made.start(second, "UPDATE accounts SET balance = balance - 2 WHERE id = 2")
        made.start(sleeper, "SELECT pg_sleep(600)")
        for conn in busy:
            made.start(conn, "SELECT pg_sleep(600)")
        pids = {name: c.info.backend_pid for name, c in
                (("holder", holder), ("waiter", waiter), ("second", second),
                 ("sleeper", sleeper))}

        async def settled() -> bool:
            states = await client_pids(checker)
            return (states.get(pids["second"], (None, None))[1] == "Lock"
                    and states.get(pids["waiter"], (None, None))[1] == "Lock"
                    and all(states.get(c.info.backend_pid, (None,))[0] == "active"
                            for c in (sleeper, *busy)))
        await until(settled, "the waiters to wait and the sleepers to sleep")

        snap = await source.fetch()
        by_pid = {b.pid: b for b in snap.sessions}
        # every non-idle client session (the checker's own query is over: idle), and
        # not luckytui's own
        busy_pids = {*pids.values(), *(c.info.backend_pid for c in busy)}
        assert set(by_pid) == busy_pids
        assert snap.sessions_total == len(busy_pids) == 7
        assert idle.info.backend_pid not in by_pid and source.backend_pid not in by_pid
        h, w, s = by_pid[pids["holder"]], by_pid[pids["waiter"]], by_pid[pids["second"]]
        assert h.state == "idle in transaction" and h.xact_start is not None
        assert h.wait_event_type == "Client" and h.blocked_by == ()
        assert (w.wait_event_type, w.wait_event) == ("Lock", "transactionid")
        assert w.blocked_by == (pids["holder"],)
        assert (w.lock_mode, w.lock_on) == ("ShareLock", "accounts")
        # the second waiter queues on the row's tuple lock, which the first one holds
        assert (s.wait_event_type, s.wait_event) == ("Lock", "tuple")
        assert pids["waiter"] in s.blocked_by
        assert (s.lock_mode, s.lock_on) == ("ExclusiveLock", "accounts")
        assert by_pid[pids["sleeper"]].query == "SELECT pg_sleep(600)"
        assert by_pid[pids["sleeper"]].application_name == "test-session"
        assert by_pid[pids["sleeper"]].client_addr == "127.0.0.1"
        tree = [(r.depth, r.pid) for r in blocking_tree(snap.sessions)]
        assert tree == [(0, pids["holder"]), (1, pids["waiter"]), (2, pids["second"])]

        # the idle ones too, when the view asks for them: still one scan
        source.include_idle = True
        with_idle = await source.fetch()
        shown = {b.pid: b for b in with_idle.sessions}
        assert idle.info.backend_pid in shown and shown[idle.info.backend_pid].state == "idle"
        assert with_idle.idle_included and with_idle.counts["idle"] == snap.counts["idle"]
        assert with_idle.total == snap.total
        assert [b.state for b in with_idle.sessions][-1] == "idle"
        await source.aclose()
