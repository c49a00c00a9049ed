"""The one-line banner: incident, READ-ONLY badge, source health chips, clock.

The clock shows minutes, so it repaints once a minute; stale and failing chips
show their data's age and tick once a second only while a source is unhealthy.
The banner repaints only when its text changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from rich.text import Text
from textual.timer import Timer
from textual.widget import Widget

from luckytui.snapshots import SourceState, SourceStatus
from widgets.pane import Clock, format_age, text_signature, utc_now

SEVERITY_STYLES = {
    "P1": "bold white on red",
    "P2": "bold black on dark_orange",
    "P3": "bold black on yellow",
    "P4": "bold white on blue",
}
CHIP = {
    SourceStatus.OK: ("●", "green", "ok"),
    SourceStatus.STALE: ("▲", "bold yellow", "stale"),
    SourceStatus.FAILING: ("✖", "bold red", "failing"),
    SourceStatus.CONNECTING: ("◌", "dim", "connecting…"),
    SourceStatus.OFF: ("○", "dim", "off"),
}


def chip(state: SourceState, now: datetime, *, level: int) -> Text:
    """One source's health: symbol, name and a word; shorter at higher levels."""
    symbol, style, word = CHIP[state.status]
    if state.status is SourceStatus.STALE:
        age = state.age_s(now)
        word = f"stale {format_age(age)}" if age is not None else "stale"
        if level >= 3:
            word = format_age(age) if age is not None else ""
    elif level >= 3 or (level >= 1 and state.status is SourceStatus.OK):
        word = ""
    if level >= 4:
        return Text(f"{symbol}{state.name}{' ' + word if word else ''}", style=style, end="")
    return Text(f"{symbol} {state.name}{' ' + word if word else ''}", style=style, end="")


def chips(states: Sequence[SourceState], now: datetime, level: int) -> Text:
    """Source chips, shorter as ``level`` grows (0: every word ... 5: symbols and names).

    From level 2 healthy sources fold into a count ("● 3 ok"), from level 3 the
    sources that are off are left out. The symbol always tells the state:
    ● ok, ▲ stale, ✖ failing, ◌ connecting, ○ off.
    """
    out = Text(end="")
    shown = list(states)
    if level >= 2:
        healthy = [s for s in states if s.status is SourceStatus.OK]
        shown = [s for s in states if s.status is not SourceStatus.OK]
        if level >= 3:
            shown = [s for s in shown if s.status is not SourceStatus.OFF]
        if healthy:
            count = len(healthy)
            label = f"●{count}" if level >= 5 else f"●{count} ok" if level >= 4 else f"● {count} ok"
            out.append(label, style="green")
    for state in shown:
        if out.plain:
            out.append(" ")
        out.append_text(chip(state, now, level=level))
    return out


CLOCK_STYLES = {"running": "bold", "near": "bold black on yellow",
                "overdue": "bold white on red"}

LEVELS = 7
"""How many ways the banner can shorten its right-hand side before cutting the incident."""


class Banner(Widget):
    """Incident · READ-ONLY · source chips · clock, on one line."""

    DEFAULT_CSS = """
    Banner {
        height: 1;
        width: 1fr;
        background: $panel;
        color: $text;
    }
    """

    def __init__(
        self,
        *,
        read_only: bool = False,
        utc: bool = False,
        clock: Clock | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.read_only = read_only
        self.utc = utc
        self._clock: Clock = clock or utc_now
        self._incident: str | None = None
        self._severity: str | None = None
        self._clocks: tuple[tuple[str, str], ...] = ()
        self._states: tuple[SourceState, ...] = ()
        self._signature: object = None
        self._line = Text(end="")
        self._ticker: Timer | None = None
        self._minute_timer: Timer | None = None

    # --- what the app calls -----------------------------------------------------

    def set_incident(self, text: str | None, severity: str | None,
                     clocks: Sequence[tuple[str, str]] = ()) -> None:
        """``text`` like "INC-2026-11-26-001 · P2 · Investigating · 00:12:34", or None;
        ``clocks`` the plan's open clocks as (text, state): running, near or overdue."""
        self._incident = text
        self._severity = severity
        self._clocks = tuple(clocks)
        self._update()

    def set_sources(self, states: Sequence[SourceState]) -> None:
        self._states = tuple(states)
        unhealthy = any(
            s.status in (SourceStatus.STALE, SourceStatus.FAILING) and s.last_ok is not None
            for s in self._states
        )
        if self._ticker is not None:
            if unhealthy:
                self._ticker.resume()
            else:
                self._ticker.pause()
        self._update()

    # --- rendering --------------------------------------------------------------

    def on_mount(self) -> None:
        self._ticker = self.set_interval(1.0, self._update, pause=True)
        self.set_sources(self._states)
        self._schedule_minute()

    def on_resize(self) -> None:
        self._update()

    def _schedule_minute(self) -> None:
        now = self._clock()
        delay = 60.0 - (now.second + now.microsecond / 1e6)
        self._minute_timer = self.set_timer(max(0.5, delay + 0.05), self._on_minute)

    def _on_minute(self) -> None:
        self._update()
        self._schedule_minute()

    def clock_text(self, now: datetime, *, short: bool = False) -> str:
        """HH:MM in the local zone, or UTC (marked) when asked for."""
        local = now.astimezone(UTC if self.utc else None)
        if not self.utc:
            return local.strftime("%H:%M")
        return local.strftime("%H:%MZ" if short else "%H:%M UTC")

    def compose_line(self, width: int, now: datetime) -> Text:
        """The banner's text for ``width`` cells."""
        if self._incident:
            severity = (self._severity or "").upper()
            left = Text(f" {self._incident} ", style=SEVERITY_STYLES.get(severity, "bold reverse"),
                        end="")
            for text, state in self._clocks:  # the deadlines: right after the incident
                left.append(" ")
                left.append(f" {text} ", style=CLOCK_STYLES.get(state, ""))
        else:
            left = Text(" No active incident", style="dim", end="")
        right = Text(end="")
        for level in range(LEVELS):
            right = Text(end="")
            if self.read_only:
                badge = " RO " if level >= 5 else " READ-ONLY "
                right.append(badge, style="bold white on magenta")
                right.append(" ")
            right.append_text(chips(self._states, now, min(level, 5)))
            right.append(f" {self.clock_text(now, short=level >= 6)} ", style="bold")
            if left.cell_len + 1 + right.cell_len <= width:
                break
        space = width - right.cell_len
        if left.cell_len + 1 > space:
            left.truncate(max(0, space - 1), overflow="ellipsis")
        line = Text(end="", no_wrap=True)
        line.append_text(left)
        line.append(" " * max(0, width - left.cell_len - right.cell_len))
        line.append_text(right)
        return line

    def _update(self) -> None:
        if not self.is_mounted:
            return
        line = self.compose_line(self.size.width or 80, self._clock())
        signature = text_signature(line)
        if signature != self._signature:
            self._signature = signature
            self._line = line
            self.refresh()

    def render(self) -> Text:
        if self._signature is None:
            self._line = self.compose_line(self.size.width or 80, self._clock())
            self._signature = text_signature(self._line)
        return self._line
