"""A log that cannot be used (not a database, damaged inside): the war room still shows
live data, says why on its note line, and refuses what would have to be recorded."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from textual.widgets import Static

from luckytui.app import LuckyApp
from luckytui.snapshots import SourceStatus
from luckytui.store import EventLog
from tests.app.test_snapshots import frozen_app


def damage_pages(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(page * 2, len(data), page):  # every page after the schema
        data[start:start + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))


async def damaged_inside(path: Path) -> None:
    """A real log whose events table is damaged: the header reads fine, the pages not."""
    async with await EventLog.open(path) as log:
        for i in range(40):
            await log.append("incident.note", {"text": "x" * 400, "n": i}, actor="a")
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    damage_pages(path)


@pytest.mark.parametrize("damage", ["not a database", "damaged inside"])
async def test_the_room_shows_live_data_and_refuses_to_act(tmp_path: Path,
                                                           damage: str) -> None:
    path = tmp_path / "log.sqlite3"
    if damage == "not a database":
        path.write_bytes(b"this is not an event log\n" * 50)
    else:
        await damaged_inside(path)
    before = path.read_bytes()
    app = frozen_app(tmp_path)
    notes: list[str] = []

    def hook(message: object) -> None:
        notification = getattr(message, "notification", None)
        if notification is not None:
            notes.append(notification.message)

    async with app.run_test(size=(160, 48), message_hook=hook) as pilot:
        assert isinstance(app, LuckyApp)
        for _ in range(100):
            if app.states and all(s.status is SourceStatus.OK for s in app.states.values()):
                break
            await pilot.pause(0.05)
        assert all(s.status is SourceStatus.OK for s in app.states.values())  # live data
        note = str(app.dashboard.query_one("#note", Static).render())
        assert "LOCAL LOG UNAVAILABLE" in note and "refused" in note, note
        assert app.log_problem is not None and app.event_log is None
        await pilot.press("n")  # declaring would have to be recorded
        await pilot.pause(0.2)
        await pilot.press("1", "s")  # a remedy on the selected pod, too
        await pilot.pause(0.2)
        assert app.is_running
        assert sum("LOCAL LOG UNAVAILABLE" in n for n in notes) >= 3, notes
    assert path.read_bytes() == before  # nothing already there was touched
