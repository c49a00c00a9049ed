"""A pod's log, as `kubectl logs` shows it, without leaving the war room.

The last lines (500 by default), the previous container's (`p`, what a crash loop
said as it died), new lines as they are written (`f`: the view follows the end
until the reader scrolls up, and follows again once back at the end), and a search
(`/`, then `n` / `N`) that highlights every match. Reading changes nothing in the
cluster, so it is offered with --read-only too.

Each line arrives cleaned by the adapter (`luckytui.systems.podlog`): secrets
hidden, control characters shown, long lines cut.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Input, RichLog, Static

from luckytui.systems.kubernetes import KubeOpsError, PodReads
from luckytui.systems.podlog import LogFollow, LogLines
from widgets.safe import safe_text

TAIL = 500
KEEP_LINES = 10_000  # what a follow keeps, the oldest dropped past it
MATCH = "black on yellow"
CURRENT = "black on bright_cyan"


class PodLogsScreen(Screen[None]):
    DEFAULT_CSS = """
    PodLogsScreen #logs-status { height: 1; background: $panel; padding: 0 1; }
    PodLogsScreen #logs-note { height: auto; color: $warning; padding: 0 1; display: none; }
    PodLogsScreen #logs-note.shown { display: block; }
    PodLogsScreen RichLog { height: 1fr; }
    PodLogsScreen #logs-search { display: none; }
    PodLogsScreen #logs-search.shown { display: block; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back", id="logs-close", tooltip="Back to the war room"),
        Binding("f", "follow", "Follow", id="logs-follow",
                tooltip="Stream new lines; scrolling up stops following, End resumes"),
        Binding("p", "previous", "Previous container", id="logs-previous",
                tooltip="The previous container's log (what a crashed one said last)"),
        Binding("slash", "search", "Search", id="logs-search-key",
                tooltip="Find text in the log; every match highlighted"),
        Binding("n", "next_match(1)", "Next match", id="logs-next"),
        Binding("N", "next_match(-1)", "Previous match", id="logs-prev"),
    ]

    def __init__(self, reads: PodReads, pod: str, *, tail: int = TAIL) -> None:
        super().__init__()
        self.reads, self.pod, self.tail = reads, pod, tail
        self.previous = False
        self.lines: list[str] = []  # what is shown, oldest first
        self.pattern = ""
        self.matches: list[int] = []  # line numbers of the lines that match
        self.current = -1  # index in matches
        self._match_set: set[int] = set()
        self.stream: LogFollow | None = None
        self.loaded = False  # the first read is in (or failed)

    def compose(self) -> ComposeResult:
        yield Static(id="logs-status")
        yield Static(id="logs-note")
        yield RichLog(id="logs", wrap=False, markup=False, highlight=False, auto_scroll=False,
                      max_lines=KEEP_LINES)
        yield Input(placeholder="search the log (Enter finds, Esc cancels)", id="logs-search")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @property
    def log_view(self) -> RichLog:
        return self.query_one("#logs", RichLog)

    # --- reading ------------------------------------------------------------------

    def load(self) -> None:
        self.stop_following()
        self._status("reading…")
        self._read(self.previous)

    @work(group="pod-logs", exclusive=True, exit_on_error=False, description="Reading a log")
    async def _read(self, previous: bool) -> None:
        try:
            got = await asyncio.to_thread(self.reads.pod_logs, self.pod, self.tail, previous)
        except KubeOpsError as exc:
            self._show(LogLines((), str(exc), previous), failed=True)
            return
        self._show(got)

    def _show(self, got: LogLines, *, failed: bool = False) -> None:
        self.loaded = True
        self.lines = list(got.lines)
        self._set_note(got.note)
        if failed:
            self.lines = []
        elif not self.lines:
            self._set_note("the log is empty")
        self._render_all()
        self.log_view.scroll_end(animate=False)
        self._status()

    def _set_note(self, text: str) -> None:
        note = self.query_one("#logs-note", Static)
        note.update(safe_text(text))
        note.set_class(bool(text), "shown")

    # --- following ------------------------------------------------------------------

    def action_follow(self) -> None:
        if self.stream is not None:
            self.stop_following()
            self._status()
            return
        if self.previous:  # a container that has exited writes nothing more
            self.previous = False
            self.load()
        self.stream = self.reads.follow_logs(self.pod)
        self._follow(self.stream)
        self._status()

    @work(thread=True, group="pod-logs-follow", exit_on_error=False,
          description="Following a log")
    def _follow(self, stream: LogFollow) -> None:
        try:
            for batch in stream:
                self.app.call_from_thread(self._append, batch)
        except KubeOpsError as exc:
            stream.note = str(exc)
        if self.stream is stream:
            self.app.call_from_thread(self._stream_ended, stream)

    def _append(self, batch: list[str]) -> None:
        view = self.log_view
        at_end = view.is_vertical_scroll_end or view.max_scroll_y == 0
        start = len(self.lines)
        self.lines += batch
        for i, line in enumerate(batch, start):
            if self.pattern and self.pattern in line.lower():
                self.matches.append(i)
        view.write(Text("\n").join(self._line(i) for i in range(start, len(self.lines))),
                   scroll_end=at_end, animate=False)
        if len(self.lines) > KEEP_LINES:  # RichLog keeps as many
            cut = len(self.lines) - KEEP_LINES
            self.lines = self.lines[cut:]
            self.matches = [i - cut for i in self.matches if i >= cut]
        self._status()

    def _stream_ended(self, stream: LogFollow) -> None:
        self.stream = None
        self._set_note(f"follow ended: {stream.note}" if stream.note else "follow ended")
        self._status()

    def stop_following(self) -> None:
        stream, self.stream = self.stream, None
        if stream is not None:
            stream.close()

    @property
    def paused(self) -> bool:
        """Following, but scrolled up: new lines do not move the view."""
        view = self.log_view
        return self.stream is not None and not (view.is_vertical_scroll_end
                                                or view.max_scroll_y == 0)

    def on_unmount(self) -> None:
        self.stop_following()

    # --- the previous container -------------------------------------------------------

    def action_previous(self) -> None:
        self.previous = not self.previous
        self.load()

    # --- search ---------------------------------------------------------------------

    def action_search(self) -> None:
        search = self.query_one("#logs-search", Input)
        search.add_class("shown")
        search.value = self.pattern
        search.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        event.input.remove_class("shown")
        self.find(event.value)
        self.log_view.focus()

    def find(self, pattern: str) -> None:
        """Highlight every line holding `pattern` (case-insensitive); go to the first."""
        self.pattern = pattern.lower()
        self.matches = [i for i, line in enumerate(self.lines)
                        if self.pattern and self.pattern in line.lower()]
        self.current = 0 if self.matches else -1
        self._render_all()
        self._go_to_match()

    def action_next_match(self, step: int) -> None:
        if not self.matches:
            self.notify("no search (press /)" if not self.pattern else
                        f"nothing matches {self.pattern!r}", timeout=3)
            return
        old = self.current
        self.current = (self.current + step) % len(self.matches)
        if old != self.current:  # the current match drawn in its own colour
            self._render_all()
        self._go_to_match()

    def _go_to_match(self) -> None:
        if self.current >= 0:
            line = self.matches[self.current]
            view = self.log_view
            view.scroll_to(y=max(0, line - view.size.height // 2), animate=False)
        self._status()

    # --- drawing --------------------------------------------------------------------

    def _line(self, i: int) -> Text:
        text = Text(self.lines[i], no_wrap=True, end="")
        if self.pattern and i in self._match_set:
            current = self.current >= 0 and self.matches[self.current] == i
            text.highlight_words([self.pattern], CURRENT if current else MATCH,
                                 case_sensitive=False)
        return text

    def _render_all(self) -> None:
        self._match_set = set(self.matches)
        view = self.log_view
        y = view.scroll_y
        view.clear()
        if self.lines:
            view.write(Text("\n").join(self._line(i) for i in range(len(self.lines))),
                       scroll_end=False, animate=False)
        view.scroll_to(y=y, animate=False)

    def _status(self, doing: str = "") -> None:
        which = "previous container" if self.previous else f"last {self.tail} lines"
        parts = [f"logs of pod {self.pod} · {which} · {len(self.lines):,} lines"]
        if self.stream is not None:
            parts.append("following: paused, scrolled up (End resumes)" if self.paused
                         else "following")
        if self.pattern:
            parts.append(f"match {self.current + 1} of {len(self.matches)} for "
                         f"{self.pattern!r}" if self.matches
                         else f"no line matches {self.pattern!r}")
        if doing:
            parts.append(doing)
        self.query_one("#logs-status", Static).update(safe_text(" · ".join(parts)))

    def action_close(self) -> None:
        search = self.query_one("#logs-search", Input)
        if search.has_class("shown"):
            search.remove_class("shown")
            self.log_view.focus()
            return
        self.stop_following()
        self.dismiss()
