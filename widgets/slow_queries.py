"""The slowest statements by mean time (pg_stat_statements)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import RenderableType
from rich.text import Text

from luckytui.durations import format_duration
from luckytui.snapshots import DbSnapshot, Statement
from widgets.database import one_line
from widgets.pane import TextLine
from widgets.table import ColumnSpec, cell, rcell
from widgets.tablepane import TablePane

SLOW_MEAN_MS = 1000.0
"""The plan's runbook looks at statements with a mean time over 1,000 ms."""
DEFAULT_HINT = (
    "pg_stat_statements is not available: add it to shared_preload_libraries, "
    "restart PostgreSQL, then run CREATE EXTENSION pg_stat_statements;"
)


def format_ms(ms: float) -> str:
    """A duration given in ms: "812 ms", "12.4 s", "4m 05s"."""
    if ms < 1000:
        return f"{ms:,.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    return format_duration(ms / 1000)


def format_count(count: int) -> str:
    """A count that fits 9 cells: "777,611", "10.4M", "3.1G"."""
    if count < 1_000_000:
        return f"{count:,}"
    if count < 1_000_000_000:
        return f"{count / 1_000_000:.1f}M"
    return f"{count / 1_000_000_000:.1f}G"


def statement_row(statement: Statement) -> list[RenderableType]:
    mean = f"{statement.mean_ms:,.1f}"
    return [
        rcell(f"⚠ {mean}", "bold red") if statement.mean_ms > SLOW_MEAN_MS else rcell(mean),
        rcell(format_count(statement.calls), sort=statement.calls),
        rcell(format_ms(statement.total_ms), sort=statement.total_ms),
        rcell(format_count(statement.rows), sort=statement.rows),
        cell(one_line(statement.query)),
    ]


class SlowQueriesPane(TablePane[DbSnapshot, Statement]):
    """Top statements by mean time; a hint instead when the extension is missing."""

    TITLE = "Slow queries"
    DEFAULT_CSS = """
    SlowQueriesPane > #slow-hint { display: none; color: $warning; }
    SlowQueriesPane.-no-statements > #slow-hint { display: block; }
    SlowQueriesPane.-no-statements > DiffTable { display: none; }
    """

    COLUMNS = (
        ColumnSpec("mean", "MEAN ms", 11, "right"),
        ColumnSpec("calls", "CALLS", 9, "right"),
        ColumnSpec("total", "TOTAL", 9, "right"),
        ColumnSpec("rows", "ROWS", 9, "right"),
        ColumnSpec("query", "QUERY", 20, fill=True),
    )
    TABLE_ID = "slow-table"

    def make_lines(self) -> Sequence[TextLine]:
        self.hint = TextLine(id="slow-hint")
        return (self.hint,)

    def render_snapshot(self, snapshot: DbSnapshot) -> None:
        available = snapshot.statements_available
        self.set_class(not available, "-no-statements")
        if not available:
            hint = snapshot.statements_hint or DEFAULT_HINT
            self.hint.set_text(Text(f"⚠ {hint}", end=""))
        # the same statement for another user or database gets "#2", "#3"
        self.show(((s.queryid, s) for s in snapshot.statements), statement_row)
