"""Keys, help and the command palette, driven as a user drives them."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandPalette
from textual.content import Content
from textual.widgets import Static

from screens.help import HelpScreen
from tests.app.test_snapshots import all_loaded, frozen_app
from widgets.endpoints import EndpointsPane
from widgets.pods import PodsPane


async def test_number_keys_focus_panes_and_tab_cycles(tmp_path: Path) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        await pilot.press("3")
        endpoints = app.dashboard.query_one(EndpointsPane)
        assert app.focused is endpoints.table
        await pilot.press("1")
        assert app.focused is app.dashboard.query_one(PodsPane).table
        await pilot.press("tab")
        assert app.focused is not app.dashboard.query_one(PodsPane).table


async def test_cursor_stays_on_the_same_pod_across_refreshes(tmp_path: Path) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        await pilot.press("1", "down", "down")
        pane = app.dashboard.query_one(PodsPane)
        chosen = pane.selected_pod()
        assert chosen is not None
        snapshot = pane.snapshot
        assert snapshot is not None
        # the next refresh reorders the pods: the chosen one becomes the busiest
        from dataclasses import replace

        pods = tuple(replace(p, cpu_m=(p.cpu_limit_m or 1000) if p.name == chosen.name
                             else (p.cpu_m or 0) / 4) for p in snapshot.pods)
        pane.update_source(replace(snapshot, pods=pods), pane.state, pane.now)  # type: ignore[arg-type]
        await pilot.pause()
        assert pane.table.row_keys()[0] == chosen.uid
        after = pane.selected_pod()
        assert after is not None and after.name == chosen.name


async def test_help_lists_every_war_room_key(tmp_path: Path) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one(Static).render())
        for needle in ("Quit", "Endpoints", "Timeline", "Next pane", "Command palette"):
            assert needle in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_palette_lists_actions_and_runs_them(tmp_path: Path) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"Endpoints pane")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.focused is app.dashboard.query_one(EndpointsPane).table


async def test_q_quits(tmp_path: Path) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_pane_numbers_follow_reading_order_and_the_number_keys(tmp_path: Path) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        panes = list(app.dashboard.query(".pane"))
        assert len(panes) == 6
        reading = sorted(panes, key=lambda p: (p.region.y, p.region.x))
        titles = [Content.from_markup(str(p.border_title)).plain for p in reading]
        assert [t.split(" ", 1)[0] for t in titles] == ["1", "2", "3", "4", "5", "6"]
        assert [t.split(" · ")[0].split(" ", 1)[1] for t in titles] == [
            "Pods", "DB connections", "Endpoints", "Alerts", "Slow queries", "Timeline"]
        for number, pane in enumerate(reading, start=1):
            await pilot.press(str(number))
            assert app.focused is not None and pane in app.focused.ancestors_with_self
