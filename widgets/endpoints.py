"""HTTP endpoint checks, grouped (site, login, analytics, orders, api), in a stable order."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import RenderableType
from rich.text import Text

from luckytui.snapshots import EndpointResult, EndpointsSnapshot
from widgets.pane import Clock, TextLine
from widgets.sparkline import spark_text
from widgets.table import ColumnSpec, cell, rcell
from widgets.tablepane import TablePane

GROUP_ORDER = ("site", "login", "analytics", "orders", "api")
SLOW_MS = 2000.0
"""The plan: p95 over 2 s is the HighAPIResponseTime runbook (P3 from 2 to 5 s)."""
VERY_SLOW_MS = 5000.0
SPARK_FLOOR_MS = 1000.0
"""Sparklines scale to at least 1 s, so a healthy endpoint's noise stays flat."""


def latency_cell(ms: float | None) -> Text:
    if ms is None:
        return rcell("–", "dim")
    text = f"{ms:,.0f}"
    if ms > VERY_SLOW_MS:
        return rcell(f"✖ {text}", "bold red", ms)
    if ms > SLOW_MS:
        return rcell(f"⚠ {text}", "yellow", ms)
    return rcell(text, sort=ms)


_ERROR_WORDS = (
    ("timeout", "timeout"), ("timed out", "timeout"), ("refused", "refused"),
    ("reset", "reset"), ("name resolution", "dns"), ("getaddrinfo", "dns"),
    ("nodename", "dns"), ("ssl", "tls"), ("certificate", "tls"),
)


def short_error(error: str | None) -> str:
    """A word or two for the STATUS column; the whole error is in LAST ERROR."""
    if not error:
        return "down"
    lowered = error.lower()
    for needle, word in _ERROR_WORDS:
        if needle in lowered:
            return word
    head = error.split(":", 1)[0].strip() or error
    return head if len(head) <= 10 else head[:9] + "…"


def status_cell(result: EndpointResult) -> Text:
    if result.ok:
        return cell(f"✓ {result.status}" if result.status else "✓ ok", "green")
    if result.status:
        return cell(f"✖ {result.status}", "bold red")
    return cell(f"✖ {short_error(result.error)}", "bold red")


def ordered(endpoints: Sequence[EndpointResult]) -> list[EndpointResult]:
    """Known groups in the plan's order, then others as they come; config order inside."""
    first_seen: dict[str, int] = {}
    for i, result in enumerate(endpoints):
        first_seen.setdefault(result.group, i)

    def rank(group: str) -> tuple[int, int]:
        if group in GROUP_ORDER:
            return (GROUP_ORDER.index(group), 0)
        return (len(GROUP_ORDER), first_seen[group])

    indexed = sorted(enumerate(endpoints), key=lambda item: (rank(item[1].group), item[0]))
    return [result for _, result in indexed]


DOWN_NAMED = 3  # the summary stays one line; the table lists every endpoint


def summary_line(endpoints: Sequence[EndpointResult]) -> Text:
    total = len(endpoints)
    down = [e for e in endpoints if not e.ok]
    slow = [e for e in endpoints if e.ok and (e.p95_ms or 0.0) > SLOW_MS]
    if not total:
        return Text("no endpoints configured", style="dim", end="")
    if down:
        names = ", ".join(f"{e.group}/{e.name}" for e in down[:DOWN_NAMED])
        if len(down) > DOWN_NAMED:
            names += f" and {len(down) - DOWN_NAMED} more"
        line = Text(f"✖ {len(down)} of {total} down: {names}", style="bold red", end="")
    else:
        line = Text(f"✓ all {total} endpoints up", style="green", end="")
    if slow:
        line.append(" · ", style="dim")
        line.append(f"⚠ {len(slow)} slow (p95 > 2 s)", style="yellow")
    return line


class EndpointsPane(TablePane[EndpointsSnapshot, EndpointResult]):
    """One row per endpoint check; the group name on each group's first row."""

    TITLE = "Endpoints"
    DEFAULT_CSS = """
    EndpointsPane > #endpoints-summary { height: auto; max-height: 2; }
    """

    TABLE_ID = "endpoints-table"

    def __init__(
        self,
        *,
        spark_width: int = 8,
        title: str | None = None,
        key: str | None = None,
        clock: Clock | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        columns = (
            ColumnSpec("group", "GROUP"),
            ColumnSpec("name", "NAME"),
            ColumnSpec("status", "STATUS"),
            ColumnSpec("last", "LAST ms", 8, "right"),
            ColumnSpec("p95", "P95 ms", 8, "right"),
            ColumnSpec("history", "LATENCY", max(spark_width, 7)),
            ColumnSpec("error", "LAST ERROR", fill=True),
        )
        super().__init__(columns, title=title, key=key, clock=clock, name=name, id=id,
                         classes=classes)
        self.spark_width = spark_width

    def make_lines(self) -> Sequence[TextLine]:
        self.summary = TextLine(id="endpoints-summary")
        return (self.summary,)

    def render_snapshot(self, snapshot: EndpointsSnapshot) -> None:
        results = ordered(snapshot.endpoints)
        self.summary.set_text(summary_line(results))
        # the group's name on its first row only
        firsts = {id(r) for i, r in enumerate(results) if i == 0 or results[i - 1].group != r.group}

        def row(result: EndpointResult) -> list[RenderableType]:
            return self._row(result, cell(result.group if id(result) in firsts else "", "bold"))

        self.show(((f"{r.group}/{r.name}", r) for r in results), row)

    def _row(self, result: EndpointResult, group: Text) -> list[RenderableType]:
        history = ""
        if result.history:
            high = max(SPARK_FLOOR_MS, max(result.history))
            history = spark_text(result.history, self.spark_width, lo=0.0, hi=high)
        error = " ".join(result.error.split()) if result.error else ""
        return [
            group,
            cell(result.name, "" if result.ok else "bold"),
            status_cell(result),
            latency_cell(result.latency_ms),
            latency_cell(result.p95_ms),
            cell(history, "cyan"),
            cell(error, "red"),
        ]
