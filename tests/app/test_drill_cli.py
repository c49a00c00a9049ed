"""Drills from the shell: `incident declare` during a drill, `incident resolve` scoring it,
`drill score` and `report --drills` printing it, production's report leaving it out."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from luckytui.controller import Controller
from luckytui.store import EventLog
from tests.app.test_report_cli import luckytui
from tests.unit.test_drill_score import act, start


class Shifted:
    """The log's clock for what this test writes itself: the test's start moved by an
    offset, so its records and those the luckytui processes write keep one order."""

    def __init__(self) -> None:
        self.base = datetime.now(UTC)
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return self.base + self.offset


async def test_declared_resolved_scored_and_reported_from_the_shell(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    log_flag = ("--log", str(path))
    clock = Shifted()
    async with await EventLog.open(path, clock=clock) as log:
        clock.offset = timedelta(seconds=-900)
        await start(log, "database-failure", drill_id="c0ffee")  # expected P2
        room = Controller("amy@jump", log=log)
        clock.offset = timedelta(seconds=-800)
        await act(room, "restart", "luckygas-backend")  # wrong
        clock.offset = timedelta(seconds=-700)
        await act(room, "read-only", "luckygas_prod", "on")  # harmful
        clock.offset = timedelta(seconds=-600)
        await act(room, "terminate-idle", "300")  # right: 5 minutes after the start

    code, out, err = await luckytui("incident", "declare", "--title", "Orders failing",
                                    "--severity", "P2", "--as", "bob@jump", *log_flag)
    assert code == 0, err
    number = out.strip()
    code, out, _ = await luckytui("incident", "list", "--json", *log_flag)
    [listed] = json.loads(out)
    assert listed["number"] == number and listed["drill"] is True  # not asked: a drill

    code, out, _ = await luckytui("drill", "score", *log_flag)
    assert code == 0 and "provisional: the incident is still open" in out

    async with await EventLog.open(path, clock=clock) as log:
        clock.offset = datetime.now(UTC) - clock.base  # after the declaration
        await log.append("drill.recovered", {"drill_id": "c0ffee",
                                             "scenario": "database-failure"}, actor="drill")
    code, out, err = await luckytui("incident", "resolve", "--tick", "1", *log_flag)
    assert code == 0, err
    assert re.search(r"Drill database-failure scored \d+/100: needs practice "
                     r"\(luckytui drill score c0ffee\)", out), out

    code, out, err = await luckytui("drill", "score", "c0ffee", *log_flag, tz="UTC")
    assert code == 0, err
    assert f"Incident {number}: Orders failing · final: the incident is resolved" in out
    assert re.search(rf"✖ Declared +5/15  {number}, 1[45]m \d\ds after the start, late", out)
    assert "terminate-idle 300, 5m 00s after the start, on time (target 30 min)" in out
    assert "WRONG    restart luckygas-backend (ok)" in out
    assert "HARMFUL  read-only luckygas_prod on (ok)" in out
    assert "3 remedies: 1 wrong, 1 harmful" in out
    assert "NEEDS PRACTICE" in out

    code, out, _ = await luckytui("drill", "score", "--json", *log_flag)
    doc = json.loads(out)
    assert (doc["drill_id"], doc["incident"], doc["final"], doc["wrong"], doc["harmful"]) == (
        "c0ffee", number, True, 1, 1)
    assert doc["first_right_s"] == 300 and doc["verdict"] == "needs practice"

    code, out, _ = await luckytui("report", "--drills", "--utc", *log_flag)
    assert code == 0
    header, row = out.splitlines()[-2:]
    assert header.split()[:4] == ["DATE", "SCENARIO", "INCIDENT", "SEV/EXP"]
    assert row.split()[2:6] == ["database-failure", number, "P2/P2", "1x"]
    assert row.split()[-5:] == ["1", "1", str(doc["points"]), "needs", "practice"]
    code, out, _ = await luckytui("report", "--drills", "--json", *log_flag)
    [listed_drill] = json.loads(out)["drills"]
    assert listed_drill == doc

    code, out, _ = await luckytui("report", "--drills", "--month", "2001-01", *log_flag)
    assert out.startswith("no drills in the log")  # none started that month

    code, out, _ = await luckytui("report", "--json", *log_flag)  # production's figures
    [month] = json.loads(out)["months"]
    assert month["count"] == 0 and month["drills"] == [number] and month["incidents"] == []

    code, _, err = await luckytui("drill", "score", "nope", *log_flag)
    assert code == 1 and "no drill nope" in err
