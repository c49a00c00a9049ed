"""Every incident in the log, resolved ones too, and the question before resolving one
that production still contradicts.

``I`` opens the list (number, severity, status, title, declared, MTTA, MTTR), newest
first; Enter opens the incident's full-screen timeline (read-only, from the log) and
``P`` writes its post-mortem.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Label

from luckytui.durations import format_duration
from luckytui.incident.model import Incident
from luckytui.snapshots import AlertsSnapshot, EndpointsSnapshot
from screens.incident import FORM_CSS
from widgets.pane import TextLine
from widgets.safe import markup_safe as escape
from widgets.table import ColumnSpec, DiffTable, cell, rcell

SEVERITY_STYLES = {"P1": "bold red", "P2": "bold yellow", "P3": "yellow", "P4": ""}


def incident_title(inc: Incident) -> str:
    """How a timeline is headed: number · severity · status · title."""
    return f"{inc.number} · {inc.severity} · {inc.status} · {inc.title}"


def still_wrong(endpoints: EndpointsSnapshot | None, alerts: AlertsSnapshot | None) -> str:
    """What production still says is wrong ("" when nothing): critical alerts firing and
    endpoints failing, named, e.g. "Still firing: DatabaseConnectionPoolExhausted
    (critical). Still failing: analytics/financial." """
    firing = sorted({a.name for a in (alerts.alerts if alerts else ())
                     if a.state == "firing" and a.severity == "critical"})
    failing = [f"{e.group}/{e.name}" for e in (endpoints.endpoints if endpoints else ())
               if not e.ok]
    parts = []
    if firing:
        parts.append("Still firing: " + ", ".join(f"{name} (critical)" for name in firing) + ".")
    if failing:
        parts.append("Still failing: " + ", ".join(failing) + ".")
    return " ".join(parts)


class ResolveAnywayScreen(ModalScreen[bool]):
    """Resolve while production still says otherwise? No is the default (focused, Esc)."""

    DEFAULT_CSS = FORM_CSS.format(name="ResolveAnywayScreen") + """
    ResolveAnywayScreen > Vertical { border: thick $warning; }
    """
    BINDINGS = [Binding("escape", "no", "Keep it open", id="resolve-anyway-no")]

    def __init__(self, number: str, still: str) -> None:
        super().__init__()
        self.number = number
        self.question = f"{still} Resolve anyway?"

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"⚠ Resolve {escape(self.number)}?", classes="title")
            yield Label(escape(self.question), id="question")
            with Horizontal():
                yield Button("No, keep it open", id="no")
                yield Button("Resolve anyway", id="yes", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_no(self) -> None:
        self.dismiss(False)


class IncidentListScreen(Screen[None]):
    """The incidents of the log, newest first."""

    DEFAULT_CSS = """
    IncidentListScreen { layout: vertical; }
    IncidentListScreen > #incidents-title { background: $panel; text-style: bold; }
    IncidentListScreen > #incidents-table { height: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Timeline", id="incidents-open",
                tooltip="The selected incident's full timeline, from the log"),
        Binding("P", "postmortem", "Post-mortem", id="incidents-postmortem",
                tooltip="Write the selected incident's post-mortem draft"),
        Binding("question_mark", "app.help", "Keys", id="incidents-keys",
                tooltip="Show every key"),
        Binding("escape", "close", "Back", id="incidents-close",
                tooltip="Back to the dashboard"),
    ]

    def __init__(
        self,
        incidents: Sequence[Incident],
        *,
        utc: bool = False,
        on_open: Callable[[str], None],
        on_postmortem: Callable[[str], None],
    ) -> None:
        """``on_open`` and ``on_postmortem`` get the selected incident's number."""
        super().__init__()
        self.utc = utc
        self.on_open = on_open
        self.on_postmortem = on_postmortem
        self.incidents = sorted(incidents, key=lambda i: (i.declared_at, i.number),
                                reverse=True)
        self.header = TextLine(id="incidents-title")
        self.table = DiffTable(
            [
                ColumnSpec("number", "INCIDENT"),
                ColumnSpec("severity", "SEV", 3),
                ColumnSpec("status", "STATUS"),
                ColumnSpec("title", "TITLE", 20, fill=True),
                ColumnSpec("declared", "DECLARED", 16),
                ColumnSpec("mtta", "MTTA", 7, align="right"),
                ColumnSpec("mttr", "MTTR", 7, align="right"),
            ],
            id="incidents-table",
        )

    def compose(self) -> ComposeResult:
        yield self.header
        yield self.table
        yield Footer()

    def on_mount(self) -> None:
        self._show_header(None)
        self.table.sync_rows([(inc.number, self._row(inc)) for inc in self.incidents])
        self.table.focus()

    def _show_header(self, shown: Text | None) -> None:
        zone = "UTC" if self.utc else "local time"
        count = len(self.incidents)
        line = cell(
            f"Incidents · {count} in the log, newest first · Enter: timeline · "
            f"P: post-mortem  (times in {zone})" if count else
            "Incidents · none in the log yet (n declares one)", "bold")
        if shown is not None:
            line.append(" · shown: ")
            line.append_text(shown)
        self.header.set_text(line)

    def on_diff_table_view_changed(self, message: DiffTable.ViewChanged) -> None:
        message.stop()
        self._show_header(message.count)

    def _when(self, ts: datetime) -> str:
        return ts.astimezone(UTC if self.utc else None).strftime("%Y-%m-%d %H:%M")

    def _row(self, inc: Incident) -> tuple[RenderableType, ...]:
        status = inc.status + (" (drill)" if inc.drill else "")
        return (
            cell(inc.number, "bold"),
            cell(inc.severity, SEVERITY_STYLES.get(inc.severity, "")),
            cell(status, "green" if not inc.active else "yellow"),
            cell(" ".join(inc.title.split())),
            cell(self._when(inc.declared_at), "dim"),
            rcell(format_duration(inc.mtta_s, "mtt"), sort=inc.mtta_s),
            rcell(format_duration(inc.mttr_s, "mtt"), sort=inc.mttr_s),
        )

    @property
    def selected(self) -> str | None:
        """The number of the incident under the cursor."""
        return self.table.selected_key()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        if self.selected is not None:
            self.on_open(self.selected)

    def action_postmortem(self) -> None:
        if self.selected is not None:
            self.on_postmortem(self.selected)

    def action_close(self) -> None:
        self.dismiss(None)
