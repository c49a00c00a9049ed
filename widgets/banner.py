"""The one-line banner: incident, its clocks, firing alerts, READ-ONLY, source chips, clock.

The clock shows minutes, so it repaints once a minute; stale and failing chips
show their data's age and tick once a second only while a source is unhealthy.
The banner repaints only when its text changes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from rich.text import Text
from textual.timer import Timer
from textual.widget import Widget

from luckytui.durations import format_duration
from luckytui.snapshots import SourceState, SourceStatus
from luckytui.text import visible
from widgets.pane import Clock, text_signature, utc_now

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
        word = f"stale {format_duration(age)}" if age is not None else "stale"
        if level >= 3:
            word = format_duration(age) if age is not None else ""
    elif level >= 3 or (level >= 1 and state.status is SourceStatus.OK):
        word = ""
    if level >= 4:
        return Text(f"{symbol}{state.name}{' ' + word if word else ''}", style=style, end="")
    return Text(f"{symbol} {state.name}{' ' + word if word else ''}", style=style, end="")


def chips(states: Sequence[SourceState], now: datetime, level: int) -> Text:
    """Source chips, shorter as ``level`` grows (0: every word ... 5: symbols and names,
    6: a count by state, 7: nothing).

    From level 2 healthy sources fold into a count ("● 3 ok"), from level 3 the
    sources that are off are left out. The symbol always tells the state:
    ● ok, ▲ stale, ✖ failing, ◌ connecting, ○ off.
    """
    out = Text(end="")
    if level >= 7:
        return out
    if level >= 6:  # "●3✖1": how many sources are in each state that matters
        for status in (SourceStatus.OK, SourceStatus.STALE, SourceStatus.FAILING,
                       SourceStatus.CONNECTING):
            count = sum(1 for s in states if s.status is status)
            if count:
                symbol, style, _ = CHIP[status]
                out.append(f"{symbol}{count}", style=style)
        return out
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
FIRING_STYLE = "bold white on red"
ELAPSED = re.compile(r"^\d+:\d\d:\d\d$")


@dataclass(frozen=True, slots=True)
class Fit:
    """How far the banner has shortened itself to fit its width."""

    chips: int = 0  # chips() level
    elapsed: bool = True  # the incident's time since the impact started
    status: bool = True  # Investigating, Identified, Monitoring
    wall_clock_short: bool = False
    page_short: bool = False  # "status page in 4:10" → "page in 4:10"
    badge_short: bool = False  # READ-ONLY → RO
    compact: bool = False  # "INC-… · P1" → "INC-… P1", no padding around the clocks
    wall_clock: bool = True
    no_firing: bool = True  # "0 firing" (nothing firing) shown
    number_short: bool = False  # INC-2026-11-26-001 → INC-…-001 (the day's sequence)


def _ladder() -> tuple[Fit, ...]:
    """What gives way, in order. Never dropped: the incident's number and severity, its
    open clocks (whole, never cut), the count of firing alerts and READ-ONLY (as RO)."""
    steps: list[dict[str, Any]] = [
        {"chips": 1}, {"chips": 2}, {"elapsed": False}, {"status": False}, {"chips": 3},
        {"chips": 4}, {"chips": 5}, {"wall_clock_short": True}, {"no_firing": False},
        {"page_short": True}, {"compact": True}, {"chips": 6}, {"badge_short": True},
        {"wall_clock": False}, {"chips": 7}, {"number_short": True},
    ]
    fits = [Fit()]
    for step in steps:
        fits.append(replace(fits[-1], **step))
    return tuple(fits)


LADDER = _ladder()


class Banner(Widget):
    """Incident · clocks · firing alerts · READ-ONLY · source chips · clock, on one line."""

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
        self._firing: int | None = None  # alerts firing, once the alerts source answered
        self._drill: str | None = None  # the drill's title, when production is a drill
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
        self._incident = visible(text) if text is not None else None
        self._severity = severity
        self._clocks = tuple(clocks)
        self._update()

    def set_drill(self, title: str | None) -> None:
        """This production is a drill's simulation: say so, with the drill's title."""
        self._drill = title
        self._update()

    def set_firing(self, count: int | None) -> None:
        """How many alerts are firing (None: not known, nothing shown)."""
        self._firing = count
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

    def _incident_part(self, fit: Fit) -> Text:
        """" INC-… · P1 · Investigating · for 00:12:34 " in the severity's colours."""
        assert self._incident is not None
        fields = []
        for field in self._incident.split(" · "):
            if ELAPSED.match(field):  # a duration, not a time of day
                if fit.elapsed:
                    fields.append(f"for {field}")
            elif field.startswith("INC-") and fit.number_short:
                fields.append("INC-…-" + field.rsplit("-", 1)[-1])
            elif fit.status or field.startswith("INC") or field in (*SEVERITY_STYLES, "DRILL"):
                fields.append(field)  # the status word gives way; number and severity never
        severity = (self._severity or "").upper()
        return Text(f" {(' ' if fit.compact else ' · ').join(fields)} ",
                    style=SEVERITY_STYLES.get(severity, "bold reverse"), end="")

    def _left(self, fit: Fit) -> Text:
        """The incident, its open clocks and the firing alerts."""
        if self._incident:
            left = self._incident_part(fit)
            for text, state in self._clocks:  # the deadlines: right after the incident
                if fit.page_short:
                    text = text.replace("status page ", "page ", 1)
                left.append(" ")
                left.append(text if fit.compact else f" {text} ",
                            style=CLOCK_STYLES.get(state, ""))
        else:
            left = Text(" No active incident", style="dim", end="")
        if self._firing or (self._firing == 0 and fit.no_firing):
            left.append(" ")
            text = f"{self._firing} firing"
            left.append(text if fit.compact else f" {text} ",
                        style=FIRING_STYLE if self._firing else "dim")
        return left

    def _right(self, fit: Fit, now: datetime) -> Text:
        """READ-ONLY, the sources' health and the wall clock."""
        right = Text(end="")
        if self._drill:
            right.append(" DRILL " if fit.badge_short else f" DRILL: {self._drill} ",
                         style="bold black on cyan")
            right.append(" " if self.read_only else "")
        if self.read_only:
            right.append(" RO " if fit.badge_short else " READ-ONLY ",
                         style="bold white on magenta")
        sources = chips(self._states, now, fit.chips)
        if sources.plain:
            right.append(" " if right.plain else "")
            right.append_text(sources)
        if fit.wall_clock:
            right.append(f" {self.clock_text(now, short=fit.wall_clock_short)} ", style="bold")
        return right

    def compose_line(self, width: int, now: datetime) -> Text:
        """The banner's text for ``width`` cells: the longest form of each part that fits
        (LADDER says what gives way first)."""
        for fit in LADDER:
            left, right = self._left(fit), self._right(fit, now)
            if left.cell_len + 1 + right.cell_len <= width:
                break
        else:  # narrower than any banner: the incident and its clocks, cut at the end
            right = Text(end="")
            if left.cell_len > width:
                left.truncate(width, overflow="ellipsis")
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
