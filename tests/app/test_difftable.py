"""The diffing table: keyed rows, cells never parsed as markup, the cursor that stays
on its row, and repaints of only the rows that changed."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.widgets import DataTable

from tests.app.widgetkit import (
    COLUMNS,
    SIZE,
    Host,
    column,
    full_repaints,
    plain,
    record_refreshes,
    record_repaints,
    row_text,
    screen_text,
    simple_rows,
    style,
)
from widgets import (
    ColumnSpec,
    DiffTable,
)
from widgets.table import cell, rcell


async def test_diff_table_rows_cells_and_no_markup() -> None:
    table = DiffTable(COLUMNS)
    app = Host(table)
    async with app.run_test(size=SIZE) as pilot:
        table.sync_rows([("a", ["[bold]a[/bold]", "ARRAY[1,2]"]), ("b", ["b"])])
        await pilot.pause()
        assert table.row_keys() == ["a", "b"]
        assert row_text(table, "a") == ["[bold]a[/bold]", "ARRAY[1,2]"]
        assert row_text(table, "b") == ["b", ""]  # missing cells are blank
        assert table.cursor_type == "row" and table.zebra_stripes is False
        assert "[bold]a[/bold]" in screen_text(app)
        # a key given twice is one row, where it first comes, with the later cells
        table.sync_rows([("x", ["1"]), ("a", ["a"]), ("x", ["2"])])
        await pilot.pause()
        assert table.row_keys() == ["x", "a"] and table.row_count == 2
        assert row_text(table, "x") == ["2", ""]
        table.sync_rows([("a", ["a"]), ("x", ["3"]), ("a", ["a2"])])  # and again, updated
        await pilot.pause()
        assert table.row_keys() == ["a", "x"] and table.row_count == 2
        assert row_text(table, "a") == ["a2", ""] and row_text(table, "x") == ["3", ""]


async def test_diff_table_cursor_follows_key_on_reorder_insert_and_remove() -> None:
    table = DiffTable(COLUMNS)
    async with Host(table).run_test(size=SIZE) as pilot:
        table.sync_rows(simple_rows("a", "b", "c", "d"))
        table.focus()
        await pilot.press("down", "down")
        assert table.selected_key() == "c"

        table.sync_rows(simple_rows("c", "a", "d", "b"))  # reorder
        assert table.selected_key() == "c" and table.cursor_row == 0

        table.sync_rows(simple_rows("x", "y", "c", "a", "d", "b"))  # added above
        assert table.selected_key() == "c" and table.cursor_row == 2

        table.sync_rows(simple_rows("y", "c", "d", "b"))  # removed above
        assert table.selected_key() == "c" and table.cursor_row == 1

        table.sync_rows(simple_rows("y", "d", "b"))  # the selected row left: same index
        assert table.selected_key() == "d" and table.cursor_row == 1

        table.sync_rows(simple_rows("y"))  # fewer rows than the index: the last one
        assert table.selected_key() == "y"

        table.sync_rows([])
        assert table.selected_key() is None and table.row_count == 0
        table.sync_rows(simple_rows("n", "m"))
        assert table.selected_key() == "n"
        await pilot.pause()
        assert plain(table.get_row_at(0)[0]) == "n"


async def test_diff_table_posts_highlight_only_when_the_selected_key_changes() -> None:
    table = DiffTable(COLUMNS)
    seen: list[DataTable.RowHighlighted] = []

    def hook(message: object) -> None:
        if isinstance(message, DataTable.RowHighlighted) and message not in seen:
            seen.append(message)  # once, however far it bubbles

    async with Host(table).run_test(size=SIZE, message_hook=hook) as pilot:
        table.sync_rows(simple_rows("a", "b", "c"))
        await pilot.pause()
        table.move_cursor(row=1)
        await pilot.pause()
        seen.clear()
        table.sync_rows(simple_rows("c", "b", "a"))  # b moves nowhere: index 1 still
        table.sync_rows(simple_rows("b", "c", "a"))  # b moves to 0: same key
        await pilot.pause()
        assert seen == []
        table.sync_rows(simple_rows("c", "a"))  # b is gone
        await pilot.pause()
        assert [m.row_key.value for m in seen] == ["c"]


async def test_diff_table_unchanged_data_costs_nothing() -> None:
    table = DiffTable(COLUMNS)
    async with Host(table).run_test(size=SIZE) as pilot:
        rows = simple_rows(*(f"row{i}" for i in range(30)))
        table.sync_rows(rows)
        await pilot.pause()
        count_before = table._update_count
        updates: list[object] = []
        table.update_cell = lambda *a, **k: updates.append(a)  # type: ignore[method-assign]
        with record_refreshes(table) as calls:
            for _ in range(3):
                # equal, not identical: new Text objects with the same content and style
                table.sync_rows([(k, [cell(a), rcell(b)]) for k, (a, b) in rows])
                table.sync_rows(simple_rows(*(f"row{i}" for i in range(30))))
            await pilot.pause()
        assert calls == []
        assert updates == []
        assert table._update_count == count_before


async def test_diff_table_repaints_only_changed_rows() -> None:
    table = DiffTable(COLUMNS)
    async with Host(table).run_test(size=SIZE) as pilot:
        names = [f"row{i}" for i in range(30)]
        table.sync_rows(simple_rows(*names))
        await pilot.pause()
        with record_refreshes(table) as calls:
            table.sync_rows(simple_rows(*names, values={"row3": "2", "row7": "3"}))
            await pilot.pause()
        assert full_repaints(calls) == 0
        repainted = [regions[0] for regions, _, _ in calls if regions]
        assert len(repainted) == 2
        header = table.header_height
        assert {r.y for r in repainted} == {3 + header, 7 + header}
        assert all(r.height == 1 for r in repainted)
        assert column(table, "value")[3] == "2" and column(table, "value")[7] == "3"

        # a style change alone is a change too (Text equality ignores the base style)
        def styled(colour: str) -> list[tuple[str, list[RenderableType]]]:
            return [(k, [k, Text("1", style=colour if k == "row5" else "", justify="right")])
                    for k in names]

        table.sync_rows(styled("red"))
        await pilot.pause()
        with record_refreshes(table) as calls:
            table.sync_rows(styled("green"))
            await pilot.pause()
        assert full_repaints(calls) == 0 and len(calls) == 1
        assert "green" in style(table.get_row("row5")[1])


async def test_diff_table_full_repaint_when_most_rows_change() -> None:
    table = DiffTable(COLUMNS)
    async with Host(table).run_test(size=(80, 20)) as pilot:
        names = [f"row{i}" for i in range(40)]
        table.sync_rows(simple_rows(*names))
        await pilot.pause()
        with record_refreshes(table) as calls:
            table.sync_rows(simple_rows(*names, values={n: "9" for n in names}))
            await pilot.pause()
        assert full_repaints(calls) == 1
        assert not [c for c in calls if c[0]]  # no row-by-row repaints on top


async def test_diff_table_appending_repaints_only_new_rows() -> None:
    table = DiffTable(COLUMNS)
    async with Host(table).run_test(size=SIZE) as pilot:
        table.sync_rows(simple_rows("a", "b", "c"))
        await pilot.pause()
        with record_repaints(table) as dirty:
            table.sync_rows(simple_rows("a", "b", "c", "d"))
            await pilot.pause()
        assert () not in dirty  # no full repaint, though the virtual size grew
        assert [r.y for regions in dirty for r in regions] == [3 + table.header_height]
        assert row_text(table, "d") == ["d", "1"]
        assert table.virtual_size.height == 4 + table.header_height


async def test_diff_table_reorder_repaints_only_the_lines_that_changed() -> None:
    table = DiffTable(COLUMNS)
    async with Host(table).run_test(size=SIZE) as pilot:
        names = [f"row{i}" for i in range(20)]
        table.sync_rows(simple_rows(*names))
        await pilot.pause()
        swapped = list(names)
        swapped[4], swapped[9] = swapped[9], swapped[4]
        with record_repaints(table) as dirty:
            table.sync_rows(simple_rows(*swapped))
            await pilot.pause()
        header = table.header_height
        assert sorted(r.y for regions in dirty for r in regions) == [4 + header, 9 + header]
        assert table.row_keys() == swapped
        assert plain(table.get_row_at(4)[0]) == "row9"


async def test_diff_table_fill_column_takes_the_rest_of_the_width() -> None:
    table = DiffTable([ColumnSpec("id", "ID", 4), ColumnSpec("text", "TEXT", fill=True)])
    async with Host(table).run_test(size=(60, 10)) as pilot:
        table.sync_rows([("1", ["1", "x" * 200])])
        await pilot.pause()
        widths = [c.get_render_width(table) for c in table.columns.values()]
        assert sum(widths) == table.scrollable_content_region.width
        assert table.virtual_size.width <= table.scrollable_content_region.width
        assert "…" in screen_text(table.app)


