"""Declare, acknowledge and resolve from the keyboard; the banner and timeline follow."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Checkbox

from luckytui.incident.model import RESOLUTION_CHECKLIST
from luckytui.store import EventLog
from screens.incident import DeclareScreen, ResolveScreen
from screens.incidents import ResolveAnywayScreen
from tests.app.test_snapshots import all_loaded, frozen_app
from widgets.banner import Banner
from widgets.timeline import TimelinePane


async def test_declare_ack_resolve(tmp_path: Path) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        for _ in range(50):
            if app.incidents is not None:
                break
            await pilot.pause(0.05)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, DeclareScreen)
        await pilot.press(*"Financial analytics answers 500")
        await pilot.click("#sev-P2")
        await pilot.click("#declare")
        for _ in range(50):
            if app.active_incident is not None:
                break
            await pilot.pause(0.05)
        inc = app.active_incident
        assert inc is not None and inc.severity == "P2"
        assert inc.title == "Financial analytics answers 500"
        await pilot.pause(0.1)
        banner = app.dashboard.query_one(Banner).render().plain
        assert inc.number in banner and "P2" in banner and "Investigating" in banner
        timeline = app.dashboard.query_one(TimelinePane)
        rows = [" ".join(map(str, timeline.table.get_row(k))) for k in timeline.table.row_keys()]
        assert any("Declared P2: Financial analytics answers 500" in row for row in rows), rows

        await pilot.press("a")
        for _ in range(50):
            if app.active_incident and app.active_incident.acknowledged_at:
                break
            await pilot.pause(0.05)
        assert app.active_incident is not None and app.active_incident.acknowledged_at

        await pilot.press("R")  # the frozen alert still fires: asked first
        await pilot.pause()
        assert isinstance(app.screen, ResolveAnywayScreen)
        assert "AnalyticsEndpointDown (critical)" in app.screen.question
        await pilot.click("#yes")
        await pilot.pause()
        assert isinstance(app.screen, ResolveScreen)
        boxes = list(app.screen.query(Checkbox))
        boxes[0].value = True
        boxes[2].value = True
        await pilot.click("#resolve")
        for _ in range(50):
            if app.active_incident is None:
                break
            await pilot.pause(0.05)
        assert app.active_incident is None
        await pilot.pause(0.1)
        assert "No active incident" in app.dashboard.query_one(Banner).render().plain

    async with await EventLog.open(tmp_path / "log.sqlite3") as log:
        kinds = [r.kind for r in await log.records(incident=inc.number)]
        resolved = (await log.records(kinds=["incident.resolved"]))[0]
        clock = (await log.records(kinds=["incident.clock"]))[0]
    # acknowledged within the P2 response SLA: recorded as met, once
    assert kinds == ["incident.declared", "incident.acknowledged", "incident.clock",
                     "incident.resolved"]
    assert clock.data["clock"] == "response" and clock.data["result"] == "met"
    answers = resolved.data["checklist"]
    assert [answers[item] for item in RESOLUTION_CHECKLIST] == [
        "ticked", "skipped", "ticked", "skipped", "skipped"]


async def test_escape_cancels_the_declaration(tmp_path: Path) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await all_loaded(pilot)
        await pilot.pause(0.3)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, DeclareScreen)
        await pilot.press("x", "escape")
        await pilot.pause()
        assert not isinstance(app.screen, DeclareScreen)
        assert app.active_incident is None
