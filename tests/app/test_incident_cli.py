"""Incidents from the shell; a war room on the same log sees them within a second."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from tests.app.test_actions_flow import until
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
        # detected now: the war room here runs on a frozen clock, so the signals it
        # recorded are stamped days ago and would otherwise be the detection time
        code, out, err = await luckytui("incident", "declare", "--title", "Orders failing",
                                        "--severity", "P2", "--log", log, "--as", "bob",
                                        "--detected-at", datetime.now(UTC).isoformat())
        assert code == 0, err
        number = out.strip()
        assert number.startswith("INC-") and number.endswith("-001")
        started = asyncio.get_running_loop().time()
        await until(pilot, lambda: app.active_incident is not None, within=5)
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
        # the frozen production still has an endpoint down and a critical alert firing
        code, _, err = await luckytui("incident", "resolve", "--tick", "1", "--tick", "3",
                                      "--log", log)
        assert code == 1 and "Resolve anyway with --anyway" in err
        code, _, _ = await luckytui("incident", "resolve", "--tick", "1", "--tick", "3",
                                    "--anyway", "--log", log)
        assert code == 0
        # the app follows the log: another process's resolution reaches it in seconds
        await until(pilot, lambda: app.active_incident is None, within=8)

    code, out, _ = await luckytui("incident", "show", number, "--json", "--log", log)
    doc = json.loads(out)
    assert doc["status"] == "Resolved" and doc["declared_by"] == "bob"
    assert [h["severity"] for h in doc["severity_history"]] == ["P2"]
    assert doc["acknowledged_at"] and doc["resolved_at"]
    assert list(doc["checklist"].values()).count("ticked") == 2
    code, _, err = await luckytui("incident", "resolve", number, "--log", log)
    assert code == 1 and "already resolved" in err
    code, _, err = await luckytui("incident", "resolve", "--tick", "9", "--log", log)
    assert code == 2 and "no checklist item 9" in err


async def test_declare_takes_detection_from_the_log(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from luckytui.signals import alert_signals
    from luckytui.snapshots import Alert, AlertsSnapshot
    from luckytui.store import EventLog

    log = tmp_path / "log.sqlite3"
    now = datetime.now(UTC).replace(microsecond=0)
    pending_from, fired = now - timedelta(minutes=9), now - timedelta(minutes=4)

    def snap(at: datetime, state: str) -> AlertsSnapshot:
        return AlertsSnapshot(at, (Alert("NoOrdersProcessed", state, "critical", pending_from,
                                         "no orders for 5 minutes"),))

    async with await EventLog.open(log) as events:
        for s in alert_signals(snap(fired - timedelta(seconds=15), "pending"),
                               snap(fired, "firing")):
            await events.append(s.kind, s.data, actor="room", dedupe=s.dedupe)
        # a check that failed earlier and came back is not in force: it does not count
        await events.append("endpoint.down", {
            "endpoint": "orders", "group": "orders", "ordinal": 1,
            "since": (now - timedelta(minutes=30)).isoformat()}, actor="room")
        await events.append("endpoint.up", {"endpoint": "orders", "group": "orders",
                                            "ordinal": 2}, actor="room")
    code, out, err = await luckytui("incident", "declare", "--title", "Orders failing",
                                    "--severity", "P2", "--log", str(log))
    assert code == 0, err
    code, out, _ = await luckytui("incident", "show", out.strip(), "--json", "--log", str(log))
    doc = json.loads(out)
    # when the alert fired, not its pending start (activeAt) nor the declaration
    assert doc["detected_at"] == fired.isoformat().replace("+00:00", "Z")


async def test_the_war_room_form_and_severity_hint_are_fresh(tmp_path: Path) -> None:
    """The declare form's detection is the log's (as the shell's); `p` re-runs the tree on
    the snapshots of the moment."""
    from dataclasses import replace
    from datetime import timedelta

    from luckytui.snapshots import EndpointsSnapshot, SourceState, SourceStatus
    from luckytui.sources.base import Update
    from luckytui.store import EventLog
    from screens.incident import DeclareScreen
    from screens.steps import ChoiceScreen

    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        now = app.clock()
        since = now - timedelta(minutes=7)
        async with await EventLog.open(tmp_path / "log.sqlite3") as other:  # another room
            await other.append("endpoint.down", {
                "endpoint": "orders", "group": "orders", "ordinal": 1, "status": 500,
                "error": "HTTP 500", "since": since.isoformat()}, actor="room-2")
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, DeclareScreen)
        assert app.screen.triage is not None and app.screen.triage.detected_at == since
        await pilot.press(*"Orders failing")
        await pilot.click("#declare")
        for _ in range(50):
            if app.active_incident is not None:
                break
            await pilot.pause(0.05)
        assert app.active_incident is not None and app.active_incident.detected == since

        endpoints, _ = app.snapshots()
        assert endpoints is not None
        failing = tuple(replace(e, ok=False, status=500, error="HTTP 500")
                        if e.group == "orders" else e for e in endpoints.endpoints)
        state = SourceState("endpoints", SourceStatus.OK, last_ok=now)
        app.post_message(app.SourceUpdated(Update("endpoints", state, EndpointsSnapshot(
            now, failing))))
        await pilot.pause(0.1)
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        assert "Are orders failing? yes: orders failing: orders/orders HTTP 500" \
            in app.screen.hint
