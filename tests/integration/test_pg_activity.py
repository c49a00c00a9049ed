"""The activity view on a real PostgreSQL server: every busy session, with its wait
event, who blocks it and the lock it waits for, from the one scan a refresh makes; idle
sessions only when the view asks for them; terminate on a selected row ends it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.widgets import Static

from luckytui.activity import blocking_tree
from luckytui.app import LuckyApp
from luckytui.config import DatabaseSettings, Settings
from luckytui.sources.postgres import PostgresSource
from screens.confirm import ConfirmScreen
from screens.db_activity import DbActivityScreen
from tests.app.test_actions_flow import until as app_until
from tests.integration.pg import DATABASE, PgCluster, postgres  # noqa: F401
from tests.integration.test_pg_actions import alive
from tests.integration.test_postgres import client_pids, sessions, until
from widgets.database import DatabasePane


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


async def test_terminate_from_the_activity_view_ends_the_session(
        postgres: PgCluster, tmp_path: Path) -> None:  # noqa: F811
    settings = Settings(utc=True, refresh=0.5, databases=(
        DatabaseSettings(name=DATABASE, dsn=postgres.dsn(DATABASE)),))
    app = LuckyApp(settings, log_path=tmp_path / "log.sqlite3", actor="amy@jump")
    async with sessions(postgres) as made:
        victim = await made.connect()
        made.start(victim, "SELECT pg_sleep(600)")
        pid = victim.info.backend_pid
        async with app.run_test(size=(160, 48)) as pilot:
            pane = app.dashboard.query_one(DatabasePane)
            await app_until(pilot, lambda: pane.snapshot is not None and app.mitigator
                            is not None)
            await pilot.press("question_mark")
            help_text = str(app.screen.query_one(Static).render())
            assert "DB activity" in help_text
            await pilot.press("escape")
            await pilot.press("A")
            await app_until(pilot, lambda: isinstance(app.screen, DbActivityScreen))
            view = app.screen
            assert isinstance(view, DbActivityScreen)
            await app_until(pilot, lambda: any(b.pid == pid for b in view.shown.values()))
            await pilot.press("home")
            while (chosen := view.selected()) is None or chosen.pid != pid:
                await pilot.press("down")
            assert chosen.query == "SELECT pg_sleep(600)" and chosen.state == "active"
            await pilot.press("k")
            await app_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            confirm = app.screen
            assert isinstance(confirm, ConfirmScreen)
            assert confirm.plan.target == f"backend/{pid}"
            assert "pg_terminate_backend" in confirm.plan.command
            await pilot.click("#confirm")
            await app_until(pilot, lambda: isinstance(app.screen, DbActivityScreen)
                            and all(b.pid != pid for b in view.shown.values()))
        assert not await alive(postgres, pid)
