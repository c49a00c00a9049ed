"""Prometheus alerts: firing first, then pending; most severe and oldest first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.console import RenderableType
from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from luckytui.durations import format_duration
from luckytui.snapshots import Alert, AlertsSnapshot
from widgets.pane import TextLine, WordCut
from widgets.table import ColumnSpec, cell, rcell
from widgets.tablepane import TablePane

SEVERITY_RANK = {"critical": 0, "page": 0, "high": 1, "error": 1, "warning": 2, "info": 4}
SEVERITY_STYLE = {"critical": "bold red", "page": "bold red", "high": "red",
                  "error": "red", "warning": "yellow", "info": "blue"}
EMPTY_TEXT = "No alerts firing"


def alert_key(alert: Alert) -> str:
    """Alerts with one name differ by their labels."""
    labels = ",".join(f"{k}={v}" for k, v in sorted(alert.labels.items()) if k != "alertname")
    return f"{alert.name}{{{labels}}}"


def sort_alerts(alerts: Sequence[Alert]) -> list[Alert]:
    def order(alert: Alert) -> tuple[int, int, float, str]:
        firing = 0 if alert.state == "firing" else 1
        rank = SEVERITY_RANK.get(alert.severity.lower(), 3)
        since = alert.active_at.timestamp() if alert.active_at else float("inf")
        return (firing, rank, since, alert_key(alert))

    return sorted(alerts, key=order)


def alert_row(alert: Alert, now: datetime) -> list[RenderableType]:
    severity = alert.severity.lower()
    if alert.state == "firing":
        state = cell("● firing", "bold red")
    else:
        state = cell(f"◌ {alert.state}", "yellow")
    since_s = (now - alert.active_at).total_seconds() if alert.active_at else None
    since = format_duration(since_s) if since_s is not None else "–"
    return [
        cell(alert.name, "bold" if alert.state == "firing" else ""),
        cell(alert.severity or "–", SEVERITY_STYLE.get(severity, "")),
        state,
        rcell(since, sort=since_s),
        WordCut(alert.summary),  # prose: cut between words
    ]


def summary_line(alerts: Sequence[Alert], empty_text: str = EMPTY_TEXT) -> Text:
    firing = sum(1 for a in alerts if a.state == "firing")
    pending = len(alerts) - firing
    if firing:
        line = Text(f"● {firing} firing", style="bold red", end="")
    else:
        line = Text(f"✓ {empty_text}", style="green", end="")
    if pending:
        line.append(" · ", style="dim")
        line.append(f"◌ {pending} pending", style="yellow")
    return line


class AlertsPane(TablePane[AlertsSnapshot, Alert]):
    """Alerts with how long each has been active; "No alerts firing" when calm."""

    class RunbookWanted(Message):
        """Enter on an alert: the operator wants its runbook."""

        def __init__(self, alert: Alert) -> None:
            super().__init__()
            self.alert = alert

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        alert = self.selected()
        if alert is not None:
            self.post_message(self.RunbookWanted(alert))

    TITLE = "Alerts"
    DEFAULT_CSS = """
    AlertsPane > #alerts-summary { height: 1; }
    AlertsPane.-empty > DiffTable { display: none; }
    """

    COLUMNS = (
        ColumnSpec("alert", "ALERT"),
        ColumnSpec("severity", "SEVERITY"),
        ColumnSpec("state", "STATE", 9),
        ColumnSpec("for", "FIRING FOR", 10, "right"),
        ColumnSpec("summary", "SUMMARY", 16, fill=True),
    )
    TABLE_ID = "alerts-table"

    def make_lines(self) -> Sequence[TextLine]:
        self.summary = TextLine(id="alerts-summary")
        return (self.summary,)

    def render_snapshot(self, snapshot: AlertsSnapshot) -> None:
        alerts = sort_alerts(snapshot.alerts)
        self.summary.set_text(summary_line(alerts))
        now = self.now
        self.show(((alert_key(a), a) for a in alerts), lambda a: alert_row(a, now))
