"""The base of the table panes: a few summary lines over one keyed ``DiffTable``.

What the pods, database, slow queries, endpoints and alerts panes share lives here
once: composing the lines and the table, the columns, keyed rows synced by diff (a
key given twice gets "#2", "#3"), the row under the cursor, the "-empty" class when
there are no rows, the table's "12 of 2,000" and filter in the border title, and
(from ``Pane``) a render error shown in the border, never raised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import ClassVar, Generic, TypeVar

from rich.console import RenderableType
from textual.app import ComposeResult

from widgets.pane import Clock, Pane, T, TextLine
from widgets.table import ColumnSpec, DiffTable
from widgets.tableview import with_count

R = TypeVar("R")  # what one row shows: a pod, a backend, a statement, an endpoint, an alert


class TablePane(Pane[T], Generic[T, R]):
    """A ``Pane`` of summary lines (``make_lines``) over one table of ``R`` rows."""

    COLUMNS: ClassVar[Sequence[ColumnSpec]] = ()
    """The table's columns, when they do not depend on the pane's options."""
    TABLE_ID: ClassVar[str] = ""
    FIXED_COLUMNS: ClassVar[int] = 0

    def __init__(
        self,
        columns: Sequence[ColumnSpec] | None = None,
        *,
        title: str | None = None,
        key: str | None = None,
        clock: Clock | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(title=title, key=key, clock=clock, name=name, id=id, classes=classes)
        self.shown: dict[str, R] = {}  # what each row shows, by its key
        self.lines: tuple[TextLine, ...] = tuple(self.make_lines())
        self.table = DiffTable(list(columns or self.COLUMNS),
                               fixed_columns=self.FIXED_COLUMNS, id=self.TABLE_ID or None)

    def make_lines(self) -> Sequence[TextLine]:
        """The lines above the table, top down (a subclass keeps its own handles)."""
        return ()

    def compose(self) -> ComposeResult:
        yield from self.lines
        yield self.table

    def selected(self) -> R | None:
        """What the row under the cursor shows (as last shown)."""
        key = self.table.selected_key()
        return self.shown.get(key) if key is not None else None

    def on_diff_table_view_changed(self, message: DiffTable.ViewChanged) -> None:
        """The count and filter go in the border title; a new filter looks at every
        row again (past a cap too)."""
        message.stop()
        self.border_title = with_count(self.title_text, message.count)
        if message.refilter and self.snapshot is not None:
            self._draw(self.snapshot)

    def show(self, items: Iterable[tuple[str, R]],
             row: Callable[[R], Sequence[RenderableType]], *, cap: int | None = None) -> None:
        """Show one row per item, in order: ``row`` gives its cells (called once per
        row shown, top down). Rows are keyed; only those that changed are repainted.
        ``cap``: at most this many rows (the first ones that match the filter)."""
        shown: dict[str, R] = {}
        for key, item in items:
            unique, n = key, 1
            while unique in shown:  # the same key again: another user, label, group…
                n += 1
                unique = f"{key}#{n}"
            shown[unique] = item
        total = len(shown)
        if cap is not None and not self.table.filter_text and total > cap:
            shown = dict(list(shown.items())[:cap])
        self.shown = shown
        self.set_class(not shown, "-empty")
        self.table.sync_rows([(key, row(item)) for key, item in shown.items()],
                             total=total, limit=cap)
