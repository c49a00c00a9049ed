"""A keyed table that repaints only what changed.

``DataTable.update_cell`` repaints the whole visible table, and clearing and
re-adding rows costs even more and loses the cursor. ``DiffTable.sync_rows``
takes the full desired list of rows each refresh and:

- writes only the cells whose content changed, then repaints just the lines
  that show another row or another content than before (rows that changed,
  moved, or were appended); one full repaint instead when most visible lines
  changed, when the table got shorter, or when a column width changed;
- does nothing at all when nothing changed;
- keeps the cursor on the same row key; when that row left, on the nearest row that
  stayed (below it first), never silently back to the top.

Every table also filters and sorts what it is given (``/``, ``<`` ``>`` and ``O``;
see widgets/tableview.py): the rows hidden by the filter are removed like rows that
left, so an unchanged refresh still changes nothing.

Appending rows grows DataTable's virtual size, which on its own would repaint
the whole table; here it only lays out (the new rows are repainted already).

This is the one place in the code base that reaches into ``DataTable``'s
internal row bookkeeping (as ``DataTable.sort`` does); it is pinned to the
Textual version in ``constraints.txt`` and covered by the widget tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal, Self

from rich.console import RenderableType
from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.events import Resize
from textual.geometry import Region
from textual.message import Message
from textual.render import measure
from textual.widget import Widget
from textual.widgets import DataTable
from textual.widgets.data_table import Column, RowKey

from luckytui.text import visible
from widgets.tableview import (
    FilterInput,
    SortValue,
    Valued,
    count_text,
    row_text,
    sort_value,
    sorted_keys,
)

CELL_CACHE = 2048  # rendered cells kept: a tall screen of a wide table, twice over
ROW_CACHE = 256  # rendered rows and lines kept

Align = Literal["left", "right"]


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column of a ``DiffTable``.

    ``width`` fixes the content width (numbers: no jitter when values change);
    ``None`` sizes the column to its widest cell. ``fill`` makes the column
    take the width left over by the others (long text such as SQL; cells are
    cut with an ellipsis). When fewer than ``width`` cells are left for it, it
    reaches the right edge and the columns after it are reached by scrolling;
    it is never narrower than its label or 8 cells.
    """

    key: str
    label: str
    width: int | None = None
    align: Align = "left"
    fill: bool = False


def cell(value: str, style: str = "", *, align: Align = "left",
         sort: SortValue | None = None) -> Text:
    """A one-line table cell (never parsed as markup, cut with an ellipsis; control
    characters in outside text shown, never sent to the terminal). ``sort``: the value
    the column sorts this cell by, when it is not the text (a duration, a number)."""
    text = Valued(visible(value), style=style, justify=align, no_wrap=True,
                  overflow="ellipsis", end="")
    text.sort_value = sort
    return text


def rcell(value: str, style: str = "", sort: SortValue | None = None) -> Text:
    """A right-aligned one-line cell, for numbers."""
    return cell(value, style, align="right", sort=sort)


def _signature(value: RenderableType) -> object:
    """What decides whether a cell must be redrawn.

    ``Text.__eq__`` ignores the base style, so Text is compared field by field;
    other renderables by their own equality.
    """
    if isinstance(value, Text):
        return (value.plain, str(value.style), tuple(value.spans), value.justify, value.overflow)
    return value


class DiffTable(DataTable[RenderableType], inherit_bindings=False):
    """A ``DataTable`` fed by ``sync_rows``: minimal updates, stable cursor, a filter
    and a sort column of its own."""

    # DataTable's own keys are declared again with ids (remappable in [keys])
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", id="table-filter", show=False,  # footer: "?" first
                tooltip="Filter this table's rows as you type (Enter keeps, Esc clears)"),
        Binding("greater_than_sign", "sort(1)", "Sort: next column", id="table-sort-next",
                show=False, tooltip="Sort by the next column to the right (▲ in its header)"),
        Binding("less_than_sign", "sort(-1)", "Sort: previous column", id="table-sort-previous",
                show=False, tooltip="Sort by the column to the left; left of the first: "
                "the pane's own order"),
        Binding("O", "reverse_sort", "Reverse sort", id="table-sort-reverse", show=False,
                tooltip="Reverse the sort (▲ ascending, ▼ descending)"),
        Binding("enter", "select_cursor", "Select", show=False, id="table-select"),
        Binding("up", "cursor_up", "Cursor up", show=False, id="table-up"),
        Binding("down", "cursor_down", "Cursor down", show=False, id="table-down"),
        Binding("left", "cursor_left", "Cursor left", show=False, id="table-left"),
        Binding("right", "cursor_right", "Cursor right", show=False, id="table-right"),
        Binding("pageup", "page_up", "Page up", show=False, id="table-page-up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="table-page-down"),
        Binding("ctrl+home", "scroll_top", "Top", show=False, id="table-top"),
        Binding("ctrl+end", "scroll_bottom", "Bottom", show=False, id="table-bottom"),
        Binding("home", "scroll_home", "Home", show=False, id="table-home"),
        Binding("end", "scroll_end", "End", show=False, id="table-end"),
        Binding("ctrl+pageup", "page_left", "Page left", show=False, id="table-page-left"),
        Binding("ctrl+pagedown", "page_right", "Page right", show=False,
                id="table-page-right"),
    ]

    class ViewChanged(Message):
        """What the table shows changed: how many rows of how many, or the filter."""

        def __init__(self, table: DiffTable, count: Text | None, refilter: bool) -> None:
            super().__init__()
            self.table = table
            self.count = count  # "12 of 2,000 · /api", None when nothing is hidden
            self.refilter = refilter  # the filter changed: give every row again

        @property
        def control(self) -> DiffTable:
            return self.table

    DEFAULT_CSS = """
    DiffTable {
        height: 1fr;
        scrollbar-gutter: stable;
        scrollbar-size-vertical: 1;
        /* wide columns scroll with the arrow keys; a bar would cost a line */
        scrollbar-size-horizontal: 0;
    }
    """

    FULL_REFRESH_RATIO = 0.5
    """Repaint the whole table when more than this share of visible rows changed."""

    MIN_FILL_WIDTH = 8

    _quiet_growth = False
    """Rows were only appended (and repainted): the new virtual size needs no repaint."""
    _layout_only = False

    def __init__(
        self,
        columns: Sequence[ColumnSpec] = (),
        *,
        show_header: bool = True,
        fixed_columns: int = 0,
        filterable: bool = True,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(
            show_header=show_header,
            fixed_columns=fixed_columns,
            zebra_stripes=False,
            cursor_type="row",
            name=name,
            id=id,
            classes=classes,
            disabled=disabled,
        )
        # DataTable caches up to 10,000 rendered cells and 1,000 rows and lines: sized for
        # scrolling a big static table. Here rows change every refresh, so those caches
        # fill with stale renders (up to ~20 MB a table, RSS growing for many minutes).
        # What one screen shows is enough.
        self._cell_render_cache = LRUCache(CELL_CACHE)
        self._row_render_cache = LRUCache(ROW_CACHE)
        self._row_renderable_cache = LRUCache(ROW_CACHE)
        self._line_cache = LRUCache(ROW_CACHE)
        self._specs: tuple[ColumnSpec, ...] = tuple(columns)
        self._columns_added = False
        self._order: list[str] = []
        self._signatures: dict[str, tuple[object, ...]] = {}
        self._widths: dict[str, tuple[int, ...]] = {}
        self._raw: dict[str, Sequence[RenderableType]] = {}
        self.filterable = filterable  # False where the screen has a filter of its own
        self.filter_text = ""
        self.filter_input: FilterInput | None = None
        self.sort_column: int | None = None  # index into the columns; None: as given
        self.sort_descending = False
        self._given: dict[str, Sequence[RenderableType]] = {}  # every row, as given
        self._total: int | None = None
        self._limit: int | None = None
        self._texts: dict[str, tuple[Sequence[RenderableType], str]] = {}
        self._count: tuple[int, int, str] | None = None

    # --- public API -------------------------------------------------------------

    @property
    def specs(self) -> tuple[ColumnSpec, ...]:
        return self._specs

    def row_keys(self) -> list[str]:
        """The row keys in display order."""
        return list(self._order)

    def selected_key(self) -> str | None:
        """The key of the row under the cursor, or None when the table is empty."""
        if not self._order:
            return None
        index = self.cursor_row
        if 0 <= index < len(self._order):
            return self._order[index]
        return None

    def sync_rows(self, rows: Sequence[tuple[str, Sequence[RenderableType]]], *,
                  total: int | None = None, limit: int | None = None) -> None:
        """Make the table show ``rows`` (key, cells): those the filter matches, the
        first ``limit`` of them, in the given order or sorted by the sort column.

        A key that comes more than once is shown once, where it first comes, with
        its last cells. Plain strings are shown as they are (never parsed as markup). Cells
        missing at the end of a row are blank. Passing the very same tuple of
        cells as last time for a key is the cheapest way to say "unchanged".
        ``total``: how many rows there are when ``rows`` are only some of them (a cap).
        """
        self._given = dict(rows)
        self._total = total
        self._limit = limit
        self._apply_view()

    def set_filter(self, text: str) -> None:
        """Show only the rows whose text contains ``text`` (any case); "" shows all."""
        text = text.strip()
        if text == self.filter_text:
            return
        self.filter_text = text
        self._apply_view(refilter=True)

    def set_sort(self, column: int | None, descending: bool = False) -> None:
        """Sort by the column at ``column`` (None: the order the rows are given in)."""
        if column is not None and not 0 <= column < len(self._specs):
            column = None
        self.sort_column, self.sort_descending = column, descending and column is not None
        self._show_sort_marks()
        self._apply_view()

    def action_filter(self) -> None:
        if self.filter_input is not None:
            self.filter_input.focus()
            return
        parent = self.parent
        if not isinstance(parent, Widget):
            return
        self.filter_input = FilterInput(self)
        parent.mount(self.filter_input, before=self)
        self.filter_input.focus()

    def action_sort(self, step: int) -> None:
        """The next (1) or previous (-1) column; left of the first: as given."""
        current = -1 if self.sort_column is None else self.sort_column
        column = max(-1, min(len(self._specs) - 1, current + step))
        self.set_sort(None if column < 0 else column)

    def action_reverse_sort(self) -> None:
        """Reverse the sort; unsorted: sort by the first column."""
        if self.sort_column is None:
            self.set_sort(0)
        else:
            self.set_sort(self.sort_column, not self.sort_descending)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "filter":
            return self.filterable
        return True

    def _apply_view(self, *, refilter: bool = False) -> None:
        given = self._given
        keys = list(given)
        needle = self.filter_text.casefold()
        if needle:
            keys = [key for key in keys if needle in self._text_of(key, given[key])]
        if len(self._texts) > 2 * len(given) + 64:
            self._texts = {k: v for k, v in self._texts.items() if k in given}
        if self._limit is not None:
            keys = keys[: self._limit]
        column = self.sort_column
        if column is not None:
            def value_of(key: str) -> SortValue | None:
                cells = given[key]
                return sort_value(cells[column]) if column < len(cells) else None

            keys = sorted_keys(keys, value_of, self.sort_descending)
        self._sync([(key, given[key]) for key in keys])
        total = max(self._total or 0, len(given))
        count = (len(keys), total, self.filter_text)
        if count != self._count or refilter:
            self._count = count
            self.post_message(self.ViewChanged(self, count_text(*count), refilter))

    def _text_of(self, key: str, raw: Sequence[RenderableType]) -> str:
        cached = self._texts.get(key)
        if cached is not None and cached[0] is raw:
            return cached[1]
        text = row_text(raw)
        self._texts[key] = (raw, text)
        return text

    def _label(self, index: int) -> str:
        spec = self._specs[index]
        if index != self.sort_column:
            return spec.label
        return f"{spec.label} {'▼' if self.sort_descending else '▲'}"

    def _show_sort_marks(self) -> None:
        if not self._columns_added:
            return
        for index, (spec, column) in enumerate(zip(self._specs, self.columns.values(),
                                                   strict=True)):
            label = self._label(index)
            column.label = Text(label, justify=spec.align, no_wrap=True, end="")
            if spec.width is not None and not spec.fill:
                column.content_width = max(spec.width, column.label.cell_len)
        self._fit_columns()
        self._clear_caches()
        self._require_update_dimensions = True
        self.check_idle()
        self.refresh()

    def _sync(self, rows: Sequence[tuple[str, Sequence[RenderableType]]]) -> None:
        self._ensure_columns()
        ncols = len(self._specs)
        # A key given twice is one row, at its first place, with the later cells: a row
        # is updated, never added twice (DataTable itself refuses a duplicate key).
        by_key = dict(rows)
        keys = list(by_key)
        wanted = by_key.keys()
        maybe_changed: dict[str, Sequence[RenderableType]] = {}
        last_raw = self._raw
        for key, raw in by_key.items():
            if not (isinstance(raw, tuple) and last_raw.get(key) is raw):
                maybe_changed[key] = raw

        self._quiet_growth = False
        old_order = self._order
        removed = [key for key in old_order if key not in wanted]
        cursor_key = self.selected_key()
        cursor_index = self.cursor_row

        added: dict[str, tuple[RenderableType, ...]] = {}
        changed: list[str] = []
        data = self._data
        column_keys = list(self.columns)
        for key, raw in maybe_changed.items():
            cells = self._normalise(raw, ncols)
            last_raw[key] = raw
            if key not in self._signatures:
                added[key] = cells
                continue
            sigs = tuple(_signature(value) for value in cells)
            old = self._signatures[key]
            if sigs == old:
                continue
            row_data = data[RowKey(key)]
            for position, (sig, old_sig) in enumerate(zip(sigs, old, strict=True)):
                if sig != old_sig:
                    row_data[column_keys[position]] = cells[position]
            self._signatures[key] = sigs
            self._widths[key] = self._measure_row(cells)
            changed.append(key)

        if not (removed or added or changed) and keys == old_order:
            return

        with self.prevent(DataTable.RowHighlighted, DataTable.CellHighlighted):
            for key in removed:
                row_key = RowKey(key)
                del self.rows[row_key]
                del data[row_key]
                del self._signatures[key]
                del self._widths[key]
                del last_raw[key]
            survivors = [key for key in old_order if key in wanted]
            if removed:
                self._row_locations = TwoWayDict({RowKey(k): i for i, k in enumerate(survivors)})
            for key, cells in added.items():
                self.add_row(*cells, key=key)
                self._signatures[key] = tuple(_signature(value) for value in cells)
                self._widths[key] = self._measure_row(cells)
            if survivors + list(added) != keys:
                self._row_locations = TwoWayDict({RowKey(k): i for i, k in enumerate(keys)})
            self._order = keys
            self._update_count += 1
            widths_changed = self._fit_columns()
            target = self._cursor_target(cursor_key, cursor_index, old_order)
            if target != self.cursor_row:
                self.move_cursor(row=target)

        if widths_changed or len(keys) < len(old_order):
            self._require_update_dimensions = True
            self.check_idle()
            self.refresh()
        else:
            # Repaint the lines that show another row or another content than before.
            dirty = {i for i, key in enumerate(keys) if i >= len(old_order) or old_order[i] != key}
            if changed:
                index_of = {key: i for i, key in enumerate(keys)}
                dirty.update(index_of[key] for key in changed)
            self._quiet_growth = len(keys) > len(old_order)
            self._refresh_lines(dirty)

        new_key = self.selected_key()
        if new_key is not None and new_key != cursor_key:
            self.post_message(DataTable.RowHighlighted(self, self.cursor_row, RowKey(new_key)))

    # --- internals --------------------------------------------------------------

    def watch_virtual_size(self) -> None:
        if self._quiet_growth:
            self._quiet_growth = False
            self._layout_only = True

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> Self:
        # After appending rows DataTable grows its virtual size, which asks for a full
        # repaint; the new rows were repainted already, so only lay out (scrollbars).
        if self._layout_only and layout and not regions and not recompose:
            self._layout_only = False
            repaint = False
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _ensure_columns(self) -> None:
        if self._columns_added:
            return
        self._columns_added = True
        for spec in self._specs:
            label = Text(spec.label, justify=spec.align, no_wrap=True, end="")
            width = None if spec.fill or spec.width is None else max(spec.width,
                                                                     label.cell_len)
            self.add_column(label, key=spec.key, width=width)

    def on_mount(self) -> None:
        self._ensure_columns()

    def on_resize(self, event: Resize) -> None:
        self._quiet_growth = False
        if self._fit_columns():
            self._require_update_dimensions = True
            self.check_idle()
            self.refresh()

    def _normalise(
        self, raw: Sequence[RenderableType], ncols: int
    ) -> tuple[RenderableType, ...]:
        if len(raw) > ncols:
            raise ValueError(f"{len(raw)} cells for {ncols} columns")
        cells: list[RenderableType] = []
        for spec, value in zip(self._specs, raw, strict=False):
            cells.append(cell(value, align=spec.align) if isinstance(value, str) else value)
        cells.extend(Text("", end="") for _ in range(ncols - len(cells)))
        return tuple(cells)

    def _measure_row(self, cells: tuple[RenderableType, ...]) -> tuple[int, ...]:
        return tuple(self._measure(value) for value in cells)

    def _measure(self, value: RenderableType) -> int:
        if isinstance(value, Text):
            return value.cell_len
        return measure(self.app.console, value, 1)

    def _fit_columns(self) -> bool:
        """Set auto and fill column widths from the cells; True when any changed."""
        specs = self._specs
        if not specs:
            return False
        widest = [Text(self._label(i)).cell_len for i in range(len(specs))]
        for widths in self._widths.values():
            widest = [max(a, b) for a, b in zip(widest, widths, strict=True)]
        changed = False
        fill_column: tuple[ColumnSpec, Column, int] | None = None
        padding = 2 * self.cell_padding
        used = 0
        used_left = 0
        for spec, column, width in zip(specs, self.columns.values(), widest, strict=True):
            if spec.fill:
                fill_column = (spec, column, width)
                continue
            if spec.width is None and column.content_width != width:
                column.content_width = width
                changed = True
            used += column.get_render_width(self)
            if fill_column is None:
                used_left += column.get_render_width(self)
        if fill_column is not None:
            spec, column, width = fill_column
            available = self.scrollable_content_region.width
            if available <= 0:  # not laid out yet: size to the content for now
                if column.content_width != width:
                    column.content_width = width
                    changed = True
            else:
                least = max(self.MIN_FILL_WIDTH, Text(spec.label).cell_len)
                new_width = available - used - padding
                if used == used_left:
                    # the last column: exactly what is left, so the pane's edge never
                    # clips its words (a prose cell cuts itself between words)
                    new_width = max(1, new_width)
                elif new_width < max(least, spec.width or 0):
                    # Too narrow for all: fill the screen; the columns right of it scroll.
                    new_width = max(least, available - used_left - padding)
                if column.auto_width or column.width != new_width:
                    column.auto_width = False
                    column.width = new_width
                    changed = True
        return changed

    def _cursor_target(self, cursor_key: str | None, cursor_index: int,
                       old_order: Sequence[str]) -> int:
        """The same row; when it left, the nearest that stayed (below it first)."""
        if not self._order:
            return 0
        if cursor_key is None:
            return min(cursor_index, len(self._order) - 1)
        position = {key: i for i, key in enumerate(self._order)}
        if cursor_key in position:
            return position[cursor_key]
        for distance in range(1, len(old_order)):
            for index in (cursor_index + distance, cursor_index - distance):
                if 0 <= index < len(old_order) and old_order[index] in position:
                    return position[old_order[index]]
        return min(cursor_index, len(self._order) - 1)

    def _refresh_lines(self, indices: set[int]) -> None:
        """Repaint the visible rows at ``indices``, or the whole table if most changed."""
        if not indices:
            return
        top = round(self.scroll_y)
        header = self.header_height if self.show_header else 0
        visible = max(1, self.scrollable_content_region.height - header)
        on_screen = [i for i in indices if top <= i < top + visible]
        if not on_screen:
            return
        if len(on_screen) > 1 and len(on_screen) > visible * self.FULL_REFRESH_RATIO:
            self.refresh()
            return
        for index in sorted(on_screen):
            self.refresh_row(index)
