"""The database activity view on the simulated production: every busy session, the
blocking tree, pause, idle sessions, and terminate through the room's confirmation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Static

from luckytui.app import LuckyApp
from luckytui.config import load_settings
from luckytui.sim.resources import SimConnection
from luckytui.sim.runner import Simulation
from luckytui.sources.postgres import build_db_snapshot
from screens.confirm import ConfirmScreen
from screens.db_activity import DbActivityScreen
from tests.app.test_actions_flow import until
from tests.app.test_snapshots import all_loaded, frozen_app
from widgets.database import DatabasePane

SECRET = "s3cr3t-pw-91"
HOSTILE = f"ALTER ROLE app PASSWORD '{SECRET}' /* \x1b[2J */"


def busy(sim: Simulation, n: int, age: float = 30.0) -> list[SimConnection]:
    made = []
    for i in range(n):
        c = sim.model.open_session("luckygas-backend", "active",
                                   f"SELECT * FROM orders WHERE id = {i}", age + i)
        assert c is not None
        made.append(c)
    return made


def shown_pids(view: DbActivityScreen) -> list[int]:
    return [view.shown[k].pid for k in view.table.row_keys() if k in view.shown]


def row_text(view: DbActivityScreen, pid: int) -> list[str]:
    key = next(k for k, b in view.shown.items() if b.pid == pid)
    return [str(getattr(c, "plain", c)) for c in view.table.get_row(key)]


def head(view: DbActivityScreen) -> str:
    return str(view.query_one("#activity-head", Static).render())


async def open_view(app: LuckyApp, pilot: Pilot[int]) -> DbActivityScreen:
    pane = app.dashboard.query_one(DatabasePane)
    await until(pilot, lambda: pane.snapshot is not None and app.mitigator is not None)
    await pilot.press("A")
    await until(pilot, lambda: isinstance(app.screen, DbActivityScreen))
    view = app.screen
    assert isinstance(view, DbActivityScreen)
    return view


async def test_every_busy_session_the_tree_and_pause(sim: Simulation, tmp_path: Path) -> None:
    sessions = busy(sim, 20)
    hostile = sim.model.open_session("luckygas-backend", "active", HOSTILE, 5)
    assert hostile is not None
    hostile.application_name = "app\x1b]52;c;ZXZpbA==\x07"
    settings = load_settings(sim.config_path).with_overrides(refresh=0.5)
    app = LuckyApp(settings, log_path=tmp_path / "log.sqlite3", actor="amy@jump")
    async with app.run_test(size=(160, 48)) as pilot:
        view = await open_view(app, pilot)
        pids = {c.pid for c in sessions}
        await until(pilot, lambda: pids <= set(shown_pids(view)))
        # every non-idle session the simulated server had at the poll, none of its idle
        # ones: as many rows as the poll counted busy sessions, longest first
        snap = view.snapshot
        assert snap is not None and shown_pids(view) == [b.pid for b in snap.sessions]
        assert all(b.state != "idle" for b in snap.sessions)
        assert len(snap.sessions) == snap.sessions_total == snap.total - snap.counts["idle"]
        assert snap.sessions_total >= 24  # the 21 made here, the report, a lock and its waiter
        durations = [b.duration_s for b in snap.sessions]
        assert durations == sorted(durations, reverse=True)
        assert f"{snap.sessions_total} busy sessions" in head(view)
        row = row_text(view, sessions[5].pid)
        assert row[0] == str(sessions[5].pid) and row[3] == "active" and row[4] == ""
        assert 35 <= int(row[2].removesuffix("s")) < 60
        assert row[6] == "SELECT * FROM orders WHERE id = 5"
        assert row[7:11] == ["luckygas_prod", sessions[5].usename,
                             sessions[5].application_name, sessions[5].client_addr]
        # outside text: secrets hidden, control characters shown, never sent
        bad = row_text(view, hostile.pid)
        assert SECRET not in bad[6] and "␛[2J" in bad[6] and "\x1b" not in "".join(bad)
        assert bad[9] == "app␛]52;c;ZXZpbA==␇"

        # the detail lines: the selected row's every field and whole query
        await pilot.press("home")
        first = view.selected()
        assert first is not None
        detail = str(view.query_one("#activity-detail", Static).render())
        assert f"pid {first.pid}" in detail and first.query[:40] in detail

        # the blocking tree: the order row's holder, its waiter beneath with the lock
        holder = next(c for c in sim.model.connections.values()
                      if c.state == "idle in transaction" and c.pinned and any(
                          c.pid in o.blocked_by for o in sim.model.connections.values()))
        waiter = next(o for o in sim.model.connections.values() if holder.pid in o.blocked_by)
        assert row_text(view, waiter.pid)[4] == "Lock:transactionid"
        await pilot.press("b")
        await until(pilot, lambda: shown_pids(view)[:2] == [holder.pid, waiter.pid])
        assert row_text(view, waiter.pid)[0] == f"└ {waiter.pid}"
        assert row_text(view, waiter.pid)[4] == "ShareLock on orders"
        assert row_text(view, holder.pid)[3] == "idle in txn"
        assert row_text(view, waiter.pid)[5] == f"⊘ {holder.pid}"
        assert sessions[0].pid not in shown_pids(view)  # neither blocked nor blocking
        assert "blocking tree: 1 waiting" in head(view)
        await pilot.press("b")
        await until(pilot, lambda: sessions[0].pid in shown_pids(view))

        # the selection stays on its session while longer ones arrive above it
        for _ in range(4):
            await pilot.press("down")
        chosen = view.selected()
        assert chosen is not None
        longer = busy(sim, 3, age=9000)
        await until(pilot, lambda: longer[0].pid in shown_pids(view))
        now = view.selected()
        assert now is not None and now.pid == chosen.pid
        assert shown_pids(view).index(chosen.pid) == view.table.cursor_row

        # paused: the rows hold still while the database changes under them
        await pilot.press("space")
        assert "PAUSED" in head(view)
        frozen = view.table.row_keys()
        newcomer = busy(sim, 1, age=8000)[0]
        sim.model.terminate_backend(sessions[1].pid)
        pane = app.dashboard.query_one(DatabasePane)
        await until(pilot, lambda: pane.snapshot is not None and any(
            b.pid == newcomer.pid for b in pane.snapshot.sessions))
        await pilot.pause(0.7)
        assert view.table.row_keys() == frozen and "PAUSED" in head(view)
        await pilot.press("space")
        assert "PAUSED" not in head(view)
        assert newcomer.pid in shown_pids(view) and sessions[1].pid not in shown_pids(view)

        # idle sessions: only when asked for
        assert view.snapshot is not None and view.snapshot.counts["idle"] > 0
        assert all(b.state != "idle" for b in view.shown.values())
        await pilot.press("i")
        await until(pilot, lambda: any(b.state == "idle" for b in view.shown.values()))
        snap = view.snapshot
        assert snap is not None and snap.idle_included and "idle shown" in head(view)
        assert sum(b.state == "idle" for b in view.shown.values()) == snap.counts["idle"]
        assert [b.state for b in snap.sessions][-1] == "idle"  # after every busy one
        await pilot.press("escape")
        assert not isinstance(app.screen, DbActivityScreen)
        poller = app.pollers["db"]
        assert not poller.source.include_idle


async def test_terminate_the_selected_session(sim: Simulation, tmp_path: Path) -> None:
    sessions = busy(sim, 20)
    settings = load_settings(sim.config_path).with_overrides(refresh=0.5)
    app = LuckyApp(settings, log_path=tmp_path / "log.sqlite3", actor="amy@jump")
    async with app.run_test(size=(160, 48)) as pilot:
        view = await open_view(app, pilot)
        target = sessions[7]
        await until(pilot, lambda: target.pid in shown_pids(view))
        await pilot.press("home")
        while view.selected() is None or view.selected().pid != target.pid:  # type: ignore[union-attr]
            await pilot.press("down")
        await pilot.press("k")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert confirm.plan.target == f"backend/{target.pid}"
        await pilot.click("#confirm")
        await until(pilot, lambda: target.pid not in sim.model.connections)
        await until(pilot, lambda: isinstance(app.screen, DbActivityScreen)
                    and target.pid not in shown_pids(view))
        assert app.event_log is not None
        kinds = [(r.kind, r.data.get("action")) for r in await app.event_log.records()
                 if r.kind.startswith("mitigation.")]
        assert ("mitigation.intent", "terminate") in kinds
        assert ("mitigation.outcome", "terminate") in kinds


async def test_read_only_offers_neither_cancel_nor_terminate(sim: Simulation,
                                                             tmp_path: Path) -> None:
    sessions = busy(sim, 3)
    settings = load_settings(sim.config_path).with_overrides(refresh=0.5, read_only=True)
    app = LuckyApp(settings, log_path=tmp_path / "log.sqlite3", actor="amy@jump")
    async with app.run_test(size=(160, 48)) as pilot:
        pane = app.dashboard.query_one(DatabasePane)
        await until(pilot, lambda: pane.snapshot is not None)
        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, DbActivityScreen))
        view = app.screen
        assert isinstance(view, DbActivityScreen)
        await until(pilot, lambda: sessions[0].pid in shown_pids(view))
        keys = {b.binding.key for b in view.active_bindings.values()}
        assert "space" in keys and not {"c", "k"} & keys
        await pilot.press("k")
        await pilot.pause(0.3)
        assert isinstance(app.screen, DbActivityScreen)
        assert all(c.pid in sim.model.connections for c in sessions)


async def test_a_cut_list_says_how_many_there_were(tmp_path: Path) -> None:
    now = datetime(2026, 11, 26, 3, 4, 5, tzinfo=UTC)
    rows = [{"pid": 1000 + i, "state": "active", "datname": "luckygas_prod",
             "query": f"SELECT {i}", "backend_start": now - timedelta(hours=1),
             "query_start": now - timedelta(seconds=i)} for i in range(1234)]
    db = build_db_snapshot("luckygas_prod", 2000, rows, [], now)
    app = frozen_app(tmp_path, db=db)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, DbActivityScreen))
        view = app.screen
        assert isinstance(view, DbActivityScreen)
        await until(pilot, lambda: view.table.row_count == 500)
        assert "500 of 1,234 busy sessions (longest first)" in head(view)
        assert shown_pids(view)[0] == 2233 and shown_pids(view)[-1] == 1734
