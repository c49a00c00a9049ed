"""The timeline, full screen: an incident's records (or the signals when none is active).

Newest at the bottom; the cursor follows new records unless the operator moved it up.
Rows are keyed by record id and synced through ``DiffTable``: new records are appended
and repainted alone, never a rebuilt table. ``f`` cycles the kinds shown, ``/`` filters
by text, ``:`` adds a note, ``P`` asks for the post-mortem; both filters survive every
update.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input

from luckytui.events import ACTIONS, COMMS, INCIDENT, NOTES, SIGNALS, group_of, style_of
from widgets.guard import error_line, log_once
from widgets.pane import TextLine, WordCut
from widgets.table import ColumnSpec, DiffTable, cell
from widgets.timeline import TimelineItem

NO_INCIDENT = "No active incident: signals"

# (name, groups of the event catalogue): the incident's own filter takes its comms and
# notes too; "All" takes every kind, catalogued or not
KIND_FILTERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("All", ()),
    ("Incident", (INCIDENT, COMMS, NOTES)),
    ("Signals", (SIGNALS,)),
    ("Actions", (ACTIONS,)),
    ("Comms", (COMMS,)),
    ("Notes", (NOTES,)),
)


def kind_matches(kind: str, groups: Sequence[str]) -> bool:
    """Whether ``kind`` belongs to one of ``groups`` (all kinds when there are none)."""
    return not groups or group_of(kind) in groups


def text_matches(item: TimelineItem, needle: str) -> bool:
    """Case-insensitive: ``needle`` in the item's text, kind or actor."""
    if not needle:
        return True
    folded = needle.casefold()
    return any(folded in field.casefold() for field in (item.text, item.kind, item.actor))


Row = tuple[RenderableType, ...]


class TimelineScreen(Screen[None]):
    DEFAULT_CSS = """
    TimelineScreen { layout: vertical; }
    TimelineScreen > #timeline-title { background: $panel; text-style: bold; }
    TimelineScreen > #timeline-filter { color: $text-muted; }
    TimelineScreen > Input { display: none; margin: 0 1; }
    TimelineScreen > Input.shown { display: block; }
    TimelineScreen > #timeline-table { height: 1fr; }
    TimelineScreen > #timeline-detail { max-height: 4; background: $panel; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "cycle_filter", "Kinds", id="timeline-kinds",
                tooltip="Show all, incident, signals, actions, comms or notes records"),
        Binding("slash", "search", "Search", id="timeline-search",
                tooltip="Filter by text (Enter keeps the filter, Esc clears it)"),
        Binding("colon", "note", "Note", id="timeline-note",
                tooltip="Add a note to the timeline (Enter records it, Esc cancels)"),
        Binding("P", "export", "Post-mortem", id="timeline-export",
                tooltip="Write the post-mortem draft from this timeline"),
        Binding("G", "follow", "Newest", id="timeline-follow", show=False,
                tooltip="Jump to the newest record and follow new ones (also ctrl+end)"),
        Binding("question_mark", "app.help", "Keys", id="timeline-keys",
                tooltip="Show every key"),
        Binding("escape", "back", "Back", id="timeline-back",
                tooltip="Cancel the note or clear the text filter; else close the timeline"),
        Binding("t", "close", "Close", id="timeline-close", tooltip="Back to the dashboard"),
    ]

    def __init__(
        self,
        items: Sequence[TimelineItem] = (),
        title: str = "",
        *,
        utc: bool = False,
        on_note: Callable[[str], None] | None = None,
        on_export: Callable[[], None] | None = None,
        live: bool = True,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """``on_note`` receives a note's text (stripped, never empty); ``on_export`` is
        called for ``P``. Without them those keys are not offered. ``live``: the war
        room's own timeline, given new records as they come (else a past incident's,
        shown as read)."""
        super().__init__(name=name, id=id, classes=classes)
        self.live = live
        self.utc = utc
        self.on_note = on_note
        self.on_export = on_export
        self.kind_filter = 0  # index into KIND_FILTERS
        self.text_filter = ""
        self._title = ""
        self._items: tuple[TimelineItem, ...] = ()
        self._by_key: dict[str, TimelineItem] = {}
        self._cells: dict[int, tuple[TimelineItem, Row]] = {}
        self._shown = 0
        self.display_error: str | None = None  # why the records could not be drawn
        self._logged: dict[str, str] = {}
        self.header = TextLine(id="timeline-title")
        self.filter_line = TextLine(id="timeline-filter")
        self.search = Input(placeholder="/ text to look for (Enter keeps it, Esc clears it)",
                            compact=True, id="timeline-search-input")
        self.note = Input(placeholder=": note for the timeline (Enter records it, Esc cancels)",
                          compact=True, id="timeline-note-input")
        self.table = DiffTable(
            [
                ColumnSpec("time", "TIME", 8),
                ColumnSpec("kind", "KIND"),
                ColumnSpec("actor", "WHO"),
                ColumnSpec("text", "WHAT", 20, fill=True),
            ],
            id="timeline-table",
            filterable=False,  # "/" is this screen's search, over the whole text
        )
        self.detail = TextLine(id="timeline-detail")
        self.set_items(items, title)

    # --- public API -------------------------------------------------------------

    @property
    def kind_filter_name(self) -> str:
        return KIND_FILTERS[self.kind_filter][0]

    @property
    def shown_ids(self) -> list[int]:
        """The ids of the records shown, top to bottom."""
        return [int(key) for key in self.table.row_keys()]

    def set_items(self, items: Sequence[TimelineItem], title: str) -> None:
        """Show ``items`` (any order; shown oldest first) under ``title`` ("" when no
        incident is active). Called on every log follow: new records are appended,
        unchanged ones are not touched, and the filters stay as they are. A record id
        given twice is shown once, as given last."""
        unique = {item.id: item for item in items}.values()
        self._items = tuple(sorted(unique, key=lambda r: (r.ts, r.id)))
        self._title = title
        if self.is_mounted:
            self._apply()

    def set_kind_filter(self, index: int) -> None:
        self.kind_filter = index % len(KIND_FILTERS)
        self._apply()

    def set_text_filter(self, text: str) -> None:
        self.text_filter = text.strip()
        self._apply()

    # --- layout and rows -------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self.header
        yield self.filter_line
        yield self.search
        yield self.note
        yield self.table
        yield self.detail
        yield Footer()

    def on_mount(self) -> None:
        self._apply()
        self.table.focus()

    def format_time(self, ts: datetime) -> str:
        return ts.astimezone(UTC if self.utc else None).strftime("%H:%M:%S")

    def _row(self, item: TimelineItem) -> Row:
        return (
            cell(self.format_time(item.ts), "dim"),
            cell(item.kind, style_of(item.kind)),
            cell(item.actor, "dim"),
            WordCut(item.text, style_of(item.kind)),  # prose: cut between words
        )

    def _apply(self) -> None:
        """Draw the rows; an error is shown below the table and logged, never raised."""
        try:
            self._sync()
        except Exception as exc:
            self.display_error = f"display error: {error_line(exc)}"
            log_once(self._logged, "timeline", self.display_error, exc)
            self.detail.set_text(Text(f"✖ {self.display_error}", style="bold red", end=""))
        else:
            self.display_error = None
            self._logged.clear()

    def _sync(self) -> None:
        patterns = KIND_FILTERS[self.kind_filter][1]
        needle = self.text_filter
        table = self.table
        following = table.row_count == 0 or table.cursor_row >= table.row_count - 1
        cache = self._cells
        fresh: dict[int, tuple[TimelineItem, Row]] = {}
        rows: list[tuple[str, Row]] = []
        for item in self._items:
            cached = cache.get(item.id)
            cells = cached[1] if cached is not None and cached[0] == item else self._row(item)
            fresh[item.id] = (item, cells)
            if kind_matches(item.kind, patterns) and text_matches(item, needle):
                rows.append((str(item.id), cells))
        self._cells = fresh
        self._by_key = {str(item.id): item for item in self._items}
        self._shown = len(rows)
        table.sync_rows(rows)
        if following and table.row_count and table.cursor_row != table.row_count - 1:
            table.move_cursor(row=table.row_count - 1)
        self._show_header()
        self._show_detail()

    def _show_header(self) -> None:
        zone = "UTC" if self.utc else "local time"
        self.header.set_text(Text.assemble(
            ("Timeline · ", "bold"), (self._title or NO_INCIDENT, "bold"),
            (f"  (times in {zone})", "dim"), end=""))
        line = Text("Kinds (f): ", end="")
        for i, (label, _) in enumerate(KIND_FILTERS):
            if i:
                line.append(" · ", "dim")
            line.append(label, "bold reverse" if i == self.kind_filter else "")
        if self.text_filter:
            line.append("   text (/): ")
            line.append(f"“{self.text_filter}”", "bold")
        line.append(f"   {self._shown} of {len(self._items)} shown", "dim")
        self.filter_line.set_text(line)

    def _show_detail(self) -> None:
        key = self.table.selected_key()
        item = self._by_key.get(key) if key is not None else None
        if item is None:
            text = ("Nothing matches the filters." if self._items
                    else "No records yet.")
            self.detail.set_text(Text(text, style="dim", end=""))
            return
        when = item.ts.astimezone(UTC if self.utc else None).strftime("%Y-%m-%d %H:%M:%S %Z")
        self.detail.set_text(Text.assemble(
            (f"{when}  {item.kind}  {item.actor}\n", "dim"), item.text, end=""))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is self.table:
            self._show_detail()

    # --- keys ---------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "note":
            return self.on_note is not None
        if action == "export":
            return self.on_export is not None
        return True

    def action_cycle_filter(self) -> None:
        self.set_kind_filter(self.kind_filter + 1)

    def action_search(self) -> None:
        self._hide(self.note)
        self.search.value = self.text_filter
        self.search.add_class("shown")
        self.search.focus()

    def action_note(self) -> None:
        if self.on_note is None:
            return
        self._hide(self.search)
        self.note.value = ""
        self.note.add_class("shown")
        self.note.focus()

    def action_follow(self) -> None:
        if self.table.row_count:
            self.table.move_cursor(row=self.table.row_count - 1)

    def action_export(self) -> None:
        if self.on_export is not None:
            self.on_export()

    def action_back(self) -> None:
        """Esc: cancel the note, else clear the text filter, else close."""
        if self.note.has_class("shown"):
            self.note.value = ""
            self._hide(self.note)
        elif self.search.has_class("shown") or self.text_filter:
            self._hide(self.search)
            self.search.value = ""
            self.set_text_filter("")
        else:
            self.action_close()

    def action_close(self) -> None:
        self.dismiss(None)

    def _hide(self, field: Input) -> None:
        if field.has_class("shown"):
            field.remove_class("shown")
            self.table.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input is self.search and self.search.has_class("shown"):
            event.stop()
            self.set_text_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input is self.search:
            self.set_text_filter(event.value)
            self._hide(self.search)
        elif event.input is self.note:
            text = event.value.strip()
            self.note.value = ""
            self._hide(self.note)
            if text and self.on_note is not None:
                self.on_note(text)
