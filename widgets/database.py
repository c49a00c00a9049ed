"""PostgreSQL connections by state, usage of max_connections, long-running queries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.console import RenderableType
from rich.text import Text
from textual.binding import Binding

from luckytui.durations import format_duration
from luckytui.snapshots import CONNECTION_STATES, Backend, DbSnapshot
from widgets.pane import TextLine
from widgets.table import ColumnSpec, cell, rcell
from widgets.tablepane import TablePane

LONG_QUERY_S = 5 * 60.0
"""The plan's runbook terminates queries running longer than 5 minutes."""
USAGE_YELLOW = 0.80
USAGE_RED = 0.90
BAR_WIDTH = 16
QUERY_CHARS = 400

STATE_SHORT = {
    "idle in transaction": "idle in txn",
    "idle in transaction (aborted)": "idle in txn (aborted)",
}


def one_line(query: str, limit: int = QUERY_CHARS) -> str:
    """A query on one line, whitespace collapsed, cut at ``limit`` characters."""
    flat = " ".join(query.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def usage_bar(ratio: float, width: int = BAR_WIDTH) -> str:
    filled = round(max(0.0, min(1.0, ratio)) * width)
    return "█" * filled + "░" * (width - filled)


def usage_line(snapshot: DbSnapshot) -> Text:
    ratio = snapshot.usage_ratio
    if ratio >= USAGE_RED:
        style, note = "bold red", " ✖ near max"
    elif ratio >= USAGE_YELLOW:
        style, note = "yellow", " ⚠ high"
    else:
        style, note = "", ""
    line = Text(f"{snapshot.database}: ", style="bold", end="")
    line.append(
        f"{snapshot.total:,} of {snapshot.max_connections:,} connections "
        f"({ratio * 100:.0f} %) ",
        style=style,
    )
    line.append(usage_bar(ratio), style=style or "green")
    line.append(note, style=style)
    return line


def states_line(counts: Mapping[str, int]) -> Text:
    line = Text(end="")
    names = [*CONNECTION_STATES, *(k for k in sorted(counts) if k not in CONNECTION_STATES)]
    first = True
    for state in names:
        value = counts.get(state, 0)
        if state not in CONNECTION_STATES and not value:
            continue
        if not first:
            line.append(" · ", style="dim")
        first = False
        warn = value > 0 and state in ("idle in transaction", "waiting")
        line.append(f"{state} ", style="dim")
        line.append(f"⚠ {value:,}" if warn else f"{value:,}",  # read without colour too
                    style="bold yellow" if warn else "bold")
    return line


def long_running_line(backends: Sequence[Backend]) -> Text:
    if not backends:
        return Text("long-running queries: none", style="dim", end="")
    longest = max(b.duration_s for b in backends)
    line = Text(f"long-running queries: {len(backends)}, longest {format_duration(longest)}",
                end="")
    over = sum(1 for b in backends if b.duration_s > LONG_QUERY_S)
    if over:
        line.append(f" · ⚠ {over} over 5 min", style="bold red")
    return line


def backend_key(backend: Backend) -> str:
    """A pid is reused after its backend exits: the start time makes the key unique."""
    started = backend.backend_start.isoformat() if backend.backend_start else ""
    return f"{backend.pid}@{started}"


def backend_row(backend: Backend) -> list[RenderableType]:
    duration = format_duration(backend.duration_s)
    too_long = backend.duration_s > LONG_QUERY_S
    state = backend.state or "?"
    state_style = "yellow" if state.startswith("idle in transaction") else ""
    if backend.wait_event_type:
        wait = f"{backend.wait_event_type}:{backend.wait_event or '?'}"
    else:
        wait = ""
    blocked = ", ".join(str(pid) for pid in backend.blocked_by)
    return [
        rcell(str(backend.pid)),
        rcell(f"⚠ {duration}", "bold red", backend.duration_s) if too_long
        else rcell(duration, sort=backend.duration_s),
        cell(STATE_SHORT.get(state, state), state_style),
        cell(f"⊘ {blocked}" if blocked else "", "bold red"),
        cell(one_line(backend.query)),
        cell(wait, "yellow" if backend.wait_event_type == "Lock" else ""),
        cell(backend.usename),
        cell(backend.application_name),
    ]


class DatabasePane(TablePane[DbSnapshot, Backend]):
    """Connections by state and the long-running queries, longest first."""

    BINDINGS = [
        Binding("c", "app.act_db('cancel')", "Cancel query", id="db-cancel",
                tooltip="Cancel the selected backend's query (pg_cancel_backend, confirmed)"),
        Binding("k", "app.act_db('terminate')", "Terminate", id="db-terminate",
                tooltip="Terminate the selected backend (pg_terminate_backend, confirmed)"),
    ]

    TITLE = "Database"
    COLUMNS = (
        ColumnSpec("pid", "PID", 7, "right"),
        ColumnSpec("duration", "DURATION", 8, "right"),
        ColumnSpec("state", "STATE"),
        ColumnSpec("blocked", "BLOCKED BY"),
        ColumnSpec("query", "QUERY", 24, fill=True),
        ColumnSpec("wait", "WAIT"),
        ColumnSpec("user", "USER"),
        ColumnSpec("app", "APP"),
    )
    TABLE_ID = "db-table"
    FIXED_COLUMNS = 1

    def make_lines(self) -> Sequence[TextLine]:
        self.usage = TextLine(id="db-usage")
        self.states = TextLine(id="db-states")
        self.long_running = TextLine(id="db-long")
        return (self.usage, self.states, self.long_running)

    def selected_backend(self) -> Backend | None:
        """The backend under the cursor (as last shown)."""
        return self.selected()

    def render_snapshot(self, snapshot: DbSnapshot) -> None:
        self.usage.set_text(usage_line(snapshot))
        self.states.set_text(states_line(snapshot.counts))
        self.long_running.set_text(long_running_line(snapshot.long_running))
        self.show(((backend_key(b), b) for b in snapshot.long_running), backend_row)
