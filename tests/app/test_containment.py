"""Nothing unexpected takes the war room down: a pane that cannot draw its data, a
handler, an action or a worker that raises is reported in one line, the traceback goes
to the debug log, and the rest of the room and its log go on."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, OptionList
from textual.worker import WorkerState

from luckytui.app import LuckyApp
from luckytui.config import load_settings
from luckytui.runbooks import Runbook
from luckytui.sim.runner import Simulation
from luckytui.snapshots import Alert
from luckytui.store import EventLog
from screens.confirm import AskScreen
from screens.help import HelpScreen
from screens.incident import DeclareScreen
from screens.remedy_flow import RemedyFlow
from screens.runbook import ActionPicker, RunbookPicker
from tests.app.frozen import snapshots_after
from tests.app.test_actions_flow import until
from tests.app.test_snapshots import FrozenSource, all_loaded, frozen_app
from widgets.alerts import AlertsPane
from widgets.database import DatabasePane
from widgets.pods import PodsPane

GOOD = snapshots_after(100)


def notices(app: LuckyApp) -> list[str]:
    return [n.message for n in app._notifications]


def source(app: LuckyApp, name: str) -> FrozenSource:
    return next(s for s in app._given_sources or () if s.name == name)  # type: ignore[misc]


async def the_room_goes_on(app: LuckyApp, pilot: Any, tmp_path: Path) -> None:
    """Another pane takes new data, keys answer, and the log is followed."""
    db = app.dashboard.query_one(DatabasePane)
    newer = snapshots_after(110)["db"]
    source(app, "db").snapshot = newer
    app.pollers["db"].poll_now()
    await until(pilot, lambda: db.snapshot is newer)
    assert db.display_error is None and db.table.row_count > 0
    async with await EventLog.open(tmp_path / "log.sqlite3") as other:
        written = await other.append("alert.fired", {
            "alert": "StillListening", "severity": "warning", "summary": "from jump-2",
            "active_at": None}, actor="bob@jump-2")
    assert written is not None
    await until(pilot, lambda: any(i.id == written.id for _, i in app._timeline))
    await pilot.press("question_mark")
    await until(pilot, lambda: isinstance(app.screen, HelpScreen))
    await pilot.press("escape")
    await until(pilot, lambda: app.screen is app.dashboard)
    assert app.is_running


async def test_a_pane_that_cannot_draw_says_so_and_recovers(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    kube = GOOD["kube"]
    broken = replace(kube, pods=(replace(kube.pods[0], cpu_m="lots"), *kube.pods[1:]))
    app = frozen_app(tmp_path, kube=broken)
    caplog.set_level(logging.DEBUG, logger="luckytui.errors")
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        pods = app.dashboard.query_one(PodsPane)
        assert pods.display_error is not None
        assert pods.display_error.startswith("display error: TypeError: ")
        assert "✖ display error: TypeError" in str(pods.border_subtitle)
        assert pods.has_class("-failing")
        # the traceback is in the debug log, not on the screen
        logged = [r for r in caplog.records if "Pods pane" in r.getMessage()]
        assert logged and logged[0].exc_info is not None
        # the alerts seen at start were recorded and shown all the same
        assert {i.kind for _, i in app._timeline} == {"alert.fired"}
        await the_room_goes_on(app, pilot, tmp_path)
        # an incident can be declared from the keyboard
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, DeclareScreen))
        app.screen.query_one("#title", Input).value = "Pods pane broken"
        await pilot.click("#declare")
        await until(pilot, lambda: app.active_incident is not None)
        # good data draws again, and the error line goes
        source(app, "kube").snapshot = kube
        app.pollers["kube"].poll_now()
        await until(pilot, lambda: pods.snapshot is kube)
        await pilot.pause()
        assert pods.display_error is None
        assert "display error" not in str(pods.border_subtitle or "")
        assert not pods.has_class("-failing")
        assert pods.table.row_count == min(100, len(kube.pods))
        assert not [w for w in app.workers if w.state is WorkerState.ERROR]


async def test_a_handler_that_raises_on_outside_data_is_reported_once(
        tmp_path: Path) -> None:
    alerts = GOOD["alerts"]
    # an alert whose start is not a time: the pane cannot draw it, nor can the signal
    # be recorded (the handler that records it raises)
    odd = Alert("OddAlert", "firing", "critical", "yesterday", "[bold]not a time")  # type: ignore[arg-type]
    app = frozen_app(tmp_path, alerts=replace(alerts, alerts=(*alerts.alerts, odd)))
    async with app.run_test(size=(160, 48)) as pilot:
        pane = app.dashboard.query_one(AlertsPane)
        await until(pilot, lambda: pane.display_error is not None)
        assert "✖ display error: AttributeError" in str(pane.border_subtitle)
        await until(pilot, lambda: any("Recording signals failed" in n for n in notices(app)))
        [line] = [n for n in notices(app) if "Recording signals failed" in n]
        assert line.startswith("Recording signals failed: AttributeError: ")
        # the next refresh fails the same way: not notified again
        app.pollers["alerts"].poll_now()
        await pilot.pause(0.3)
        assert sum("Recording signals failed" in n for n in notices(app)) == 1
        await the_room_goes_on(app, pilot, tmp_path)


class BrokenRunbooks(RemedyFlow):
    def runbooks(self, firing: set[str]) -> None:
        raise RuntimeError("runbook index damaged")


class BrokenRunbooksKey(LuckyApp):
    """The runbooks key's handler raises."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.remedy_flow = self.dashboard.remedies = BrokenRunbooks(self, self)


async def test_an_action_that_raises_is_named_and_the_room_goes_on(tmp_path: Path) -> None:
    app = frozen_app(tmp_path, app_class=BrokenRunbooksKey)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        await pilot.press("b")
        await until(pilot, lambda: bool(notices(app)))
        assert notices(app) == ["Action runbooks failed: RuntimeError: runbook index damaged"]
        await the_room_goes_on(app, pilot, tmp_path)


class BrokenRunbookFlow(RemedyFlow):
    async def open_runbook(self, book: Runbook) -> None:
        raise LookupError(f"{book.id}: step 3 missing")


class BrokenRunbook(LuckyApp):
    """Opening a runbook fails in its worker."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.remedy_flow = self.dashboard.remedies = BrokenRunbookFlow(self, self)


async def test_a_worker_that_raises_is_named_and_the_room_goes_on(tmp_path: Path) -> None:
    app = frozen_app(tmp_path, app_class=BrokenRunbook)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, RunbookPicker))
        await pilot.press("enter")
        await until(pilot, lambda: bool(notices(app)))
        [line] = notices(app)
        assert line.startswith("Runbook failed: LookupError: ") and "step 3 missing" in line
        await the_room_goes_on(app, pilot, tmp_path)


async def test_a_typed_remedy_that_cannot_be_parsed_is_reported(
        sim: Simulation, tmp_path: Path) -> None:
    settings = load_settings(sim.config_path).with_overrides(refresh=0.5)
    app = LuckyApp(settings, log_path=tmp_path / "log.sqlite3", actor="amy@jump")
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: bool(app.actions) and app.mitigator is not None)
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ActionPicker))
        options = app.screen.query_one(OptionList)
        options.highlighted = [o.id for o in options._options].index("set-env")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, AskScreen))
        await pilot.press(*'luckygas-backend "CACHE_TTL=300', "enter")
        await until(pilot, lambda: any("Remedy set-env failed" in n for n in notices(app)))
        assert any("No closing quotation" in n for n in notices(app))
        assert app.is_running and app.screen is app.dashboard
        assert sim.model.deployments["luckygas-backend"].env.get("CACHE_TTL") is None
