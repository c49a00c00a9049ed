"""A minute of a busy incident: the war room must not die, and must show each record once.

The real app on the simulated production (analytics broken, so alerts fire and an
endpoint goes down) for over a minute while, all at once: the follow timer runs; the
operator declares from the keyboard, adds notes (`:`) and scales the backend (planned,
confirmed); and other processes write to the same log: `luckytui act ... --yes` and
`luckytui incident note ...`, again and again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from pathlib import Path

import pytest
from textual.message import Message
from textual.notifications import Notify
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from luckytui.app import TIMELINE_KEEP, LuckyApp
from luckytui.config import load_settings
from luckytui.sim.runner import Simulation
from luckytui.store import EventLog
from screens.confirm import AskScreen, ConfirmScreen
from screens.incident import DeclareScreen
from screens.timeline import TimelineScreen
from tests.app.test_actions_flow import select_backend, until
from tests.app.test_incident_cli import luckytui
from widgets.timeline import TimelinePane

DURATION_S = 62.0


async def shell_writer(deadline: float, *args_for: str, log: str, config: str,
                       kind: str) -> list[int]:
    """Run one luckytui command after another until ``deadline``; their exit codes."""
    loop = asyncio.get_running_loop()
    codes: list[int] = []
    n = 0
    while loop.time() < deadline:
        n += 1
        if kind == "note":
            args = ["incident", "note", f"jump-2 sees it too ({n})", "--log", log,
                    "--as", "bob@jump-2"]
        else:
            args = ["act", "--config", config, "--log", log, "--yes", "--as", "carol@jump-3",
                    "scale", "luckygas-frontend", str(2 + n % 3)]
        code, _, err = await luckytui(*args)
        assert code == 0, (args, err)
        codes.append(code)
        await asyncio.sleep(1.0)  # a person at a shell, not a loop: the log stays comparable
    return codes


@pytest.mark.timeout(300)
async def test_a_busy_minute_with_other_writers(
        sim: Simulation, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="luckytui.errors")
    sim.model.alert_rules[1].for_s = 0  # AnalyticsEndpointDown fires as soon as it is true
    sim.model.begin("analytics")
    log_path = tmp_path / "log.sqlite3"
    settings = load_settings(sim.config_path).with_overrides(refresh=0.5)
    failures: list[str] = []

    def hook(message: Message) -> None:
        if isinstance(message, Worker.StateChanged) and message.state is WorkerState.ERROR:
            failures.append(f"worker {message.worker.name!r}: {message.worker.error!r}")
        if isinstance(message, Notify) and message.notification.severity == "error":
            failures.append(f"error notification: {message.notification.message}")

    app = LuckyApp(settings, log_path=log_path, actor="amy@jump-1")
    loop = asyncio.get_running_loop()
    async with app.run_test(size=(160, 48), message_hook=hook) as pilot:
        await select_backend(app, pilot)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, DeclareScreen))
        app.screen.query_one("#title", Input).value = "Financial analytics answers 500"
        await pilot.click("#declare")
        await until(pilot, lambda: app.active_incident is not None)
        inc = app.active_incident
        assert inc is not None

        deadline = loop.time() + DURATION_S
        writers = [
            asyncio.create_task(shell_writer(deadline, log=str(log_path),
                                             config=str(sim.config_path), kind=kind))
            for kind in ("note", "act")]
        notes = remedies = 0
        while loop.time() < deadline:
            notes += 1
            await pilot.press("colon")
            await until(pilot, lambda: isinstance(app.screen, AskScreen))
            await pilot.press(*f"note {notes}", "enter")
            await until(pilot, lambda: app.screen is app.dashboard)
            if notes % 3 == 0:  # and a remedy from the keyboard, confirmed
                remedies += 1
                await select_backend(app, pilot)
                await pilot.press("s")
                await until(pilot, lambda: isinstance(app.screen, AskScreen))
                await pilot.press("ctrl+a", "ctrl+k", str(3 + remedies % 2), "enter")
                await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
                await pilot.click("#confirm")
                await until(pilot, lambda: app.screen is app.dashboard)
            await pilot.pause(0.2)
        codes = await asyncio.gather(*writers)
        assert all(len(c) >= 3 for c in codes), codes  # each writer ran, repeatedly
        assert notes >= 6 and remedies >= 2, (notes, remedies)

        # everything written has reached the war room
        async with await EventLog.open(log_path) as reader:
            last = await reader.last_id()
        await until(pilot, lambda: app._last_record >= last)
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, TimelineScreen))
        await pilot.pause(0.3)

        assert app.is_running
        assert failures == []
        assert [r.getMessage() for r in caplog.records if r.name == "luckytui.errors"] == []
        assert app.event_log is not None
        records = await app.event_log.records()
        assert len(records) < TIMELINE_KEEP, Counter(r.kind for r in records)  # none dropped
        since = min(inc.started_at, inc.detected)
        expected = sorted(str(r.id) for r in records if r.incident == inc.number
                          or (r.incident is None and r.ts >= since))
        kinds = Counter(r.kind for r in records)
        assert kinds["incident.note"] >= notes + 3  # the keyboard's and the shell's
        assert kinds["mitigation.outcome"] >= remedies + 3
        screen = app.screen
        assert isinstance(screen, TimelineScreen)
        for keys in (screen.table.row_keys(),
                     app.dashboard.query_one(TimelinePane).table.row_keys()):
            assert len(keys) == len(set(keys))  # shown once...
            assert sorted(keys) == expected  # ...each of them
