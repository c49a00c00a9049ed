"""Following the log: each record reaches the timeline exactly once, however many
paths (the follow timer, a recorded step, a remedy's outcome) ask for it at once."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from luckytui.store import EventLog, LogRecord
from screens.timeline import TimelineScreen
from tests.app.test_actions_flow import until
from tests.app.test_snapshots import all_loaded, frozen_app
from widgets.timeline import TimelinePane


async def _signal_ids(log: EventLog) -> list[str]:
    """The ids of the records the war room shows with no incident active: the signals."""
    return [str(r.id) for r in await log.records() if r.incident is None]


async def test_concurrent_follows_show_each_record_once(tmp_path: Path) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, TimelineScreen))
        screen = app.screen
        assert isinstance(screen, TimelineScreen)
        assert app.event_log is not None
        read = app.event_log.records
        delivered: list[int] = []  # what the follow path got from the log, record by record

        async def counted(**kwargs: Any) -> list[LogRecord]:
            got = await read(**kwargs)
            if kwargs.get("after_id") is not None and "kinds" not in kwargs:
                delivered.extend(r.id for r in got)
            return got

        app.event_log.records = counted  # type: ignore[method-assign]
        # another war room on the same log records signals (the follow timer runs)...
        async with await EventLog.open(tmp_path / "log.sqlite3") as other:
            burst = [(await other.append("alert.fired", {
                "alert": f"Burst{i}", "severity": "warning", "summary": "from jump-2",
                "active_at": None}, actor="bob@jump-2")) for i in range(20)]
        # ...while a recorded step and remedies follow the log at the same moment
        await asyncio.gather(*(app._follow_log() for _ in range(4)))
        app._follow_log_later()
        await pilot.pause(0.3)
        app.event_log.records = read  # type: ignore[method-assign]
        # one reader: each new record was read once, not once per caller
        assert sorted(delivered) == sorted(r.id for r in burst if r is not None)
        expected = await _signal_ids(app.event_log)
        assert len(expected) >= 22  # the two firing alerts of the simulation, and the burst
        assert screen.table.row_keys() == expected
        pane = app.dashboard.query_one(TimelinePane)
        assert pane.table.row_keys() == expected
        assert app.is_running


async def test_timeline_pane_shows_a_repeated_record_once(tmp_path: Path) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        pane = app.dashboard.query_one(TimelinePane)
        items, _ = app.timeline_items()
        assert len(items) >= 2
        first, second = items[0], items[1]
        pane.set_records([first, second, first, second], None)
        await pilot.pause()
        assert pane.table.row_keys() == [str(first.id), str(second.id)]


async def test_a_write_the_signature_cannot_show_is_read_within_seconds(tmp_path: Path) -> None:
    """The file's size and time can miss a commit (a write-ahead log reused at the same
    size within one tick of the file system's clock): the follow timer reads anyway
    every few seconds, so another process's record is never left unseen."""
    from luckytui.app import LOG_FORCED_READ_S

    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        assert app.event_log is not None
        await app._follow_log()
        frozen = app.event_log.signature()
        app.event_log.signature = lambda: frozen  # type: ignore[method-assign]
        async with await EventLog.open(tmp_path / "log.sqlite3") as other:
            rec = await other.append("alert.fired", {
                "alert": "Unseen", "severity": "warning", "summary": "from jump-2",
                "active_at": None}, actor="bob@jump-2")
        assert rec is not None
        app._log_signature = frozen  # as if the last read had seen this very signature
        loop = asyncio.get_running_loop()
        started = loop.time()
        pane = app.dashboard.query_one(TimelinePane)
        while str(rec.id) not in pane.table.row_keys():
            assert loop.time() - started < LOG_FORCED_READ_S + 2, "the record was never read"
            await pilot.pause(0.1)
