"""The banner in a small terminal: what a stressed operator reads on its one line.

At 80x24 and 60x20, on the full dashboard and on a tmux side pane, the banner keeps
the incident's number and severity, its clocks whole (relative, never a time of
day) and the count of firing alerts; the rest gives way first.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from luckytui.app import LuckyApp
from tests.app.test_snapshots import all_loaded, frozen_app
from tests.app.test_widgets import screen_text
from widgets.banner import Banner

SIZES = [(80, 24), (60, 20)]
PANES = [None, ("endpoints", "timeline")]


def firing(app: LuckyApp) -> int:
    snap = app._last_alerts
    assert snap is not None
    return sum(1 for a in snap.alerts if a.state == "firing")


async def banner_line(app: LuckyApp) -> str:
    """The banner as the terminal shows it: the screen's first line."""
    return screen_text(app).splitlines()[0]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("panes", PANES)
async def test_small_banner_keeps_incident_clocks_and_firing_count(
        tmp_path: Path, size: tuple[int, int], panes: tuple[str, ...] | None) -> None:
    app = frozen_app(tmp_path, panes=panes)
    async with app.run_test(size=size) as pilot:
        await all_loaded(pilot)
        assert app.incidents is not None
        now = app.clock()
        # detected 3m 20s ago: P2 ack within 30 min, first status page update within 15
        inc = await app.incidents.declare("Financial analytics answers 500", "P2",
                                          detected_at=now - timedelta(seconds=200))
        await app._follow_log()
        await pilot.pause(0.1)
        line = await banner_line(app)
        assert len(line) == size[0]
        assert inc.number in line and " P2 " in line
        assert "ack in 26:40" in line
        assert "page in 11:40" in line  # "status page in 11:40" when there is room
        count = firing(app)
        assert count > 0 and f"{count} firing" in line
        assert "…" not in line and "due" not in line


@pytest.mark.parametrize("size", SIZES)
async def test_overdue_clocks_read_as_overdue_not_as_a_time(
        tmp_path: Path, size: tuple[int, int]) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await all_loaded(pilot)
        assert app.incidents is not None
        now = app.clock()
        inc = await app.incidents.declare("Site down", "P1",
                                          detected_at=now - timedelta(minutes=17, seconds=5))
        await app._follow_log()
        await pilot.pause(0.1)
        line = await banner_line(app)
        # at 60 columns two overdue clocks leave room for the day's sequence only
        number = inc.number if size[0] == 80 else "INC-…-001"
        assert number in line and " P1 " in line
        assert "ack OVERDUE 2:05" in line and "page OVERDUE 2:05" in line
        assert f"{firing(app)} firing" in line and "…" not in line.replace(number, "")
        styled = app.dashboard.query_one(Banner).compose_line(size[0], now)
        overdue = [span for span in styled.spans if "on red" in str(span.style)]
        assert any("OVERDUE" in styled.plain[s.start:s.end] for s in overdue)


async def test_what_gives_way_first_as_the_banner_narrows(tmp_path: Path) -> None:
    """Wide: every word; narrower: the elapsed time, then the status word, then the
    sources' words go, and "status page" becomes "page"; the clocks stay whole."""
    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        assert app.incidents is not None
        now = app.clock()
        inc = await app.incidents.declare("Orders failing", "P2", detected_at=now)
        await app._follow_log()
        banner = app.dashboard.query_one(Banner)
        wide = banner.compose_line(200, now).plain
        assert f"{inc.number} · P2 · Investigating · for 00:00:00" in wide
        assert "ack in 30:00" in wide and "status page in 15:00" in wide
        assert "● kube ok" in wide
        previous = wide
        for width in range(199, 51, -1):
            line = banner.compose_line(width, now).plain
            assert len(line) == width
            assert inc.number in line or "INC-…-001" in line
            assert "P2" in line and "ack in 30:00" in line and "page in 15:00" in line
            assert f"{firing(app)} firing" in line
            assert "…" not in line.replace("INC-…-001", "")  # nothing cut
            if "Investigating" in line:  # the status word outlives the elapsed time
                assert "Investigating" in previous
            if "for 00:00:00" in line:
                assert "Investigating" in line
            previous = line
        assert "Investigating" not in banner.compose_line(80, now).plain
        assert "INC-…-001" not in banner.compose_line(60, now).plain


async def test_a_drill_says_so_in_the_banner(tmp_path: Path) -> None:
    """`luckytui drill NAME`: the war room on the drill's simulation, its title shown."""
    from luckytui.config import Settings
    from luckytui.sim.launcher import SimProcess

    sim = SimProcess(postgres=False, drill="database-failure", drill_title="Database failure",
                     directory=tmp_path / "sim", log=tmp_path / "log.sqlite3")
    app = LuckyApp(Settings(refresh=3600), sim=sim, log_path=tmp_path / "log.sqlite3")
    async with app.run_test(size=(160, 48)) as pilot:
        for _ in range(200):
            if "DRILL" in await banner_line(app):
                break
            await pilot.pause(0.05)
        line = await banner_line(app)
        assert "DRILL: Database failure" in line and app.title == "DRILL: Database failure"
