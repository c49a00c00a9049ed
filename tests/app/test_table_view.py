"""Every table filters ("/"), sorts ("<", ">", "O") and keeps its selection, driven
from the keyboard on the frozen war room."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.content import Content
from textual.pilot import Pilot

from luckytui.app import LuckyApp
from screens.incidents import IncidentListScreen
from tests.app.test_actions_flow import until
from tests.app.test_incident_list import declare, resolve_with_keys
from tests.app.test_snapshots import all_loaded, frozen_app
from widgets.pods import PodsPane
from widgets.table import DiffTable
from widgets.tableview import FilterInput, count_text, with_count
from widgets.timeline import TimelinePane


def pods(app: LuckyApp) -> PodsPane:
    return app.dashboard.query_one(PodsPane)


def names(pane: PodsPane) -> list[str]:
    return [pane.shown[key].name for key in pane.table.row_keys()]


def cpu(pane: PodsPane) -> list[float]:
    return [pane.shown[key].cpu_m or 0.0 for key in pane.table.row_keys()]


def title(pane: PodsPane) -> str:
    """The border title as shown (it is kept as markup)."""
    return Content.from_markup(str(pane.border_title)).plain


def header(table: DiffTable) -> list[str]:
    return [column.label.plain for column in table.columns.values()]


async def type_text(pilot: Pilot[Any], text: str) -> None:
    for char in text:
        await pilot.press(char)


async def test_slash_filters_as_you_type_enter_keeps_esc_clears(tmp_path: Path) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        pane = pods(app)
        await pilot.press("1")
        every = names(pane)
        assert len(every) == 7 and "of" not in title(pane)
        await pilot.press("slash")
        assert isinstance(app.focused, FilterInput)
        await type_text(pilot, "FRONT")  # any case
        await until(pilot, lambda: len(names(pane)) == 2)
        assert all("frontend" in name for name in names(pane))
        await until(pilot, lambda: "2 of 7" in title(pane))
        assert "/FRONT" in title(pane)
        await pilot.press("enter")  # keeps the filter, back on the table
        assert app.focused is pane.table
        assert not pane.query(FilterInput)
        await pilot.pause()
        assert len(names(pane)) == 2 and "2 of 7 · /FRONT" in title(pane)
        # a refresh keeps it
        snapshot = pane.snapshot
        assert snapshot is not None
        pane.update_source(replace(snapshot, pods=tuple(snapshot.pods)), pane.state, pane.now)  # type: ignore[arg-type]
        await pilot.pause()
        assert len(names(pane)) == 2
        await pilot.press("slash")
        assert isinstance(app.focused, FilterInput) and app.focused.value == "FRONT"
        await pilot.press("escape")  # clears and closes
        await until(pilot, lambda: len(names(pane)) == 7)
        assert app.focused is pane.table and not pane.query(FilterInput)
        await until(pilot, lambda: " of " not in title(pane))


async def test_filter_looks_past_the_row_cap_and_says_how_many_are_hidden(
        tmp_path: Path) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        pane = pods(app)
        pane.top = 3  # the busiest three of seven pods
        assert pane.snapshot is not None
        pane.update_source(replace(pane.snapshot), pane.state, pane.now)  # type: ignore[arg-type]
        await until(pilot, lambda: "3 of 7" in title(pane))
        assert all("backend" in name for name in names(pane))
        await pilot.press("1", "slash")
        await type_text(pilot, "order-worker")  # not in the top three by CPU
        await until(pilot, lambda: len(names(pane)) == 2)
        assert all(name.startswith("order-worker") for name in names(pane))
        await until(pilot, lambda: "2 of 7 · /order-worker" in title(pane))


async def test_sort_by_a_column_numbers_as_numbers_and_again_reverses(tmp_path: Path) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        pane = pods(app)
        table = pane.table
        await pilot.press("1")
        assert cpu(pane) == sorted(cpu(pane), reverse=True)  # the pane's own order
        await pilot.press("greater_than_sign", "greater_than_sign", "greater_than_sign")
        await pilot.pause()
        assert header(table)[2] == "CPU m ▲"
        values = cpu(pane)
        assert values == sorted(values) and values[0] < 200 and values[-1] == 1000.0
        # as text "1,000" would come first: sorted on the values, not the text
        await pilot.press("O")
        await pilot.pause()
        assert header(table)[2] == "CPU m ▼"
        assert cpu(pane) == sorted(cpu(pane), reverse=True)
        await pilot.press("greater_than_sign")  # next column: % LIMIT, ascending
        await pilot.pause()
        assert header(table)[2] == "CPU m" and header(table)[3].endswith("▲")
        await pilot.press("less_than_sign", "less_than_sign", "less_than_sign",
                          "less_than_sign")  # past the first column: the pane's order
        await pilot.pause()
        assert not any(label.endswith(("▲", "▼")) for label in header(table))
        assert cpu(pane) == sorted(cpu(pane), reverse=True)


async def test_sorted_durations_sort_by_seconds(tmp_path: Path) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        await pilot.press("2")  # DB connections
        table = app.focused
        assert isinstance(table, DiffTable) and table.id == "db-table"
        await pilot.press("greater_than_sign", "greater_than_sign")  # DURATION
        await pilot.pause()
        pids = [int(key.split("@")[0]) for key in table.row_keys()]
        assert pids == [4156, 4155, 4152]  # 3m 00s, 3m 14s, 8m 40s
        assert header(table)[1] == "DURATION ▲"


async def test_selection_stays_on_its_row_across_sort_filter_and_refresh(
        tmp_path: Path) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        pane = pods(app)
        await pilot.press("1", "down", "down", "down")
        chosen = pane.selected_pod()
        assert chosen is not None and chosen.name.startswith("luckygas-frontend")
        await pilot.press("greater_than_sign")  # by name: the rows move, not the selection
        await pilot.pause()
        assert names(pane) == sorted(names(pane))
        assert names(pane).index(chosen.name) != 3
        assert (selected := pane.selected_pod()) is not None and selected.name == chosen.name
        await pilot.press("slash")
        await type_text(pilot, "frontend")
        await pilot.press("enter")
        await until(pilot, lambda: len(names(pane)) == 2)
        assert (selected := pane.selected_pod()) is not None and selected.name == chosen.name


async def test_when_the_selected_row_leaves_the_cursor_goes_to_its_neighbour(
        tmp_path: Path) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        pane = pods(app)
        await pilot.press("1", "down", "down", "down")
        before = names(pane)
        chosen = pane.selected_pod()
        assert chosen is not None and before.index(chosen.name) == 3
        snapshot = pane.snapshot
        assert snapshot is not None
        # it leaves, and the row below it becomes the busiest (moves to the top)
        left = tuple(replace(p, cpu_m=5000.0) if p.name == before[4] else p
                     for p in snapshot.pods if p.name != chosen.name)
        pane.update_source(replace(snapshot, pods=left), pane.state, pane.now)  # type: ignore[arg-type]
        await pilot.pause()
        assert names(pane)[0] == before[4]
        after = pane.selected_pod()
        assert after is not None and after.name == before[4]  # its neighbour, where it went
        assert pane.table.cursor_row == 0
        # the last row leaves: the one above it
        await pilot.press("ctrl+end")
        last = pane.selected_pod()
        assert last is not None and last.name == names(pane)[-1], (names(pane), last.name)
        shown = names(pane)
        fewer = tuple(p for p in left if p.name != last.name)  # the order stays
        pane.update_source(replace(snapshot, pods=fewer), pane.state, pane.now)  # type: ignore[arg-type]
        await pilot.pause()
        after = pane.selected_pod()
        assert after is not None and after.name == shown[-2]


async def test_the_incident_list_filters_too(tmp_path: Path) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        first = await declare(app, "Checkout down")
        await resolve_with_keys(app, pilot, anyway=True)
        await declare(app, "Slow reports")
        await pilot.press("I")
        await until(pilot, lambda: isinstance(app.screen, IncidentListScreen))
        screen = app.screen
        assert isinstance(screen, IncidentListScreen)
        await until(pilot, lambda: len(screen.table.row_keys()) >= 1)
        assert len(screen.table.row_keys()) == 2
        await pilot.press("slash")
        await type_text(pilot, "checkout")
        await until(pilot, lambda: screen.table.row_keys() == [first])
        await until(pilot, lambda: "1 of 2 · /checkout" in screen.header.text.plain)


async def test_the_timeline_pane_filters_and_counts_in_its_title(tmp_path: Path) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        pane = app.dashboard.query_one(TimelinePane)
        assert len(pane.table.row_keys()) == 2
        await pilot.press("6", "slash")
        await type_text(pilot, "highapi")
        await until(pilot, lambda: len(pane.table.row_keys()) == 1)
        await until(pilot, lambda: "6 Timeline · 1 of 2 · /highapi"
                    in Content.from_markup(str(pane.border_title)).plain)
        key = pane.table.row_keys()[0]
        assert "HighAPIResponseTime" in str(pane.table.get_row(key)[1])


def test_the_filter_text_in_a_title_is_shown_not_obeyed() -> None:
    title_ = with_count("1 Pods", count_text(0, 7, "\x1b[2J[red]x"))
    assert "\x1b" not in title_.plain and "[red]x" in title_.plain
    assert title_.plain.startswith("1 Pods · 0 of 7 · /")
    assert not title_.spans or all(span.style == "bold" for span in title_.spans)
    assert count_text(7, 7, "") is None and count_text(100, 2000, "") is not None
