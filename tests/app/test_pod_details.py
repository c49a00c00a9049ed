"""A pod's log and describe from the Pods pane, against the simulation's Kubernetes API:
the said lines, following, the previous container of a crash loop, search, a hostile
line, describe with the last termination and events, and the keys in `?` help."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from rich.style import Style
from textual.pilot import Pilot
from textual.widgets import Static

from luckytui.app import LuckyApp
from luckytui.config import load_settings
from luckytui.sim.runner import Simulation, start_simulation
from screens.help import HelpScreen
from screens.pod_describe import DescribeScreen
from screens.pod_logs import PodLogsScreen
from tests.app.test_actions_flow import until
from widgets.pods import PodsPane

BACKEND = "luckygas-backend"
CRASH = "FATAL: could not connect to the database at db-replica:5433"


class Ahead:
    """The wall clock, moved ahead at will: the simulation's time."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
async def ahead(tmp_path: Path) -> AsyncIterator[tuple[Simulation, Ahead]]:
    """The simulation on a clock the test can move forward (a crash loop in no time)."""
    clock = Ahead()
    simulation = await start_simulation(tmp_path / "sim", seed=7, clock=clock)
    try:
        yield simulation, clock
    finally:
        await simulation.stop()


def make_app(sim: Simulation, tmp_path: Path, *, read_only: bool = False) -> LuckyApp:
    settings = load_settings(sim.config_path).with_overrides(refresh=0.5, read_only=read_only)
    return LuckyApp(settings, log_path=tmp_path / "log.sqlite3")


async def select(app: LuckyApp, pilot: Pilot[int], deployment: str = BACKEND,
                 status: str = "") -> str:
    """Move the Pods pane's cursor to a pod of `deployment` (whose status shows
    `status`); its name."""
    pane = app.dashboard.query_one(PodsPane)
    await until(pilot, lambda: pane.snapshot is not None)
    await pilot.press("1")
    for _ in range(3):
        await until(pilot, lambda: any(
            p.deployment == deployment and status in p.phase + p.last_exit
            for p in pane.snapshot.pods), within=30)  # type: ignore[union-attr]
        await pilot.press("home")
        for _ in range(40):
            pod = pane.selected_pod()
            if pod is not None and pod.deployment == deployment and \
                    status in pod.phase + pod.last_exit:
                return pod.name
            await pilot.press("down")
    raise AssertionError(f"no {deployment} pod to select")


def shown(screen: PodLogsScreen) -> list[str]:
    """The log view's lines as drawn."""
    return [strip.text for strip in screen.log_view.lines]


async def open_logs(app: LuckyApp, pilot: Pilot[int]) -> PodLogsScreen:
    await pilot.press("l")
    await until(pilot, lambda: isinstance(app.screen, PodLogsScreen) and app.screen.loaded)
    screen = app.screen
    assert isinstance(screen, PodLogsScreen)
    await until(pilot, lambda: len(shown(screen)) == len(screen.lines))
    return screen


async def test_logs_show_said_lines_follow_and_search(sim: Simulation, tmp_path: Path) -> None:
    sim.model.say(BACKEND, "order 4711 stuck: payment gateway timeout")
    sim.model.say(BACKEND, "login \x1b[2J password=hunter2 for amy", verbatim=True)
    app = make_app(sim, tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        name = await select(app, pilot)
        screen = await open_logs(app, pilot)
        assert screen.pod == name
        text = shown(screen)
        assert any(line.endswith("ERROR order 4711 stuck: payment gateway timeout")
                   for line in text)
        hostile = next(line for line in text if "login ␛" in line)
        assert hostile.endswith("login ␛[2J password=*** for amy")
        assert not any("hunter2" in line or "\x1b" in line for line in text)

        # follow: a line said now streams in at the end
        await pilot.press("f")
        await until(pilot, lambda: screen.stream is not None and screen.stream.opened)
        sim.model.say(BACKEND, "cache miss storm on orders:*", "WARN")
        await until(pilot, lambda: any("cache miss storm" in line for line in shown(screen)))
        assert shown(screen)[-1].endswith("WARN  cache miss storm on orders:*")
        status = str(screen.query_one("#logs-status", Static).render())
        assert "following" in status

        # search: every match highlighted, n / N move between them
        await pilot.press("slash", *"gateway", "enter")
        await until(pilot, lambda: screen.pattern == "gateway")
        assert [screen.lines[i] for i in screen.matches] == [
            line for line in screen.lines if "gateway" in line]
        line = screen.matches[screen.current]
        segments = [s for s in screen.log_view.lines[line] if s.text == "gateway"]
        assert segments and segments[0].style is not None and \
            segments[0].style.bgcolor == Style.parse("on bright_cyan").bgcolor
        assert "match 1 of 1 for 'gateway'" in str(
            screen.query_one("#logs-status", Static).render())
        await pilot.press("slash", "ctrl+a", "ctrl+k", *"GET", "enter")
        await until(pilot, lambda: screen.pattern == "get" and len(screen.matches) > 1)
        await pilot.press("n")
        assert screen.current == 1
        await pilot.press("N", "N")
        assert screen.current == len(screen.matches) - 1
        await pilot.press("slash", "ctrl+a", "ctrl+k", *"no such text", "enter")
        await until(pilot, lambda: screen.pattern == "no such text")
        assert screen.matches == [] and "no line matches" in str(
            screen.query_one("#logs-status", Static).render())

        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, PodLogsScreen))
        assert screen.stream is None  # leaving stops the stream


async def test_following_pauses_when_scrolled_up(sim: Simulation, tmp_path: Path) -> None:
    app = make_app(sim, tmp_path)
    async with app.run_test(size=(160, 30)) as pilot:
        await select(app, pilot)
        screen = await open_logs(app, pilot)
        await pilot.press("f")
        # the stream is open: what is said now streams in
        await until(pilot, lambda: screen.stream is not None and screen.stream.opened)
        for i in range(60):  # more than a screenful
            sim.model.say(BACKEND, f"filler line {i}", "INFO")
        await until(pilot, lambda: any("filler line 59" in s for s in shown(screen)))
        view = screen.log_view
        await until(pilot, lambda: view.is_vertical_scroll_end)
        view.scroll_to(y=0, animate=False)
        await pilot.pause()
        sim.model.say(BACKEND, "said while scrolled up", "INFO")
        await until(pilot, lambda: any("said while scrolled up" in s for s in shown(screen)))
        assert view.scroll_y == 0 and screen.paused  # the view stayed where the reader is
        await pilot.press("end")
        await until(pilot, lambda: view.is_vertical_scroll_end)
        sim.model.say(BACKEND, "said at the end again", "INFO")
        await until(pilot, lambda: any("said at the end again" in s for s in shown(screen)))
        await until(pilot, lambda: view.is_vertical_scroll_end and not screen.paused)


async def test_crash_loop_previous_container_and_describe(
        ahead: tuple[Simulation, Ahead], tmp_path: Path) -> None:
    sim, clock = ahead
    app = make_app(sim, tmp_path, read_only=True)  # reading is offered read-only too
    async with app.run_test(size=(160, 48)) as pilot:
        healthy = await select(app, pilot, "order-worker")
        screen = await open_logs(app, pilot)
        await pilot.press("p")
        await until(pilot, lambda: screen.previous and screen.loaded and
                    "no previous container" in str(
                        screen.query_one("#logs-note", Static).render()))
        assert screen.lines == [] and healthy in str(
            screen.query_one("#logs-note", Static).render())
        await pilot.press("escape")

        sim.model.rollout_bad_config(BACKEND, {"DATABASE_URL": "postgres://db-replica:5433/x",
                                               "DB_PASSWORD": "hunter2"}, CRASH)
        clock.offset += 90  # the new pods start, pass readiness, exit and restart
        name = await select(app, pilot, BACKEND, "Error (1)")
        pane = app.dashboard.query_one(PodsPane)
        row = pane.table.get_row_at(pane.table.cursor_row)
        assert row[1].plain == "✖ CrashLoopBackOff · Error (1)"

        screen = await open_logs(app, pilot)
        await pilot.press("p")
        await until(pilot, lambda: screen.previous and screen.lines and
                    screen.lines[-1].endswith(f"FATAL {CRASH}"))
        assert shown(screen)[-1].endswith(f"FATAL {CRASH}")
        await pilot.press("escape")

        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, DescribeScreen) and app.screen.loaded)
        describe = app.screen
        assert isinstance(describe, DescribeScreen)
        body = str(describe.query_one("#describe-body", Static).render())
        assert f"Pod {name} in luckygas" in body
        assert "State: Waiting (CrashLoopBackOff)" in body
        assert "Last termination: Error (1), finished" in body
        assert "DB_PASSWORD=***" in body and "hunter2" not in body
        assert "Warning  BackOff" in body.splitlines()[-1]  # events, newest last
        await pilot.press("escape")

        await pilot.press("D")
        await until(pilot, lambda: isinstance(app.screen, DescribeScreen) and app.screen.loaded)
        body = str(app.screen.query_one("#describe-body", Static).render())
        assert f"Deployment {BACKEND} in luckygas" in body
        assert "revision 2: " in body and "revision 1: " in body
        assert "ScalingReplicaSet" in body


async def test_keys_are_in_help_on_the_dashboard_and_the_logs(sim: Simulation,
                                                              tmp_path: Path) -> None:
    app = make_app(sim, tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await select(app, pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = str(app.screen.query_one(Static).render())
        for key, what in (("l", "Logs"), ("d", "Describe"), ("D", "Describe deployment")):
            assert f"{key}  {what}" in text
        await pilot.press("escape")
        await open_logs(app, pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = str(app.screen.query_one(Static).render())
        for key, what in (("f", "Follow"), ("p", "Previous container"), ("/", "Search"),
                          ("n", "Next match"), ("N", "Previous match")):
            assert f"{key}  {what}" in text
        await asyncio.sleep(0)


def test_the_demos_room_offers_logs_and_describe_before_its_cluster_is_known() -> None:
    """The demo's and a drill's settings name the cluster only once the simulation has
    started: the keys are offered from the start all the same (they were missing)."""
    from luckytui.config import Settings
    from luckytui.sim.launcher import SimProcess

    demo = LuckyApp(Settings(), sim=SimProcess())
    assert demo.settings.kube is None
    assert demo.dashboard.check_action("pod_logs", ()) is True
    assert demo.dashboard.check_action("describe", ()) is True
    bare = LuckyApp(Settings())  # no cluster configured, no simulation: nothing to read
    assert not bare.dashboard.check_action("pod_logs", ())
