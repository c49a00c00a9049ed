"""A remedy from the keyboard: key, question, confirmation with the dry run, outcome."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import OptionList

from luckytui.app import LuckyApp
from luckytui.config import load_settings
from luckytui.sim.kube import KUBE_API
from luckytui.sim.runner import Simulation
from screens.confirm import AskScreen, ConfirmScreen
from widgets.pods import PodsPane


async def until(pilot: Pilot[int], condition: object, within: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await pilot.pause(0.05)


def writes(sim: Simulation) -> list[str]:
    return sim.runners[0].app[KUBE_API].writes


async def select_backend(app: LuckyApp, pilot: Pilot[int]) -> None:
    pane = app.dashboard.query_one(PodsPane)
    await until(pilot, lambda: pane.snapshot is not None and app.mitigator is not None)
    await pilot.press("1")
    for _ in range(20):
        pod = pane.selected_pod()
        if pod is not None and pod.deployment == "luckygas-backend":
            return
        await pilot.press("down")
    raise AssertionError("no backend pod to select")


async def test_scale_from_the_keyboard(sim: Simulation, tmp_path: Path) -> None:
    settings = load_settings(sim.config_path).with_overrides(refresh=0.5)
    app = LuckyApp(settings, log_path=tmp_path / "log.sqlite3", actor="amy@jump")
    async with app.run_test(size=(160, 48)) as pilot:
        await select_backend(app, pilot)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, AskScreen))
        await pilot.press("ctrl+a", "ctrl+k", "8", "enter")  # replace the 3 with 8
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert confirm.plan.changes[0].before == "3" and confirm.plan.changes[0].after == "8"
        assert confirm.plan.dry_run == "accepted: replicas would be 8"
        assert app.focused is not None and app.focused.id == "cancel"  # Cancel by default
        assert sim.model.deployments["luckygas-backend"].replicas == 3  # dry run only
        assert all("dryRun=All" in w for w in writes(sim))
        await pilot.click("#confirm")
        await until(pilot, lambda: sim.model.deployments["luckygas-backend"].replicas == 8)
        await until(pilot, lambda: any("scaled to 8" in i.text for _, i in app._timeline))
        assert any("Scale deployment luckygas-backend (replicas 3 → 8)" in i.text
                   for _, i in app._timeline)
        pane = app.dashboard.query_one(PodsPane)
        await until(pilot, lambda: pane.snapshot is not None and next(
            d for d in pane.snapshot.deployments if d.name == "luckygas-backend").desired == 8)


async def test_cancel_changes_nothing(sim: Simulation, tmp_path: Path) -> None:
    settings = load_settings(sim.config_path).with_overrides(refresh=0.5)
    app = LuckyApp(settings, log_path=tmp_path / "log.sqlite3")
    async with app.run_test(size=(160, 48)) as pilot:
        await select_backend(app, pilot)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("enter")  # Enter on the focused Cancel
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        await pilot.pause(0.3)
    assert all("dryRun=All" in w for w in writes(sim))
    assert not any("restartedAt" in a for a in sim.model.deployments["luckygas-backend"]
                   .annotations)


async def test_read_only_offers_no_remedy_and_sends_nothing(sim: Simulation,
                                                            tmp_path: Path) -> None:
    settings = load_settings(sim.config_path).with_overrides(refresh=0.5, read_only=True)
    app = LuckyApp(settings, log_path=tmp_path / "log.sqlite3")
    async with app.run_test(size=(160, 48)) as pilot:
        pane = app.dashboard.query_one(PodsPane)
        await until(pilot, lambda: pane.snapshot is not None)
        await pilot.press("1", "s", "r", "c")
        await pilot.pause(0.3)
        assert not isinstance(app.screen, AskScreen | ConfirmScreen)
        keys = {b.binding.key for b in app.screen.active_bindings.values() if b.enabled}
        assert not {"s", "r", "c"} & keys
        assert "READ-ONLY" in app.dashboard.query_one("Banner").render().plain
    assert writes(sim) == []


async def test_terminate_the_selected_backend(sim: Simulation, tmp_path: Path) -> None:
    from widgets.database import DatabasePane

    settings = load_settings(sim.config_path).with_overrides(refresh=0.5)
    app = LuckyApp(settings, log_path=tmp_path / "log.sqlite3")
    async with app.run_test(size=(160, 48)) as pilot:
        pane = app.dashboard.query_one(DatabasePane)
        await until(pilot, lambda: pane.snapshot is not None and app.mitigator is not None)
        await pilot.press("2")
        backend = pane.selected_backend()
        assert backend is not None and backend.duration_s > 300  # the report query, first
        assert backend.pid in sim.model.connections
        await pilot.press("k")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert str(backend.pid) in confirm.plan.target
        await pilot.click("#confirm")
        await until(pilot, lambda: backend.pid not in sim.model.connections)
        await until(pilot, lambda: all(b.pid != backend.pid for b in pane.snapshot.long_running)
                    if pane.snapshot else False)


async def test_emergency_scale_needs_the_namespace_typed(sim: Simulation,
                                                         tmp_path: Path) -> None:
    from textual.widgets import Button

    settings = load_settings(sim.config_path).with_overrides(refresh=0.5)
    app = LuckyApp(settings, log_path=tmp_path / "log.sqlite3")
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: app.mitigator is not None and bool(app.actions))
        await pilot.press("E")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen) and len(confirm.plan.touches) == 2
        button = confirm.query_one("#confirm", Button)
        assert button.disabled
        assert app.focused is confirm.query_one("#typed")  # typing goes to the name
        await pilot.press(*"luckygas")
        await pilot.pause()
        assert not button.disabled
        await pilot.click("#confirm")
        await until(pilot, lambda: sim.model.deployments["luckygas-backend"].replicas == 10)


async def test_one_key_undo(sim: Simulation, tmp_path: Path) -> None:
    settings = load_settings(sim.config_path).with_overrides(refresh=0.5)
    log = tmp_path / "log.sqlite3"
    app = LuckyApp(settings, log_path=log)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: app.mitigator is not None and bool(app.actions))
        action = app.actions["scale"]
        plan = await action.plan("luckygas-frontend", "6")
        assert app.mitigator is not None
        assert (await app.mitigator.run(action, plan)).ok
        assert sim.model.deployments["luckygas-frontend"].replicas == 6
        await pilot.press("u")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert (confirm.plan.changes[0].before, confirm.plan.changes[0].after) == ("6", "2")
        assert confirm.plan.title.startswith("undo of scale luckygas-frontend 2→6: ")
        await pilot.click("#confirm")
        await until(pilot, lambda: sim.model.deployments["luckygas-frontend"].replicas == 2)
        # the undo's records and timeline line name what it undid
        await until(pilot, lambda: any(i.kind == "mitigation.outcome" and "undo of" in i.text
                                       for _, i in app._timeline))
        lines = [i.text for _, i in app._timeline if i.kind.startswith("mitigation.")]
        assert lines[-2] == ("▶ undo of scale luckygas-frontend 2→6: Scale deployment "
                             "luckygas-frontend (replicas 6 → 2)")
        assert lines[-1].startswith("✓ undo of scale luckygas-frontend 2→6: scale "
                                    "deployment/luckygas-frontend: ")
    from luckytui.store import EventLog

    async with await EventLog.open(log) as events:
        first, _, intent, outcome = await events.records(
            kinds=("mitigation.intent", "mitigation.outcome"))
    for record in (intent, outcome):
        assert record.data["undo_of"]["summary"] == "scale luckygas-frontend 2→6"
        assert record.data["undo_of"]["intent"] == first.id


async def test_a_firing_alert_offers_its_runbook(sim: Simulation, tmp_path: Path) -> None:
    """Its runbook opens from the alert; a tick by hand and a remedy that succeeded are
    both recorded, and show ☑ when the runbook is opened again."""
    from luckytui.store import EventLog
    from screens.runbook import RunbookScreen
    from widgets.alerts import AlertsPane

    sim.model.alert_rules[1].for_s = 0  # AnalyticsEndpointDown fires as soon as it is true
    sim.model.begin("analytics")
    settings = load_settings(sim.config_path).with_overrides(refresh=0.5)
    app = LuckyApp(settings, log_path=tmp_path / "log.sqlite3")
    async with app.run_test(size=(160, 48)) as pilot:
        pane = app.dashboard.query_one(AlertsPane)
        await until(pilot, lambda: pane.snapshot is not None and any(
            a.state == "firing" for a in pane.snapshot.alerts) and bool(app.actions))
        await pilot.press("4", "enter")
        await until(pilot, lambda: isinstance(app.screen, RunbookScreen))
        book = app.screen
        assert isinstance(book, RunbookScreen) and book.runbook.id == "analytics-endpoint-down"
        assert book.runbook.steps[2].action == "run-job"
        await pilot.press("space")  # step 1 done
        await pilot.press("down", "down", "enter")  # step 3: run the aggregation now
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#confirm")
        await until(pilot, lambda: any(j.startswith("analytics-aggregation-manual-")
                                       for j in sim.model.jobs))
        await until(pilot, lambda: any(i.kind == "runbook.step" and "step 3" in i.text
                                       for _, i in app._timeline))
        # opened again: both steps ticked, the next one to do highlighted
        await pilot.press("4", "enter")
        await until(pilot, lambda: isinstance(app.screen, RunbookScreen))
        again = app.screen
        assert isinstance(again, RunbookScreen)
        steps = again.query_one("#steps", OptionList)
        marks = [str(steps.get_option_at_index(i).prompt)[0]
                 for i in range(steps.option_count)]
        assert marks[:3] == ["☑", "☐", "☑"]
        assert steps.highlighted == 1
    async with await EventLog.open(tmp_path / "log.sqlite3") as log:
        steps_done = await log.records(kinds=["runbook.step"])
        outcomes = await log.records(kinds=["mitigation.outcome"])
    assert [(r.data["runbook"], r.data["step"], r.data["ticked"]) for r in steps_done] == [
        ("analytics-endpoint-down", 0, True), ("analytics-endpoint-down", 2, True)]
    assert outcomes[-1].data["status"] == "ok"
    assert steps_done[-1].data["remedy"] == outcomes[-1].data["intent"]


async def test_a_remedy_not_confirmed_leaves_its_step_unticked(sim: Simulation,
                                                         tmp_path: Path) -> None:
    from luckytui.store import EventLog
    from screens.runbook import RunbookScreen

    settings = load_settings(sim.config_path).with_overrides(refresh=0.5)
    app = LuckyApp(settings, log_path=tmp_path / "log.sqlite3")
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: bool(app.actions) and app.mitigator is not None)
        book = next(b for b in app.runbooks if b.id == "analytics-endpoint-down")
        app.run_worker(app.remedy_flow.open_runbook(book))
        await until(pilot, lambda: isinstance(app.screen, RunbookScreen))
        await pilot.press("down", "down", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#cancel")  # Back: nothing runs, nothing is ticked
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        await pilot.pause(0.3)
    async with await EventLog.open(tmp_path / "log.sqlite3") as log:
        assert await log.records(kinds=["runbook.step"]) == []


async def test_any_remedy_by_name(sim: Simulation, tmp_path: Path) -> None:
    from screens.runbook import ActionPicker

    settings = load_settings(sim.config_path).with_overrides(refresh=0.5)
    app = LuckyApp(settings, log_path=tmp_path / "log.sqlite3")
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: app.mitigator is not None and bool(app.actions))
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ActionPicker))
        picker = app.screen
        assert isinstance(picker, ActionPicker)
        names = [name for name, _, _ in picker.actions]
        for _ in range(names.index("set-env")):
            await pilot.press("down")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, AskScreen))
        await pilot.press(*"luckygas-backend CACHE_TTL=300", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#confirm")
        await until(pilot, lambda: sim.model.deployments["luckygas-backend"].env.get(
            "CACHE_TTL") == "300")
