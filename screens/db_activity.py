"""The database activity view, as pg_activity shows it: every running session.

One row a session (pid, database, user, application, client, state, wait event,
blockers, transaction and query durations, the query on one line), longest first,
refreshed with the room's database poll; the full query and every field of the
selected row in the detail lines below. `b` shows the blocking tree instead (each
blocker with the sessions waiting on it indented beneath, and the lock they wait
for), `i` the idle sessions too, `space` pauses the rows while choosing. Cancel and
terminate go through the room's remedies, as from the DB connections pane.

Query texts and application names come from outside: secrets are hidden
(`redact_text`) and control characters shown, never sent to the terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from luckytui.activity import blocking_tree
from luckytui.durations import format_duration
from luckytui.redact import redact_text
from luckytui.snapshots import Backend, DbSnapshot, SourceState, SourceStatus
from luckytui.text import visible
from screens.remedy_flow import RemedyFlow
from widgets.database import LONG_QUERY_S, STATE_SHORT, backend_key, one_line
from widgets.guard import contained
from widgets.table import ColumnSpec, DiffTable, cell, rcell

RUNNING = ("active", "fastpath function call")
DETAIL_QUERY_CHARS = 2000

COLUMNS = (
    ColumnSpec("pid", "PID"),
    ColumnSpec("xact", "XACT", 8, "right"),
    ColumnSpec("query_time", "QUERY", 8, "right"),
    ColumnSpec("state", "STATE"),
    ColumnSpec("wait", "WAIT / LOCK"),  # the wait event; in the tree, the lock waited for
    ColumnSpec("blocked", "BLOCKED BY"),
    ColumnSpec("query", "QUERY TEXT", 20, fill=True),
    ColumnSpec("db", "DATABASE"),
    ColumnSpec("user", "USER"),
    ColumnSpec("app", "APPLICATION"),
    ColumnSpec("client", "CLIENT"),
)


@lru_cache(maxsize=4096)
def clean(text: str) -> str:
    """Outside text with its secrets hidden (a query repeats across refreshes: cached)."""
    return redact_text(text)


def _since(snapshot: DbSnapshot, start: datetime | None) -> float | None:
    if start is None:
        return None
    return max(0.0, (snapshot.taken_at - start).total_seconds())


def wait_text(b: Backend) -> str:
    return f"{b.wait_event_type}:{b.wait_event or '?'}" if b.wait_event_type else ""


def lock_text(b: Backend) -> str:
    if not b.lock_mode:
        return ""
    return f"{b.lock_mode} on {b.lock_on}" if b.lock_on else b.lock_mode


def session_row(snapshot: DbSnapshot, b: Backend, depth: int | None = None,
                ) -> list[RenderableType]:
    """One session's cells; in the tree, its pid indented under its blocker."""
    xact = _since(snapshot, b.xact_start)
    running = b.state in RUNNING
    query_s = _since(snapshot, b.query_start) if running else None
    pid = str(b.pid) if not depth else "  " * (depth - 1) + f"└ {b.pid}"
    long = query_s is not None and query_s > LONG_QUERY_S
    blocked = ", ".join(str(p) for p in b.blocked_by)
    state = b.state or "?"
    return [
        cell(pid, "bold red" if depth == 0 else ""),
        rcell(format_duration(xact) if xact is not None else ""),
        rcell(("⚠ " if long else "") + format_duration(query_s) if query_s is not None
              else "", "bold red" if long else ""),
        cell(STATE_SHORT.get(state, state),
             "yellow" if state.startswith("idle in transaction") else ""),
        cell(lock_text(b) if depth is not None and b.lock_mode else wait_text(b),
             "yellow" if b.wait_event_type == "Lock" else ""),
        cell(f"⊘ {blocked}" if blocked else "", "bold red"),
        cell(one_line(clean(b.query))),
        cell(b.datname),
        cell(b.usename),
        cell(clean(b.application_name)),
        cell(b.client_addr or "local"),
    ]


def missing_row(pid: int) -> list[RenderableType]:
    """A blocker the snapshot does not carry (idle, holding a lock, or beyond the rows)."""
    return [cell(str(pid), "bold red"), "", "", cell("not shown", "dim")]


def detail_text(snapshot: DbSnapshot, b: Backend) -> Text:
    """Every field of the selected session, and its whole query (secrets hidden)."""
    xact = _since(snapshot, b.xact_start)
    query_s = _since(snapshot, b.query_start)
    parts = [f"pid {b.pid}", f"{b.usename or '?'}@{b.datname or '?'}",
             f"app {clean(b.application_name) or '—'}", f"client {b.client_addr or 'local'}",
             b.state or "?"]
    if b.wait_event_type:
        parts.append(f"waits on {wait_text(b)}")
    if b.lock_mode:
        parts.append(f"lock {lock_text(b)}")
    if b.blocked_by:
        parts.append("blocked by " + ", ".join(map(str, b.blocked_by)))
    if xact is not None:
        parts.append(f"transaction {format_duration(xact)}")
    if query_s is not None:
        parts.append(f"query started {format_duration(query_s)} ago")
    line = Text(visible(" · ".join(parts)), style="bold", end="")
    line.append("\n")
    line.append(visible(clean(b.query)[:DETAIL_QUERY_CHARS], multiline=True))
    return line


class DbActivityScreen(Screen[None]):
    """Every running session of the configured database, refreshed with the room."""

    DEFAULT_CSS = """
    DbActivityScreen { layout: vertical; }
    #activity-head { height: 1; padding: 0 1; background: $panel; }
    #activity-table { height: 1fr; }
    #activity-detail { height: auto; max-height: 40%; padding: 0 1;
        border-top: solid $accent; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back", id="activity-back",
                tooltip="Back to the war room"),
        Binding("space", "pause", "Pause", id="activity-pause",
                tooltip="Freeze the rows while choosing a session (refresh resumes on a "
                "second press)"),
        Binding("b", "tree", "Blocking tree", id="activity-tree",
                tooltip="Blockers with the sessions waiting on them beneath, and the lock"),
        Binding("i", "idle", "Idle sessions", id="activity-idle",
                tooltip="Show the idle sessions too (off by default)"),
        Binding("c", "act('cancel')", "Cancel query", id="activity-cancel",
                tooltip="Cancel the selected session's query (pg_cancel_backend, confirmed)"),
        Binding("k", "act('terminate')", "Terminate", id="activity-terminate",
                tooltip="Terminate the selected session (pg_terminate_backend, confirmed)"),
        Binding("question_mark", "app.help", "Keys", id="activity-keys",
                tooltip="Show every key"),
    ]
    MUTATING = frozenset({"act"})

    def __init__(self, *, remedies: RemedyFlow | None = None, read_only: bool = False,
                 on_idle: Callable[[bool], None] | None = None) -> None:
        super().__init__()
        self.remedies = remedies
        self.read_only = read_only
        self.on_idle = on_idle
        self.snapshot: DbSnapshot | None = None  # what the rows show
        self.latest: DbSnapshot | None = None  # the newest received (held while paused)
        self.state: SourceState | None = None
        self.paused = False
        self.tree_view = False
        self.idle = False
        self.shown: dict[str, Backend] = {}
        self.table = DiffTable(COLUMNS, fixed_columns=1, id="activity-table")

    def compose(self) -> ComposeResult:
        yield Static(id="activity-head")
        yield self.table
        yield Static(id="activity-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.table.focus()
        self._redraw()

    # --- data ---------------------------------------------------------------------

    @contained("Showing the database activity")
    def update_source(self, snapshot: DbSnapshot | None, state: SourceState | None) -> None:
        """A database poll: its rows are shown unless paused (then held until resumed)."""
        if state is not None:
            self.state = state
        if snapshot is not None:
            self.latest = snapshot
            if not self.paused:
                self.snapshot = snapshot
        if self.is_mounted:
            self._redraw(rows=snapshot is not None and not self.paused)

    def _redraw(self, rows: bool = True) -> None:
        if rows:
            self._show_rows()
        self.query_one("#activity-head", Static).update(self._head())
        self._show_detail()

    def _show_rows(self) -> None:
        snap = self.snapshot
        shown: dict[str, Backend] = {}
        cells: list[tuple[str, Sequence[RenderableType]]] = []
        if snap is not None and self.tree_view:
            for row in blocking_tree(snap.sessions):
                if row.backend is None:
                    cells.append((f"{row.pid}@?", missing_row(row.pid)))
                    continue
                key = backend_key(row.backend)
                shown[key] = row.backend
                cells.append((key, session_row(snap, row.backend, row.depth)))
        elif snap is not None:
            for b in snap.sessions:
                key = backend_key(b)
                shown[key] = b
                cells.append((key, session_row(snap, b)))
        self.shown = shown
        self.table.sync_rows(cells)

    def _head(self) -> Text:
        snap = self.snapshot
        head = Text(end="")
        head.append(visible(snap.database) if snap else "database", style="bold")
        head.append(" activity · ")
        if snap is None:
            head.append("waiting for the first refresh", style="dim")
        else:
            n, total = len(snap.sessions), snap.sessions_total
            kind = "sessions" if snap.idle_included else "busy sessions"
            head.append(f"{n:,} of {total:,} {kind} (longest first)" if total > n
                        else f"{total:,} {kind}")
            if self.tree_view:
                waiting = sum(1 for b in snap.sessions if b.blocked_by)
                head.append(f" · blocking tree: {waiting} waiting", style="yellow")
        if self.idle:
            head.append(" · idle shown")
        state = self.state
        if state is not None and state.status is SourceStatus.FAILING:
            head.append(f" · ✖ failing: {visible(state.error or '')}", style="bold red")
        if self.paused:
            head.append("  ⏸ PAUSED ", style="bold reverse yellow")
        return head

    def selected(self) -> Backend | None:
        key = self.table.selected_key()
        return self.shown.get(key) if key is not None else None

    def _show_detail(self) -> None:
        b, snap = self.selected(), self.snapshot
        detail = self.query_one("#activity-detail", Static)
        if b is None or snap is None:
            detail.update(Text("no session selected", style="dim"))
        else:
            detail.update(detail_text(snap, b))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    # --- keys -----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Read-only: cancel and terminate are not offered (key, footer, help)."""
        return not (self.read_only and action in self.MUTATING)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_pause(self) -> None:
        self.paused = not self.paused
        if not self.paused and self.latest is not None:
            self.snapshot = self.latest
        self._redraw(rows=not self.paused)

    def action_tree(self) -> None:
        self.tree_view = not self.tree_view
        self._redraw()

    def action_idle(self) -> None:
        self.idle = not self.idle
        if self.on_idle is not None:
            self.on_idle(self.idle)
        self._redraw(rows=False)

    def action_act(self, name: str) -> None:
        """Cancel or terminate the selected session: the pid and its backend_start as
        shown are the target, planned, confirmed and recorded like every remedy."""
        if self.read_only or self.remedies is None:
            return
        backend = self.selected()
        if backend is None:
            self.notify("Select a session first.", timeout=4)
            return
        self.remedies.act_db(name, backend)
