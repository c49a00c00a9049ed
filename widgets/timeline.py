"""The incident timeline: newest at the bottom, new records appended in place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.widget import Widget

from luckytui.events import style_of
from widgets.guard import error_line, log_once
from widgets.pane import TextLine, WordCut, text_signature
from widgets.table import ColumnSpec, DiffTable, cell
from widgets.tableview import with_count

DEFAULT_EMPTY_TEXT = "No active incident. Press n to declare one."



@dataclass(frozen=True, slots=True)
class TimelineItem:
    """One line of the timeline (the app maps its log records onto these)."""

    id: int
    ts: datetime
    kind: str
    actor: str
    text: str


class TimelinePane(Widget):
    """The active incident's records in time order (not a RichLog: no full repaints)."""

    DEFAULT_CSS = """
    TimelinePane {
        layout: vertical;
        height: 1fr;
        border: round $primary-muted;
        border-title-style: bold;
        border-title-color: $text;
        border-subtitle-align: left;
        &:focus-within { border: round $accent; }
    }
    TimelinePane > #timeline-empty { display: none; color: $text-muted; }
    TimelinePane.-empty > #timeline-empty { display: block; }
    TimelinePane.-empty > DiffTable { display: none; }
    """

    def __init__(
        self,
        *,
        utc: bool = False,
        empty_text: str = DEFAULT_EMPTY_TEXT,
        title: str = "Timeline",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.add_class("-empty")
        self.title_text = title
        self.border_title = with_count(title, None)
        self.utc = utc
        self.empty_text = empty_text
        self._records: tuple[TimelineItem, ...] = ()
        self._incident: str | None = None
        self._subtitle: Text | None = None
        self._cells: dict[int, tuple[TimelineItem, tuple[RenderableType, ...]]] = {}
        self.display_error: str | None = None  # why the records could not be drawn
        self._logged: dict[str, str] = {}
        self.empty = TextLine(Text(empty_text, end=""), id="timeline-empty")
        self.table = DiffTable(
            [
                ColumnSpec("time", "TIME", 8),
                ColumnSpec("text", "WHAT", 20, fill=True),
                ColumnSpec("actor", "WHO", 14),
            ],
            id="timeline-table",
        )

    def compose(self) -> ComposeResult:
        yield self.empty
        yield self.table

    def on_mount(self) -> None:
        self._apply()

    def on_diff_table_view_changed(self, message: DiffTable.ViewChanged) -> None:
        message.stop()
        self.border_title = with_count(self.title_text, message.count)

    def set_records(self, records: Sequence[TimelineItem], incident: str | None) -> None:
        """Show ``records`` (any order; shown oldest first) for ``incident``. A record
        id given twice is shown once, as given last."""
        unique = {r.id: r for r in records}.values()
        self._records = tuple(sorted(unique, key=lambda r: (r.ts, r.id)))
        self._incident = incident
        if self.is_mounted:
            self._apply()
        else:
            self._show_subtitle()

    def _show_subtitle(self) -> None:
        """The incident's number, and a display error when the records could not be drawn."""
        text = Text(self._incident or "", style="bold", end="")
        if self.display_error:
            text.append(" · " if self._incident else "")
            text.append(f"✖ {self.display_error}", style="bold red")
        subtitle = text if text.plain else None
        if text_signature(subtitle) != text_signature(self._subtitle):
            self._subtitle = subtitle
            self.border_subtitle = subtitle

    def format_time(self, ts: datetime) -> str:
        return ts.astimezone(UTC if self.utc else None).strftime("%H:%M:%S")

    def _apply(self) -> None:
        """Draw the records; an error is shown in the border and logged, never raised."""
        try:
            self._sync()
        except Exception as exc:
            self.display_error = f"display error: {error_line(exc)}"
            log_once(self._logged, "timeline pane", self.display_error, exc)
        else:
            self.display_error = None
            self._logged.clear()
        self._show_subtitle()

    def _sync(self) -> None:
        records = self._records
        self.set_class(not records, "-empty")
        if not records:
            text = (self.empty_text if self._incident is None
                    else f"No events yet for {self._incident}.")
            self.empty.set_text(Text(text, end=""))
        table = self.table
        following = table.row_count == 0 or table.cursor_row >= table.row_count - 1
        cache = self._cells
        rows: list[tuple[str, tuple[RenderableType, ...]]] = []
        fresh: dict[int, tuple[TimelineItem, tuple[RenderableType, ...]]] = {}
        for record in records:
            cached = cache.get(record.id)
            cells = cached[1] if cached is not None and cached[0] == record else self._row(record)
            fresh[record.id] = (record, cells)
            rows.append((str(record.id), cells))
        self._cells = fresh
        table.sync_rows(rows)
        if following and table.row_count:
            table.move_cursor(row=table.row_count - 1)

    def _row(self, record: TimelineItem) -> tuple[RenderableType, ...]:
        return (
            cell(self.format_time(record.ts), "dim"),
            # the kind shows as the line's colour; the text leads with what happened
            WordCut(record.text, style_of(record.kind)),  # prose: cut between words
            cell(record.actor, "dim"),
        )
