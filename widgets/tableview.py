"""What every table shares besides its rows: a text filter, a sort column, and the
"12 of 2,000" that says rows are hidden.

``DiffTable`` applies them (widgets/table.py); this module holds the parts that
do not need the table: which text a row is filtered on, the value a cell sorts
by, the order of the rows, the count line and the filter's input field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import Input

from luckytui.text import visible

if TYPE_CHECKING:
    from widgets.table import DiffTable

SortValue = float | str


class Valued(Text):
    """A cell that sorts by a value of its own (CPU in millicores, a duration in
    seconds), not by the text it shows ("1,234", "5m 12s", "!! 95 %")."""

    __slots__ = ("sort_value",)

    sort_value: SortValue | None


def cell_text(value: RenderableType) -> str:
    """What a cell shows, as plain text (a prose cell's whole text)."""
    if isinstance(value, Text):
        return value.plain
    return str(value)


def row_text(cells: Iterable[RenderableType]) -> str:
    """What the filter looks in: every cell's text, case-folded, cells kept apart."""
    return "\t".join(cell_text(value) for value in cells).casefold()


_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?|[-+]?\.\d+")


def sort_value(value: RenderableType) -> SortValue | None:
    """What a cell sorts by: its own value, else the number it starts with (marks such
    as ⚠ skipped), else its text case-folded; None for an empty cell (blank or a dash)."""
    own = getattr(value, "sort_value", None)
    if isinstance(own, int | float | str) and not isinstance(own, bool):
        return float(own) if not isinstance(own, str) else own.casefold()
    text = cell_text(value).strip()
    if not text or text in ("–", "-", "?"):
        return None
    head = text.lstrip("!⚠✖✓●◌⊘○ ")
    match = _NUMBER.match(head)
    if match is not None and match.end() == len(head.split(" ", 1)[0]):
        return float(match.group().replace(",", ""))
    return text.casefold()


def sorted_keys(keys: Sequence[str], value_of: Callable[[str], SortValue | None],
                descending: bool) -> list[str]:
    """``keys`` by their values: numbers before words, empty cells last whichever the
    direction; equal values keep their given order."""
    numbers: list[tuple[float, str]] = []
    words: list[tuple[str, str]] = []
    empty: list[str] = []
    for key in keys:
        value = value_of(key)
        if value is None:
            empty.append(key)
        elif isinstance(value, str):
            words.append((value, key))
        else:
            numbers.append((value, key))
    numbers.sort(key=lambda pair: pair[0], reverse=descending)
    words.sort(key=lambda pair: pair[0], reverse=descending)
    return [k for _, k in numbers] + [k for _, k in words] + empty


def count_text(shown: int, total: int, needle: str) -> Text | None:
    """"12 of 2,000" (and the filter, quoted) when rows are hidden, else None."""
    if shown >= total and not needle:
        return None
    text = Text(f"{shown:,} of {total:,}", end="")
    if needle:
        text.append(" · /")
        text.append(visible(needle), style="bold")
    return text


def with_count(title: str, count: Text | None) -> Text:
    """A pane's title with its count, made safe (the filter is outside text)."""
    line = Text(visible(title), end="")
    if count is not None:
        line.append(" · ")
        line.append_text(count)
    return line


class FilterInput(Input):
    """The "/" field over a table: the rows filter as one types; Enter keeps the
    filter and returns to the table, Esc clears it and closes."""

    DEFAULT_CSS = """
    FilterInput { margin: 0 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear_filter", "Clear filter", id="table-filter-clear",
                tooltip="Clear the filter and close this field"),
    ]

    def __init__(self, table: DiffTable) -> None:
        super().__init__(value=table.filter_text, placeholder="/ filter rows (Enter keeps, "
                         "Esc clears)", compact=True, classes="table-filter")
        self.table = table

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.table.set_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.set_filter(event.value)
        self.close()

    def action_clear_filter(self) -> None:
        self.table.set_filter("")
        self.close()

    def close(self) -> None:
        self.table.focus()
        self.table.filter_input = None
        self.remove()
