"""The slowest statements by mean time (pg_stat_statements)."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult

from luckytui.snapshots import DbSnapshot, Statement
from widgets.database import one_line
from widgets.pane import Clock, Pane, TextLine, format_age
from widgets.table import ColumnSpec, DiffTable, cell, rcell

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
    return format_age(ms / 1000)


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
        rcell(format_count(statement.calls)),
        rcell(format_ms(statement.total_ms)),
        rcell(format_count(statement.rows)),
        cell(one_line(statement.query)),
    ]


class SlowQueriesPane(Pane[DbSnapshot]):
    """Top statements by mean time; a hint instead when the extension is missing."""

    TITLE = "Slow queries"
    DEFAULT_CSS = """
    SlowQueriesPane > #slow-hint { display: none; color: $warning; }
    SlowQueriesPane.-no-statements > #slow-hint { display: block; }
    SlowQueriesPane.-no-statements > DiffTable { display: none; }
    """

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
        super().__init__(title=title, key=key, clock=clock, name=name, id=id, classes=classes)
        self._statements: dict[str, Statement] = {}
        self.hint = TextLine(id="slow-hint")
        self.table = DiffTable(
            [
                ColumnSpec("mean", "MEAN ms", 11, "right"),
                ColumnSpec("calls", "CALLS", 9, "right"),
                ColumnSpec("total", "TOTAL", 9, "right"),
                ColumnSpec("rows", "ROWS", 9, "right"),
                ColumnSpec("query", "QUERY", 20, fill=True),
            ],
            id="slow-table",
        )

    def compose(self) -> ComposeResult:
        yield self.hint
        yield self.table

    def selected_statement(self) -> Statement | None:
        key = self.table.selected_key()
        return self._statements.get(key) if key is not None else None

    def render_snapshot(self, snapshot: DbSnapshot) -> None:
        available = snapshot.statements_available
        self.set_class(not available, "-no-statements")
        if not available:
            hint = snapshot.statements_hint or DEFAULT_HINT
            self.hint.set_text(Text(f"⚠ {hint}", end=""))
        self._statements = {}
        for statement in snapshot.statements:
            key = statement.queryid
            n = 1
            while key in self._statements:  # same statement for another user or database
                n += 1
                key = f"{statement.queryid}#{n}"
            self._statements[key] = statement
        self.table.sync_rows(
            [(key, statement_row(s)) for key, s in self._statements.items()]
        )
