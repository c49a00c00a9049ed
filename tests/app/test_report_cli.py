"""`luckytui report` and `luckytui postmortem` from the shell, on a scripted log."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from luckytui.incident.model import RESOLUTION_CHECKLIST
from luckytui.incident.service import Incidents
from luckytui.store import EventLog
from tests.conftest import ManualClock

ROOT = Path(__file__).resolve().parents[2]
OCT = datetime(2026, 10, 5, 2, 0, tzinfo=UTC)
NOV = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


async def luckytui(*args: str, tz: str = "UTC") -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "luckytui", *args, cwd=ROOT, env={**os.environ, "TZ": tz},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def scripted_log(path: Path) -> None:
    """October: one P2 (ack 3 min, resolved 25 min). November: a P1 (ack 8 min, resolved
    45 min), a drill, then a P3 left open."""
    clock = ManualClock(OCT.timestamp())

    def at(start: datetime, minutes: float) -> None:
        clock.t = (start + timedelta(minutes=minutes)).timestamp()

    ticked = {item: True for item in RESOLUTION_CHECKLIST}
    async with await EventLog.open(path, clock=clock.now) as log:
        svc = Incidents(log, "amy@jump")
        first = await svc.declare("Login failing", "P2")
        at(OCT, 3)
        await svc.acknowledge(first.number)
        at(OCT, 25)
        await svc.resolve(ticked, first.number)
        at(NOV, 0)
        big = await svc.declare("Site down", "P1")
        at(NOV, 8)
        await svc.acknowledge(big.number)
        at(NOV, 45)
        await svc.resolve(ticked, big.number)
        at(NOV, 60)
        await svc.declare("Database failure drill", "P1", drill=True)
        at(NOV, 120)
        await svc.declare("Slow analytics", "P3")


async def test_report_every_month_newest_first(tmp_path: Path) -> None:
    log = tmp_path / "log.sqlite3"
    await scripted_log(log)
    code, out, err = await luckytui("report", "--log", str(log))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("MTTA = acknowledged − detected")
    # how the figures are computed, in the output itself
    assert "MTTR = resolved − detected" in lines[0]
    assert lines[1].startswith("detected: when the first alert fired or the first endpoint "
                               "check failed (else the declaration)")
    assert ("MTTA is the mean over those acknowledged, MTTR over those resolved (open ones "
            "are left out); drills are listed, never counted") in lines[2]
    nov = out.index("\n2026-11: 2 incidents (rate target < 2: missed)")
    octo = out.index("\n2026-10: 1 incident (rate target < 2: met)")
    assert nov < octo
    assert "1 open · 1 drill not counted (INC-2026-11-26-002)" in out
    assert "MTTA mean 8m 00s over 1 of 2 acknowledged, 0 of 1 under 5 min" in out
    row = next(line for line in lines if "INC-2026-11-26-001" in line)
    assert "P1" in row and "2026-11-26 03:00" in row and "8m 00s ✖" in row
    assert "45m 00s ✖" in row and row.endswith("Site down")
    row = next(line for line in lines if "INC-2026-10-05-001" in line)
    assert "3m 00s ✓" in row and "25m 00s ✓" in row

    # the local zone by default; --utc shows UTC
    code, out, _ = await luckytui("report", "--log", str(log), tz="CST-8")
    assert "2026-11-26 11:00" in out
    code, out, _ = await luckytui("report", "--log", str(log), "--utc", tz="CST-8")
    assert "2026-11-26 03:00" in out


async def test_report_one_month_and_json(tmp_path: Path) -> None:
    log = tmp_path / "log.sqlite3"
    await scripted_log(log)
    code, out, _ = await luckytui("report", "--month", "2026-10", "--log", str(log))
    assert code == 0 and "2026-10: 1 incident" in out and "2026-11" not in out
    code, out, _ = await luckytui("report", "--month", "2026-09", "--log", str(log))
    assert code == 0 and "2026-09: 0 incidents (rate target < 2: met)" in out
    code, out, err = await luckytui("report", "--json", "--log", str(log))
    assert code == 0, err
    doc = json.loads(out)
    assert [m["month"] for m in doc["months"]] == ["2026-11", "2026-10"]
    assert doc["definitions"]["mttr_over"] == "the month's production incidents resolved"
    assert doc["definitions"]["drills"] == "not counted"
    nov = doc["months"][0]
    assert nov["count"] == 2 and nov["open"] == 1 and nov["by_severity"]["P1"] == 1
    assert nov["mttr"] == {"mean_s": 45 * 60, "n": 1, "met": 0}
    assert [i["number"] for i in nov["incidents"]] == ["INC-2026-11-26-001",
                                                       "INC-2026-11-26-003"]


async def test_report_usage_errors_and_an_empty_log(tmp_path: Path) -> None:
    missing = tmp_path / "none.sqlite3"
    code, out, err = await luckytui("report", "--log", str(missing))
    assert code == 0 and out.startswith("no incidents in the log") and err == ""
    assert not missing.exists()  # a report creates no log
    for bad in ("2026-13", "26-11", "2026-1", "november"):
        code, out, err = await luckytui("report", "--month", bad, "--log", str(missing))
        assert code == 2 and out == "", bad
        assert err.count("\n") == 1 and "not a month (YYYY-MM)" in err


async def test_postmortem_default_numbered_and_to_a_file(tmp_path: Path) -> None:
    log = tmp_path / "log.sqlite3"
    await scripted_log(log)
    code, out, err = await luckytui("postmortem", "--log", str(log), "--utc")
    assert code == 0, err
    assert out.startswith("# Incident Post-Mortem: Slow analytics\n")  # the most recent
    assert "**Duration**: ongoing" in out

    code, out, err = await luckytui("postmortem", "INC-2026-11-26-001", "--log", str(log),
                                    tz="CST-8")
    assert code == 0, err
    lines = out.splitlines()
    assert "**Incident Number**: INC-2026-11-26-001" in lines
    assert "**Duration**: 45 minutes, from impact start to resolution" in lines
    assert "- 11:08 - Engineer acknowledged (amy@jump)" in lines  # local time
    assert "- 11:45 - Incident resolved (amy@jump)" in lines

    target = tmp_path / "pm.md"
    args = ("postmortem", "INC-2026-10-05-001", "--log", str(log), "-o", str(target),
            "--author", "Amy Chen")
    code, out, err = await luckytui(*args)
    assert code == 0, err
    assert out.strip() == f"INC-2026-10-05-001: post-mortem written to {target}"
    text = target.read_text(encoding="utf-8")
    assert "**Author**: Amy Chen" in text and "**Date**: 2026-10-05" in text
    target.write_text("edited by hand\n", encoding="utf-8")
    code, out, err = await luckytui(*args)
    assert code == 1 and err.count("\n") == 1 and "exists (--force to overwrite)" in err
    assert target.read_text(encoding="utf-8") == "edited by hand\n"
    code, _, _ = await luckytui(*args, "--force")
    assert code == 0 and target.read_text(encoding="utf-8") == text


async def test_postmortem_unknown_incident_and_empty_log(tmp_path: Path) -> None:
    log = tmp_path / "log.sqlite3"
    await scripted_log(log)
    code, out, err = await luckytui("postmortem", "INC-2026-01-01-009", "--log", str(log))
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "no incident INC-2026-01-01-009" in err
    empty = tmp_path / "empty.sqlite3"
    async with await EventLog.open(empty):
        pass
    code, out, err = await luckytui("postmortem", "--log", str(empty))
    assert code == 1 and out == "" and "no incidents in the log" in err
    code, _, err = await luckytui("postmortem", "--log", str(tmp_path / "missing.sqlite3"))
    assert code == 1 and "no incidents in the log" in err
