"""Replay: the war room records what its panes show while an incident is active, and
`luckytui replay` shows it again as it was, moved by a time scrubber."""

from __future__ import annotations

import asyncio
import dataclasses
import html
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from luckytui.app import LuckyApp
from luckytui.cli import main
from luckytui.config import Settings
from luckytui.incident.model import RESOLUTION_CHECKLIST
from luckytui.replay import ReplayClock, load, sources
from luckytui.snapshots import PodsSnapshot, SourceStatus
from luckytui.store.replay import replay_path
from screens.replay import EventsScreen
from tests.app.frozen import snapshots_after
from tests.app.test_actions_flow import until
from tests.app.test_snapshots import FrozenSource, all_loaded
from tests.app.widgetkit import screen_text
from widgets.pods import PodsPane
from widgets.scrubber import Scrubber

CPU_BEFORE, CPU_PEAK, CPU_AFTER = 1234.0, 2468.0, 3579.0  # the first pod's, in turn
# (shown as 1,234 and so on)
STEP_S = 30


class Clock:
    """The war room's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def with_cpu(kube: PodsSnapshot, cpu: float) -> PodsSnapshot:
    first = dataclasses.replace(kube.pods[0], cpu_m=cpu, cpu_history=())
    return dataclasses.replace(kube, pods=(first, *kube.pods[1:]))


def first_pod_cpu(app: LuckyApp) -> float | None:
    snapshot = app.dashboard.query_one(PodsPane).snapshot
    if snapshot is None:
        return None
    pod = snapshot.pods[0]
    return pod.cpu_m


async def record_incident(tmp_path: Path) -> tuple[Path, str, datetime]:
    """A war room that sees an incident declared (T), the first pod's CPU climb (1234 m
    at T+30 s, 2468 m at T+60 s) and the incident resolved (T+90 s); after that (3579 m)
    nothing is recorded. The log, the incident's number, and T."""
    data = snapshots_after(100)
    kube = data["kube"]
    srcs = {n: FrozenSource(n, data[n]) for n in ("kube", "db", "endpoints", "alerts")}
    srcs["kube"].snapshot = with_cpu(kube, CPU_BEFORE)
    clock = Clock(data["now"])
    log = tmp_path / "log.sqlite3"
    app = LuckyApp(Settings(utc=True, refresh=3600), sources=list(srcs.values()),
                   clock=clock, log_path=log, actor="oncall@jump-1")
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        assert app.incidents is not None
        inc = await app.incidents.declare("Backend CPU saturated", "P2")
        await app.follow_log()
        assert app.active_incident is not None

        async def poll(cpu: float) -> None:
            """STEP_S later, every source polls once; the first pod's CPU is `cpu`."""
            clock.now += timedelta(seconds=STEP_S)
            srcs["kube"].snapshot = with_cpu(kube, cpu)
            app.poll_now()
            await until(pilot, lambda: first_pod_cpu(app) == cpu and all(
                app.states[n].last_ok == clock.now for n in srcs))
            await pilot.pause(0.05)

        await poll(CPU_BEFORE)
        await poll(CPU_PEAK)
        clock.now += timedelta(seconds=STEP_S)
        await app.incidents.resolve(dict.fromkeys(RESOLUTION_CHECKLIST, True))
        await app.follow_log()
        assert app.active_incident is None
        await poll(CPU_AFTER)  # shown, but no longer recorded
    return log, inc.number, data["now"]


async def loaded(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, LuckyApp) and app.replay is not None
    panes = set(app.replay.data.replay.panes)
    await until(pilot, lambda: panes <= set(app.pollers) and all(
        app.states[p].status is SourceStatus.OK for p in panes))
    await until(pilot, lambda: first_pod_cpu(app) is not None)
    await pilot.pause(0.1)


async def test_a_recorded_incident_replays_as_it_was(tmp_path: Path) -> None:
    log, number, declared = await record_incident(tmp_path)
    assert replay_path(log).exists()
    data = await load(log, number)
    # the first frames are what every pane showed at the declaration
    assert data.replay.times == [declared, declared + timedelta(seconds=STEP_S),
                                 declared + timedelta(seconds=2 * STEP_S)]
    assert set(data.replay.panes) == {"kube", "db", "endpoints", "alerts"}
    clock = ReplayClock(data)
    app = LuckyApp(Settings(utc=True), sources=sources(clock), clock=clock, log_path=log,
                   replay=clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        assert first_pod_cpu(app) == CPU_BEFORE
        text = screen_text(app)
        assert "1,234" in text and "2,468" not in text
        assert "REPLAY 03:" in text and "frame 1/3" in text
        assert clock.now == declared and "nothing recorded yet" not in text
        # the timeline as of the first frame: declared, not yet resolved
        assert "declared" in text.lower() and "resolved" not in text.lower()
        await pilot.press("right")
        await until(pilot, lambda: clock.now == declared + timedelta(seconds=STEP_S))
        assert first_pod_cpu(app) == CPU_BEFORE
        await pilot.press("right")
        await until(pilot, lambda: first_pod_cpu(app) == CPU_PEAK)
        assert "2,468" in screen_text(app) and clock.now == declared + timedelta(seconds=60)
        await pilot.press("left")  # back a frame: the earlier value again
        await until(pilot, lambda: first_pod_cpu(app) == CPU_BEFORE)
        assert "1,234" in screen_text(app) and "2,468" not in screen_text(app)
        await pilot.press("right_square_bracket")  # the next event: the resolution
        await until(pilot, lambda: "resolved" in screen_text(app).lower())
        assert clock.now == clock.end == declared + timedelta(seconds=90)
        assert first_pod_cpu(app) == CPU_PEAK  # the last frame carried to the resolution
        assert "3,579" not in screen_text(app)  # after resolving: never recorded
        await pilot.press("left")
        await until(pilot, lambda: first_pod_cpu(app) == CPU_BEFORE)
        assert "resolved" not in screen_text(app).lower()
        await pilot.press("e")  # the events, as a list: the last one is the resolution
        await until(pilot, lambda: isinstance(app.screen, EventsScreen))
        assert "resolved" in screen_text(app).lower()
        await pilot.press("end", "enter")
        await until(pilot, lambda: clock.now == clock.end and first_pod_cpu(app) == CPU_PEAK)
        assert app.screen is app.dashboard
        # read-only: no incident step and no remedy is offered
        keys = {b.binding.action for b in app.screen.active_bindings.values()}
        assert not keys & {"declare", "resolve", "act('scale')", "act('restart')"}
        assert {"step(-1)", "step(1)", "play", "event(1)"} <= keys


async def test_playing_moves_through_the_frames_at_the_speed_chosen(tmp_path: Path) -> None:
    log, number, _ = await record_incident(tmp_path)
    clock = ReplayClock(await load(log, number))
    app = LuckyApp(Settings(utc=True), sources=sources(clock), clock=clock, log_path=log,
                   replay=clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        for _ in range(3):
            await pilot.press("plus")
        assert clock.speed == 10
        await pilot.press("space")
        await pilot.pause(0.05)
        assert clock.playing and "▶ playing 10x" in screen_text(app)
        # 30 s of incident at 10x: about 3 s of wall time to reach the second frame
        await until(pilot, lambda: first_pod_cpu(app) == CPU_PEAK, within=20)
        await until(pilot, lambda: not clock.playing, within=20)  # stops at the end
        assert clock.now == clock.end
        assert app.screen.query_one(Scrubber).now == clock.end


def svg_text(svg: str) -> str:
    return html.unescape("".join(re.findall(r"<text[^>]*>(.*?)</text>", svg, re.DOTALL))
                         ).replace("\xa0", " ")


def test_the_screenshot_shows_the_panes_as_of_at(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    log, number, declared = asyncio.run(record_incident(tmp_path))
    at = (declared + timedelta(seconds=2 * STEP_S + 5)).astimezone(UTC)
    out = tmp_path / "frame.svg"
    code = main(["replay", number, "--log", str(log), "--utc", "--at", f"{at:%H:%M:%S}",
                 "--screenshot", str(out)])
    assert code == 0, capsys.readouterr().err
    text = svg_text(out.read_text())
    assert "2,468" in text and "1,234" not in text  # the second frame's CPU, not the first
    assert f"REPLAY {at:%H:%M:%S}" in text
    early = tmp_path / "early.svg"
    first = declared + timedelta(seconds=STEP_S)
    assert main(["replay", number, "--log", str(log), "--utc", "--at",
                 f"{first:%H:%M:%S}", "--screenshot", str(early)]) == 0
    text = svg_text(early.read_text())
    assert "1,234" in text and "2,468" not in text


def test_replay_refusals_are_one_line(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    log, number, declared = asyncio.run(record_incident(tmp_path))
    capsys.readouterr()
    outside = (declared - timedelta(hours=2)).astimezone(UTC)
    assert main(["replay", number, "--log", str(log), "--utc", "--at",
                 f"{outside:%H:%M:%S}", "--screenshot", str(tmp_path / "x.svg")]) == 2
    err = capsys.readouterr().err
    assert "outside the recording" in err and err.count("\n") == 1
    assert not (tmp_path / "x.svg").exists()
    assert main(["replay", "INC-19990101-001", "--log", str(log)]) == 1
    err = capsys.readouterr().err
    assert "no incident INC-19990101-001" in err and err.count("\n") == 1
    # an incident declared while no war room was open has no frames
    assert main(["incident", "declare", "--title", "From the shell", "--severity", "P3",
                 "--log", str(log)]) == 0
    other = capsys.readouterr().out.strip()
    assert main(["replay", other, "--log", str(log)]) == 1
    err = capsys.readouterr().err
    assert "no frames recorded" in err and err.count("\n") == 1


async def test_a_failing_replay_file_stops_recording_but_not_the_room(tmp_path: Path) -> None:
    (tmp_path / "log.sqlite3.replay.sqlite3").write_text("not a database\n")
    data = snapshots_after(100)
    kube = FrozenSource("kube", with_cpu(data["kube"], CPU_BEFORE))
    srcs = [kube, *(FrozenSource(n, data[n]) for n in ("db", "endpoints", "alerts"))]
    app = LuckyApp(Settings(utc=True, refresh=3600), sources=srcs, clock=lambda: data["now"],
                   log_path=tmp_path / "log.sqlite3", actor="oncall@jump-1")
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        assert app.incidents is not None
        await app.incidents.declare("Backend CPU saturated", "P2")
        await app.follow_log()
        app.poll_now()
        await until(pilot, lambda: "replay not recorded" in screen_text(app))
        kube.snapshot = with_cpu(data["kube"], CPU_PEAK)  # the panes go on showing
        app.poll_now()
        await until(pilot, lambda: first_pod_cpu(app) == CPU_PEAK)
        assert "2,468" in screen_text(app) and app.active_incident is not None


def test_replay_screen_snapshot(snap_compare: Any, tmp_path: Path) -> None:
    """The replay at its second frame: the scrubber under the banner, the panes, banner
    and timeline as of then, no incident step or remedy in the footer."""
    log, number, _ = asyncio.run(record_incident(tmp_path))
    clock = ReplayClock(asyncio.run(load(log, number)))
    clock.step(1)
    app = LuckyApp(Settings(utc=True), sources=sources(clock), clock=clock, log_path=log,
                   replay=clock)
    assert snap_compare(app, terminal_size=(160, 48), run_before=loaded)
