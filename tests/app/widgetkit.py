"""What the widget tests share: a bare host app, readers of cells and screen text,
and spies on what a widget repaints."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widget import Widget

from luckytui.snapshots import (
    SourceState,
    SourceStatus,
)
from widgets import (
    ColumnSpec,
    DiffTable,
)

NOW = datetime(2026, 11, 26, 3, 12, 0, tzinfo=UTC)
SIZE = (160, 48)


class Host(App[None]):
    """Mounts the widgets under test and nothing else."""

    def __init__(self, *widgets: Widget) -> None:
        super().__init__()
        self._widgets = widgets

    def compose(self) -> ComposeResult:
        yield from self._widgets


def screen_text(app: App[Any]) -> str:
    """The whole screen as plain text, line by line."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def plain(value: object) -> str:
    return value.plain if isinstance(value, Text) else str(value)


def style(value: object) -> str:
    assert isinstance(value, Text)
    return str(value.style)


def row_text(table: DiffTable, key: str) -> list[str]:
    return [plain(value) for value in table.get_row(key)]


def column(table: DiffTable, key: str) -> list[str]:
    return [plain(value) for value in table.get_column(key)]


def ok(name: str) -> SourceState:
    return SourceState(name, SourceStatus.OK, NOW)


@contextmanager
def record_refreshes(widget: Widget) -> Iterator[list[tuple[tuple[Region, ...], bool, bool]]]:
    """Record every refresh(...) of ``widget``: (regions, repaint, layout)."""
    calls: list[tuple[tuple[Region, ...], bool, bool]] = []
    original = widget.refresh

    def spy(*regions: Region, repaint: bool = True, layout: bool = False,
            recompose: bool = False) -> Any:
        calls.append((regions, repaint, layout))
        return original(*regions, repaint=repaint, layout=layout, recompose=recompose)

    widget.refresh = spy  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        del widget.refresh


def full_repaints(calls: Sequence[tuple[tuple[Region, ...], bool, bool]]) -> int:
    return sum(1 for regions, repaint, _ in calls if repaint and not regions)


@contextmanager
def record_repaints(widget: Widget) -> Iterator[list[tuple[Region, ...]]]:
    """Record what ``widget`` really marks for repainting: () is the whole widget."""
    calls: list[tuple[Region, ...]] = []
    original = widget._set_dirty

    def spy(*regions: Region) -> None:
        calls.append(regions)
        original(*regions)

    widget._set_dirty = spy  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        del widget._set_dirty


COLUMNS = [ColumnSpec("name", "NAME"), ColumnSpec("value", "VALUE", 6, "right")]


def simple_rows(*names: str, values: dict[str, str] | None = None) -> list[tuple[str, list[str]]]:
    values = values or {}
    return [(name, [name, values.get(name, "1")]) for name in names]


