"""Incidents from the shell; a war room on the same log sees them within a second."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path

from tests.app.test_snapshots import all_loaded, frozen_app
from widgets.banner import Banner

ROOT = Path(__file__).resolve().parents[2]


async def luckytui(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "luckytui", *args, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_shell_steps_reach_a_running_war_room(tmp_path: Path) -> None:
    log = str(tmp_path / "log.sqlite3")
    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        code, out, err = await luckytui("incident", "declare", "--title", "Orders failing",
                                        "--severity", "P2", "--log", log, "--as", "bob")
        assert code == 0, err
        number = out.strip()
        assert number.startswith("INC-") and number.endswith("-001")
        started = asyncio.get_running_loop().time()
        while app.active_incident is None:
            await pilot.pause(0.05)
        assert asyncio.get_running_loop().time() - started < 1.5  # the log is followed
        await pilot.pause(0.1)
        assert number in app.dashboard.query_one(Banner).render().plain
        # the shell reads the clocks as the banner does: relative, never a time of day
        code, out, _ = await luckytui("incident", "show", "--log", log)
        assert code == 0
        lines = out.splitlines()
        assert lines[1] == "Orders failing"
        assert re.fullmatch(r"ack in (29|30):\d\d", lines[2]), out
        assert re.fullmatch(r"status page in 1[45]:\d\d", lines[3]), out

        assert (await luckytui("incident", "ack", "--log", log))[0] == 0
        code, _, _ = await luckytui("incident", "resolve", "--tick", "1", "--tick", "3",
                                    "--log", log)
        assert code == 0
        while app.active_incident is not None:
            await pilot.pause(0.05)

    code, out, _ = await luckytui("incident", "show", number, "--json", "--log", log)
    doc = json.loads(out)
    assert doc["status"] == "Resolved" and doc["declared_by"] == "bob"
    assert doc["acknowledged_at"] and doc["resolved_at"]
    assert list(doc["checklist"].values()).count("ticked") == 2
    code, _, err = await luckytui("incident", "resolve", number, "--log", log)
    assert code == 1 and "already resolved" in err
    code, _, err = await luckytui("incident", "resolve", "--tick", "9", "--log", log)
    assert code == 2 and "no checklist item 9" in err
