"""The base of every live pane: a border with the pane's name and its data's health.

A pane keeps the last good snapshot while its source is failing, and says so
in its border subtitle: nothing when the data is fresh, "⚠ stale · data 12s
old", "✖ failing: <error> · data 2m 05s old", "connecting…" or "not
configured". The age ticks once a second, only while the data is not fresh,
and then repaints only the bottom border line.

A snapshot the pane cannot draw (malformed data, a bug) never takes the war
room down: the pane keeps what it showed, its border says "✖ display error:
ValueError: …" until a snapshot draws again, and the traceback goes to the
debug log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, Self, TypeVar

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text
from textual.geometry import Region
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static

from luckytui.durations import format_duration
from luckytui.snapshots import SourceState, SourceStatus
from luckytui.text import visible
from widgets.guard import error_line, log_once
from widgets.safe import safe_text

T = TypeVar("T")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def cut_words(text: str, width: int) -> str:
    """``text`` on one line in ``width`` cells: whole, or cut after its last word that
    fits, with "…" to mark the cut (mid-word only when the first word alone is wider)."""
    flat = " ".join(text.split())
    if cell_len(flat) <= width:
        return flat
    if width <= 1:
        return "…"[:width]
    kept = ""
    for word in flat.split(" "):
        longer = f"{kept} {word}" if kept else word
        if cell_len(longer) + 1 > width:
            break
        kept = longer
    if not kept:  # one long word (a URL, an identifier): cut inside it
        long = Text(flat)
        long.truncate(width, overflow="ellipsis")
        return long.plain
    return kept.rstrip(" ,;:·-–") + "…"


@dataclass(frozen=True, slots=True)
class WordCut:
    """A one-line renderable (a table cell of prose) that ``cut_words`` to its width."""

    text: str
    style: str = ""

    def __str__(self) -> str:
        return self.text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Text(visible(cut_words(self.text, options.max_width)), style=self.style,
                   no_wrap=True, end="")

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(1, cell_len(" ".join(self.text.split())))


def text_signature(text: Text | None) -> object:
    """What decides whether a Text must be redrawn (``Text ==`` ignores the base style)."""
    if text is None:
        return None
    return (text.plain, str(text.style), tuple(text.spans))


def status_text(state: SourceState | None, now: datetime, has_data: bool) -> Text | None:
    """The status line for a pane, or None when the data is fresh."""
    if state is None or state.status is SourceStatus.CONNECTING:
        return None if has_data else Text("◌ connecting…", style="dim")
    if state.status is SourceStatus.OFF:
        return Text("○ not configured", style="dim")
    age = state.age_s(now)
    age_part = f" · data {format_duration(age)} old" if age is not None and has_data else ""
    if state.status is SourceStatus.STALE:
        return Text(f"⚠ stale{age_part}", style="bold yellow")
    if state.status is SourceStatus.FAILING:
        error = visible(cut_words(state.error or "no answer", 60))
        return Text(f"✖ failing: {error}{age_part}", style="bold red")
    return None


class TextLine(Static):
    """A Static that repaints only when its text really changes.

    It asks for a layout (which redraws every scrollbar on the screen) only
    when the new text needs another number of lines.
    """

    DEFAULT_CSS = """
    TextLine { height: auto; width: 1fr; padding: 0 1; }
    """

    def __init__(self, text: Text | None = None, *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(text or "", id=id, classes=classes)
        self._text = text or Text(end="")
        self._signature = text_signature(text)
        self._lines = -1

    @property
    def text(self) -> Text:
        """The text shown."""
        return self._text

    def set_text(self, text: Text) -> None:
        text = safe_text(text)  # summaries quote outside text: names, errors, labels
        signature = text_signature(text)
        if signature != self._signature:
            self._signature = signature
            self._text = text
            lines = self._count_lines(text)
            self.update(text, layout=lines < 0 or lines != self._lines)
            self._lines = lines

    def _count_lines(self, text: Text) -> int:
        width = self.content_region.width
        if not self.is_mounted or width <= 0:
            return -1
        return len(text.wrap(self.app.console, width))


class Pane(Widget, Generic[T]):
    """A bordered pane that renders one source's snapshots.

    Subclasses compose their children and implement ``render_snapshot``.
    ``update_source`` is the only entry point the app calls.
    """

    DEFAULT_CSS = """
    Pane {
        layout: vertical;
        height: 1fr;
        border: round $primary-muted;
        border-title-style: bold;
        border-title-color: $text;
        border-subtitle-align: left;
        &:focus-within { border: round $accent; }
        &.-stale { border: round $warning; }
        &.-failing { border: round $error; }
    }
    """

    TITLE = "Pane"
    """The pane's name, shown in the border title."""

    _bottom_border_only = False

    def __init__(
        self,
        *,
        title: str | None = None,
        key: str | None = None,
        clock: Clock | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        label = title or self.TITLE
        self.title_text = f"{key} {label}" if key else label
        self.border_title = Text(visible(self.title_text), end="")
        self._clock: Clock = clock or utc_now
        self._snapshot: T | None = None
        self._state: SourceState | None = None
        self._now: datetime | None = None
        self._pending = False
        self._status_signature: object = None
        self._status_class = ""
        self._ticker: Timer | None = None
        self._display_error: str | None = None  # why the last snapshot could not be drawn
        self._logged: dict[str, str] = {}

    # --- what the app calls -----------------------------------------------------

    @property
    def snapshot(self) -> T | None:
        """The last good snapshot (kept while the source fails)."""
        return self._snapshot

    @property
    def state(self) -> SourceState | None:
        return self._state

    @property
    def now(self) -> datetime:
        """The time given with the last update (for ages such as "firing for")."""
        return self._now if self._now is not None else self._clock()

    def update_source(self, snapshot: T | None, state: SourceState, now: datetime) -> None:
        """Show ``snapshot`` (None keeps the last good one) and the source's health."""
        self._state = state
        self._now = now
        if snapshot is not None and snapshot is not self._snapshot:
            self._snapshot = snapshot
            if self.is_mounted:
                self._draw(snapshot)
            else:
                self._pending = True
        self._show_status(now)

    @property
    def display_error(self) -> str | None:
        """Why the last snapshot could not be drawn ("display error: …"), or None."""
        return self._display_error

    def render_snapshot(self, snapshot: T) -> None:
        """Draw ``snapshot`` into the pane's children (diffing, not rebuilding)."""
        raise NotImplementedError

    def _draw(self, snapshot: T) -> None:
        """``render_snapshot``, contained: an error is shown in the border, not raised."""
        try:
            self.render_snapshot(snapshot)
        except Exception as exc:
            self._display_error = f"display error: {error_line(exc)}"
            log_once(self._logged, f"{self.TITLE} pane", self._display_error, exc)
        else:
            if self._display_error is not None:
                self._display_error = None
                self._logged.clear()

    # --- status line ------------------------------------------------------------

    def on_mount(self) -> None:
        self._ticker = self.set_interval(1.0, self._tick, pause=True)
        if self._pending and self._snapshot is not None:
            self._pending = False
            self._draw(self._snapshot)
        self._show_status(self._clock())

    def _tick(self) -> None:
        self._show_status(self._clock())

    def _show_status(self, now: datetime) -> None:
        state = self._state
        text = status_text(state, now, self._snapshot is not None)
        status = state.status if state is not None else SourceStatus.CONNECTING
        css_class = {SourceStatus.STALE: "-stale", SourceStatus.FAILING: "-failing"}.get(status, "")
        if self._display_error is not None:
            text = Text(f"✖ {self._display_error}", style="bold red")
            css_class = "-failing"
        if css_class != self._status_class:
            if self._status_class:
                self.remove_class(self._status_class)
            if css_class:
                self.add_class(css_class)
            self._status_class = css_class
        signature = text_signature(text)
        if signature != self._status_signature:
            self._status_signature = signature
            self._bottom_border_only = True
            try:
                self.border_subtitle = text
            finally:
                self._bottom_border_only = False
        ticking = (
            state is not None
            and state.status in (SourceStatus.STALE, SourceStatus.FAILING)
            and state.last_ok is not None
        )
        if self._ticker is not None:
            if ticking:
                self._ticker.resume()
            else:
                self._ticker.pause()

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> Self:
        # A new status text only changes the bottom border line: repaint just that.
        if self._bottom_border_only and not (regions or layout or recompose) and self.is_mounted:
            width, height = self.outer_size
            offset = self.content_offset
            regions = (Region(-offset.x, height - 1 - offset.y, width, 1),)
        super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)
        return self
