"""`luckytui drill database-failure` in the room: the simulation's embedded PostgreSQL
server plays the drill's database faults, and the war room's database pane and alerts
show them as they would production's."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from luckytui.app import LuckyApp
from luckytui.config import Settings
from luckytui.sim.launcher import SimProcess
from tests.app.test_widgets import screen_text

PANE = re.compile(r"luckygas_prod: (\d+) of 50 connections.*?idle in transaction (?:⚠ )?(\d+)",
                  re.DOTALL)
pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="the embedded server's tests run on Linux")


async def test_the_drill_room_reads_the_real_server(tmp_path: Path) -> None:
    sim = SimProcess(drill="database-failure", drill_title="Database failure", speed=20,
                     directory=tmp_path / "sim", log=tmp_path / "log.sqlite3")
    app = LuckyApp(Settings(refresh=0.5), sim=sim, log_path=tmp_path / "log.sqlite3")
    async with app.run_test(size=(160, 48)) as pilot:
        text, found = "", None
        for _ in range(300):  # 90 s of drill at 20x, the alert's 15 s, the pane's refresh
            text = screen_text(app)
            found = PANE.search(text)
            # the server's own count against its max_connections, the leak's sessions in it
            if found and int(found[1]) > 45 and int(found[2]) >= 20 \
                    and "DatabaseConnectionPoolExhausted" in text:
                break
            await pilot.pause(0.1)
        else:
            raise AssertionError(f"the drill never showed in the room:\n{text}")
        assert sim.dsn and sim.note is None  # the embedded server, named by dsn
        assert "DRILL: Database failure" in text
