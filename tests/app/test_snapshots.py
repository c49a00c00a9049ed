"""What the war room looks like, frozen: a fixed seed, a fixed clock, fixed data.

Regenerate after an intended change with `make test ARGS="--snapshot-update"`
and review the SVGs under tests/app/__snapshots__/.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from luckytui.app import LuckyApp
from luckytui.config import Settings
from luckytui.snapshots import SourceStatus
from tests.app.frozen import snapshots_after


class FrozenSource:
    def __init__(self, name: str, snapshot: Any) -> None:
        self.name = name
        self.snapshot = snapshot

    async def fetch(self) -> Any:
        return self.snapshot

    async def aclose(self) -> None:
        pass


def frozen_app(tmp_path: Any, panes: tuple[str, ...] | None = None, *,
               read_only: bool = False, app_class: type[LuckyApp] = LuckyApp,
               **snapshots: Any) -> LuckyApp:
    """The war room on frozen data; ``snapshots`` replace a source's (kube=..., db=...)."""
    data = snapshots_after(100) | snapshots
    now = data["now"]
    sources = [FrozenSource(name, data[name]) for name in ("kube", "db", "endpoints", "alerts")]
    settings = Settings(utc=True, refresh=3600, read_only=read_only,
                        **({"panes": panes} if panes else {}))
    return app_class(settings, sources=sources, clock=lambda: now,
                     log_path=tmp_path / "log.sqlite3", actor="oncall@jump-1")


async def all_loaded(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, LuckyApp)
    for _ in range(100):
        if len(app.pollers) == 4 and all(
                s.status is SourceStatus.OK for s in app.states.values()):
            break
        await pilot.pause(0.05)
    for _ in range(100):  # and the alerts they saw firing are on the timeline
        if len(app._timeline) >= 2:
            break
        await pilot.pause(0.05)
    await pilot.pause(0.2)


@pytest.mark.parametrize("size", [(160, 48), (80, 24), (200, 60)])
def test_dashboard(snap_compare: Any, tmp_path: Any, size: tuple[int, int]) -> None:
    assert snap_compare(frozen_app(tmp_path), terminal_size=size, run_before=all_loaded)


def test_side_pane_endpoints_and_timeline(snap_compare: Any, tmp_path: Any) -> None:
    app = frozen_app(tmp_path, panes=("endpoints", "timeline"))
    assert snap_compare(app, terminal_size=(80, 24), run_before=all_loaded)


def test_narrow_layout_switches_pane_by_number(snap_compare: Any, tmp_path: Any) -> None:
    async def press_2(pilot: Pilot[Any]) -> None:
        await all_loaded(pilot)
        await pilot.press("2")
        await pilot.pause(0.1)

    assert snap_compare(frozen_app(tmp_path), terminal_size=(80, 24), run_before=press_2)



def test_db_activity_view(snap_compare: Any, tmp_path: Any) -> None:
    async def open_activity(pilot: Pilot[Any]) -> None:
        await all_loaded(pilot)
        await pilot.press("A")
        await pilot.pause(0.2)

    assert snap_compare(frozen_app(tmp_path), terminal_size=(160, 48), run_before=open_activity)


def test_db_activity_blocking_tree_paused(snap_compare: Any, tmp_path: Any) -> None:
    async def tree_paused(pilot: Pilot[Any]) -> None:
        await all_loaded(pilot)
        await pilot.press("A", "b", "space")
        await pilot.pause(0.2)

    assert snap_compare(frozen_app(tmp_path), terminal_size=(80, 24), run_before=tree_paused)
