"""A drill in the war room: the incident declared with `n` while a drill runs is the
drill's, a remedy confirmed from the keyboard counts, and resolving shows the score."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from textual.widgets import Checkbox, Static

from luckytui.app import LuckyApp
from luckytui.config import load_settings
from luckytui.drills.scenario import built_in
from luckytui.sim.runner import Simulation
from luckytui.store import EventLog
from screens.confirm import AskScreen, ConfirmScreen
from screens.drill_score import DrillScoreScreen
from screens.incident import DeclareScreen, ResolveScreen
from screens.incidents import ResolveAnywayScreen
from tests.app.test_actions_flow import select_backend, until
from tests.conftest import FROZEN, ManualClock


async def test_a_drill_declared_with_n_is_scored_when_resolved(sim: Simulation,
                                                               tmp_path: Path) -> None:
    clock = ManualClock()

    def at(seconds: float) -> None:
        clock.t = (FROZEN + timedelta(seconds=seconds)).timestamp()

    path = tmp_path / "log.sqlite3"
    scenario = built_in()["api-degradation"]  # expected P2; scaling the backend is right
    async with await EventLog.open(path, clock=clock.now) as engine:  # the drill engine
        await engine.append("drill.started", {
            "drill_id": "5eed", "scenario": scenario.name, "title": scenario.title,
            "expected_severity": "P2", "speed": 1.0,
            "right": [str(r) for r in scenario.right],
            "harmful": [str(r) for r in scenario.harmful]}, actor="drill")
        settings = load_settings(sim.config_path).with_overrides(refresh=0.5, utc=True)
        app = LuckyApp(settings, clock=clock.now, log_path=path, actor="amy@jump")
        async with app.run_test(size=(160, 48)) as pilot:
            await until(pilot, lambda: app.incidents is not None)
            at(90)
            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, DeclareScreen))
            # the form says what the log will record: this drill's incident
            box = app.screen.query_one("#drill", Checkbox)
            assert box.value and box.disabled
            assert "Drill: API degradation is running" in str(box.label)
            await pilot.press(*"Backend slow")
            await pilot.click("#sev-P2")
            await pilot.click("#declare")
            await until(pilot, lambda: app.active_incident is not None)
            inc = app.active_incident
            assert inc is not None and inc.drill and inc.drill_id == "5eed"

            at(200)
            await select_backend(app, pilot)
            await pilot.press("s")
            await until(pilot, lambda: isinstance(app.screen, AskScreen))
            await pilot.press("ctrl+a", "ctrl+k", "8", "enter")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.click("#confirm")
            await until(pilot, lambda: sim.model.deployments["luckygas-backend"].replicas == 8)
            await until(pilot, lambda: any("scaled to 8" in i.text for _, i in app._timeline))

            at(400)
            await engine.append("drill.recovered", {"drill_id": "5eed",
                                                    "scenario": scenario.name}, actor="drill")
            at(500)
            await pilot.press("R")
            await until(pilot, lambda: isinstance(app.screen, ResolveAnywayScreen
                                                  | ResolveScreen))
            if isinstance(app.screen, ResolveAnywayScreen):
                await pilot.click("#yes")
                await until(pilot, lambda: isinstance(app.screen, ResolveScreen))
            app.screen.query_one("#item-0", Checkbox).value = True
            await pilot.click("#resolve")
            await until(pilot, lambda: isinstance(app.screen, DrillScoreScreen))
            screen = app.screen
            assert isinstance(screen, DrillScoreScreen)
            shown = str(screen.query_one("#drill-score", Static).render())
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is app.dashboard)
        scored = await engine.records(kinds=("drill.scored",))
    # a line a measure, never one paragraph with the line breaks drawn as ⏎
    assert "⏎" not in shown and len(shown.splitlines()) >= 8
    assert any(line.startswith("✓ Declared") for line in shown.splitlines())
    assert f"Incident {inc.number}: Backend slow · final" in shown
    assert f"{inc.number}, 1m 30s after the start, on time (target 5 min)" in shown
    assert "P2 (expected P2): right at first" in shown
    assert "scale luckygas-backend 8, 3m 20s after the start, on time (target 30 min)" in shown
    assert "✓ Recovered           20/20  6m 40s after the start, on time" in shown
    assert "RIGHT    scale luckygas-backend 8 (ok)" in shown
    assert "1 remedy: 0 wrong, 0 harmful" in shown
    assert "Score 100/100: PASS" in shown
    assert len(scored) == 1 and scored[0].data["incident"] == inc.number
