"""The replay's time scrubber: the incident's recorded span as a bar, the replay time
on it, the timeline's events as marks, and whether it plays and how fast."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from rich.text import Text
from textual.widget import Widget

from luckytui.text import visible

EVENT_MARK = "◆"
NOW_MARK = "●"


class Scrubber(Widget):
    DEFAULT_CSS = """
    Scrubber { height: 2; background: $panel; padding: 0 1; }
    """

    def __init__(self, *, utc: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.utc = utc
        self.start: datetime | None = None
        self.end: datetime | None = None
        self.now: datetime | None = None
        self.events: tuple[datetime, ...] = ()
        self.frame = (0, 0)  # (shown, of)
        self.playing = False
        self.speed = 1
        self.event_text = ""  # the event last jumped to

    def show(self, *, start: datetime, end: datetime, now: datetime,
             events: Sequence[datetime], frame: tuple[int, int], playing: bool, speed: int,
             event_text: str = "") -> None:
        self.start, self.end, self.now = start, end, now
        self.events = tuple(events)
        self.frame, self.playing, self.speed = frame, playing, speed
        self.event_text = event_text
        self.refresh()

    def _hms(self, when: datetime) -> str:
        return when.astimezone(UTC if self.utc else None).strftime("%H:%M:%S")

    def _position(self, when: datetime, width: int) -> int:
        assert self.start is not None and self.end is not None
        span = (self.end - self.start).total_seconds()
        if span <= 0 or width <= 1:
            return 0
        share = (when - self.start).total_seconds() / span
        return min(width - 1, max(0, round(share * (width - 1))))

    def render(self) -> Text:
        if self.start is None or self.end is None or self.now is None:
            return Text("no frames")
        state = "▶ playing" if self.playing else "⏸ paused"
        head = (f"REPLAY {self._hms(self.now)}  {state} {self.speed}x  "
                f"frame {self.frame[0] + 1}/{self.frame[1]}")
        left, right = self._hms(self.start) + " ", " " + self._hms(self.end)
        width = max(1, self.size.width - len(left) - len(right))
        bar = ["─"] * width
        for when in self.events:
            bar[self._position(when, width)] = EVENT_MARK
        now_at = self._position(self.now, width)
        text = Text(head, style="bold", no_wrap=True, overflow="ellipsis")
        if self.event_text:  # a log record's text: outside text, never markup
            text.append("  " + visible(self.event_text)[: self.size.width], style="italic")
        text.append("\n" + left, style="dim")
        text.append("".join(bar[:now_at]), style="bold")
        text.append(NOW_MARK, style="bold reverse")
        text.append("".join(bar[now_at + 1:]), style="dim")
        text.append(right, style="dim")
        return text
