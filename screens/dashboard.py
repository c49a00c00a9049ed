"""The war room's main screen: the banner and the live panes.

Wide terminals (the shared screen, a full SSH window) show the panes in a
grid. Narrow or short ones (a tmux side pane, 80x24) show one pane at a time
under a tab line; the number keys choose the pane in both layouts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import Footer, Static

from luckytui.snapshots import AlertsSnapshot, Backend, PodInfo, PodsSnapshot, SourceState
from luckytui.sources.base import Update
from luckytui.systems.kubernetes import PodReads
from screens.db_activity import DbActivityScreen
from screens.incident_flow import IncidentFlow
from screens.pod_describe import DescribeScreen
from screens.pod_logs import PodLogsScreen
from screens.remedy_flow import RemedyFlow
from widgets.alerts import AlertsPane
from widgets.banner import Banner
from widgets.database import DatabasePane
from widgets.endpoints import EndpointsPane
from widgets.guard import contained
from widgets.pane import Pane
from widgets.pods import PodsPane
from widgets.safe import safe_text
from widgets.slow_queries import SlowQueriesPane
from widgets.timeline import TimelineItem, TimelinePane

# numbered in reading order of the grid (left to right, top down): the number key
# focuses the pane whose title carries that number
TITLES = {"pods": "Pods", "db": "DB connections", "endpoints": "Endpoints",
          "alerts": "Alerts", "slow": "Slow queries", "timeline": "Timeline"}
PANE_SOURCE = {"pods": "kube", "db": "db", "slow": "db", "endpoints": "endpoints",
               "alerts": "alerts"}
# grid places row by row: the wide left column gets pods, endpoints and slow queries
# (long names, errors and SQL), the right one db, alerts and the timeline
GRID_ORDER = tuple(TITLES)
NARROW_WIDTH = 120
SHORT_HEIGHT = 32
MIN_STACKED_ROWS = 10  # border, header, summary and at least a handful of rows


class DashboardScreen(Screen[None]):
    DEFAULT_CSS = """
    DashboardScreen { layout: vertical; }
    #tabs { height: 1; display: none; background: $panel; }
    #note { height: auto; display: none; color: $warning; padding: 0 1; }
    #note.shown { display: block; }
    #grid { layout: grid; grid-size: 2; grid-columns: 3fr 2fr; grid-gutter: 0; height: 1fr; }
    #grid.single { grid-size: 1; grid-columns: 1fr; }
    DashboardScreen.stacked #grid { layout: vertical; }
    DashboardScreen.stacked #grid > .pane { height: 1fr; }
    DashboardScreen.tabbed #tabs { display: block; }
    DashboardScreen.tabbed #grid { layout: vertical; }
    DashboardScreen.tabbed #grid > .pane { display: none; height: 1fr; }
    DashboardScreen.tabbed #grid > .pane.current { display: block; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [  # type: ignore[assignment]
        Binding(str(i + 1), f"show_pane({i})", TITLES[name], id=f"pane-{name}", show=False,
                tooltip=f"Focus the {TITLES[name]} pane")
        for i, name in enumerate(TITLES)
    ] + [
        # first in the footer, so even an 80-column footer shows how to find the rest
        Binding("question_mark", "app.help", "Keys", id="keys", tooltip="Show every key"),
        Binding("q", "app.quit", "Quit", id="leave", tooltip="Leave the war room"),
        # incident steps and remedies: only here, never while a form or dialog is open;
        # their handlers below (the forms in screens/incident_flow.py, remedy_flow.py)
        Binding("n", "declare", "Declare", id="declare",
                tooltip="Declare an incident (title, severity)"),
        Binding("a", "acknowledge", "Ack", id="acknowledge",
                tooltip="Acknowledge the active incident (stops the response SLA clock)"),
        Binding("R", "resolve", "Resolve", id="resolve",
                tooltip="Resolve the active incident with the plan's checklist"),
        Binding("p", "severity", "Severity", id="severity", show=False,
                tooltip="Change the active incident's severity (the decision tree's "
                "suggestion shown)"),
        Binding("S", "status", "Status", id="status", show=False,
                tooltip="Investigating, Identified (root cause), Monitoring (mitigated)"),
        Binding("o", "roles", "Roles", id="roles", show=False,
                tooltip="Assign IC, TL, COM, SCR (handovers recorded)"),
        Binding("U", "status_update", "Status update", id="status-update",
                tooltip="Compose the plan's status update; copy (OSC 52) and record it"),
        Binding("N", "customer_notice", "Customer notice", id="customer-notice",
                show=False, tooltip="The plan's P1 customer notification; copy and record"),
        Binding("colon", "note", "Note", id="note", show=False,
                tooltip="Add a note to the incident's timeline"),
        Binding("t", "timeline", "Timeline", id="timeline", show=False,
                tooltip="The full-screen timeline: filter, notes, post-mortem"),
        Binding("s", "act('scale')", "Scale", id="scale",
                tooltip="Scale the selected pod's deployment (confirmed, dry-run first)"),
        Binding("r", "act('restart')", "Restart", id="restart",
                tooltip="Rollout restart the selected pod's deployment (confirmed)"),
        Binding("c", "act('cordon')", "Cordon", id="cordon",
                tooltip="Cordon or uncordon the selected pod's node (confirmed)"),
        Binding("l", "pod_logs", "Logs", id="pod-logs",
                tooltip="The selected pod's log: follow, previous container, search"),
        Binding("d", "describe('Pod')", "Describe", id="describe-pod",
                tooltip="The selected pod: node, containers, env, last termination, events"),
        Binding("D", "describe('Deployment')", "Describe deployment", id="describe-deployment",
                show=False, tooltip="The selected pod's deployment: replicas, revisions, "
                "conditions, events"),
        Binding("x", "remedies", "Remedies", id="remedies",
                tooltip="Every remedy by name (as luckytui act): arguments, plan, confirm"),
        Binding("b", "runbooks", "Runbooks", id="runbooks",
                tooltip="The plan's runbooks as checklists (firing alerts' first)"),
        Binding("u", "undo", "Undo", id="undo", show=False,
                tooltip="Undo the last remedy that has an undo (confirmed like any other)"),
        Binding("E", "act('emergency-scale')", "Emergency scale-up", id="emergency-scale",
                show=False, tooltip="The plan's complete-outage step: scale up everything "
                "configured in emergency_scale (typed confirmation)"),
        Binding("A", "db_activity", "DB activity", id="db-activity", show=False,
                tooltip="Every running session of the database (pg_activity's view): "
                "blocking tree, pause, cancel and terminate"),
        Binding("tab", "cycle(1)", "Next pane", id="next-pane", show=False),
        Binding("shift+tab", "cycle(-1)", "Previous pane", id="previous-pane", show=False),
    ]

    # changes to production: with --read-only none is offered (key, footer, help, palette);
    # "remedies" stays only when the config has commands that change nothing
    MUTATING = frozenset({"act", "undo"})

    def __init__(self, panes: Sequence[str], *, utc: bool = False, read_only: bool = False,
                 clock: Callable[[], datetime] | None = None,
                 incidents: IncidentFlow | None = None, remedies: RemedyFlow | None = None,
                 harmless_commands: bool = False,
                 pod_reads: Callable[[], PodReads | None] | None = None,
                 db_idle: Callable[[bool], None] | None = None) -> None:
        super().__init__()
        self.pod_reads = pod_reads  # the cluster's reads (logs, describe); None: none
        self.db_idle = db_idle  # asks the database source for idle sessions too, or not
        self._db: tuple[Any, SourceState | None] = (None, None)  # its last data, state
        self._activity: DbActivityScreen | None = None  # while the activity view is open
        self.incidents = incidents
        self.remedies = remedies
        self.harmless_commands = harmless_commands  # read-only: commands that change nothing
        self.pane_names = tuple(sorted(panes, key=GRID_ORDER.index))  # tabs: same order
        self.utc = utc
        self.read_only = read_only
        self.clock = clock
        self.current = 0
        self._panes: dict[str, Pane[Any]] = {}
        self._timeline: TimelinePane | None = None

    def compose(self) -> ComposeResult:
        yield Banner(read_only=self.read_only, utc=self.utc, clock=self.clock)
        yield Static(id="tabs")
        yield Static(id="note")
        with Container(id="grid", classes="single" if len(self.pane_names) == 1 else ""):
            for name in sorted(self.pane_names, key=GRID_ORDER.index):
                widget = self._make(name)
                widget.add_class("pane")
                yield widget
        yield Footer()

    def _make(self, name: str) -> Any:
        number = list(TITLES).index(name) + 1
        if name == "timeline":
            self._timeline = TimelinePane(utc=self.utc, id="timeline",
                                          title=f"{number} {TITLES[name]}")
            return self._timeline
        cls = {"pods": PodsPane, "db": DatabasePane, "slow": SlowQueriesPane,
               "endpoints": EndpointsPane, "alerts": AlertsPane}[name]
        pane: Pane[Any] = cls(id=name, key=str(number), title=TITLES[name], clock=self.clock)
        self._panes[name] = pane
        return pane

    def on_mount(self) -> None:
        self._layout(self.size.width, self.size.height)

    # --- layout -----------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._layout(event.size.width, event.size.height)

    def _layout(self, width: int, height: int) -> None:
        """Grid when there is room; else one column, stacked if each pane keeps
        MIN_STACKED_ROWS rows, else one pane at a time under a tab line."""
        count = len(self.pane_names)
        narrow = (width < NARROW_WIDTH or height < SHORT_HEIGHT) and count > 1
        stacked = narrow and (height - 2) // count >= MIN_STACKED_ROWS
        self.set_class(stacked, "stacked")
        self.set_class(narrow and not stacked, "tabbed")
        self._mark_current()

    def _mark_current(self) -> None:
        for i, name in enumerate(self.pane_names):
            self.query_one(f"#{name}").set_class(i == self.current, "current")
        tabs = []
        for i, name in enumerate(self.pane_names):
            number = list(TITLES).index(name) + 1
            label = f" {number} {TITLES[name]} "
            tabs.append(f"[reverse]{label}[/]" if i == self.current else label)
        self.query_one("#tabs", Static).update("".join(tabs))

    def action_show_pane(self, index: int) -> None:
        name = list(TITLES)[index]
        if name not in self.pane_names:
            self.notify(f"The {TITLES[name]} pane is not shown (see --panes)", timeout=3)
            return
        self.current = self.pane_names.index(name)
        self._mark_current()
        pane = self.query_one(f"#{name}")
        getattr(pane, "table", pane).focus()

    def action_cycle(self, step: int) -> None:
        self.current = (self.current + step) % len(self.pane_names)
        self.action_show_pane(list(TITLES).index(self.pane_names[self.current]))

    # --- what is selected -----------------------------------------------------------

    def _pane(self, cls: type[Any]) -> Any:
        found = self.query(cls)
        return found.first() if found else None

    def selected_pod(self) -> tuple[PodInfo | None, PodsSnapshot | None]:
        """The pod under the Pods pane's cursor, and what that pane shows."""
        pane = self._pane(PodsPane)
        return (pane.selected_pod(), pane.snapshot) if pane is not None else (None, None)

    def selected_backend(self) -> Backend | None:
        pane = self._pane(DatabasePane)
        return pane.selected_backend() if pane is not None else None

    def firing(self) -> set[str]:
        """The alerts the Alerts pane shows firing."""
        pane = self._pane(AlertsPane)
        snap = pane.snapshot if pane is not None else None
        return {a.name for a in snap.alerts if a.state == "firing"} if snap else set()

    # --- incident steps and remedies ------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Read-only: the remedies are not offered at all (keys, footer, help, palette).
        Logs and describe only read: offered whenever there is a cluster to read."""
        if action in ("pod_logs", "describe"):
            return self.pod_reads is not None
        if not self.read_only:
            return True
        if action == "remedies":
            return self.harmless_commands
        return action not in self.MUTATING

    def action_declare(self) -> None:
        if self.incidents is not None:
            self.incidents.declare()

    def action_acknowledge(self) -> None:
        if self.incidents is not None:
            self.incidents.acknowledge()

    def action_resolve(self) -> None:
        if self.incidents is not None:
            self.incidents.resolve()

    def action_severity(self) -> None:
        if self.incidents is not None:
            self.incidents.severity()

    def action_status(self) -> None:
        if self.incidents is not None:
            self.incidents.status()

    def action_roles(self) -> None:
        if self.incidents is not None:
            self.incidents.roles()

    def action_status_update(self) -> None:
        if self.incidents is not None:
            self.incidents.status_update()

    def action_customer_notice(self) -> None:
        if self.incidents is not None:
            self.incidents.customer_notice()

    def action_note(self) -> None:
        if self.incidents is not None:
            self.incidents.note()

    def action_timeline(self) -> None:
        if self.incidents is not None:
            self.incidents.timeline()

    def action_act(self, name: str) -> None:
        if self.remedies is not None:
            self.remedies.act(name, *self.selected_pod())

    def action_act_db(self, name: str) -> None:
        """Cancel or terminate the backend selected in the DB connections pane."""
        if self.remedies is not None:
            self.remedies.act_db(name, self.selected_backend())

    def action_db_activity(self) -> None:
        """The database activity view, fed by the same poll as the DB pane."""
        if self._activity is not None:
            return
        view = DbActivityScreen(remedies=self.remedies, read_only=self.read_only,
                                on_idle=self.db_idle)
        view.update_source(*self._db)
        self._activity = view

        def closed(_: None) -> None:
            self._activity = None
            if view.idle and self.db_idle is not None:
                self.db_idle(False)  # idle sessions are sent only while someone looks

        self.app.push_screen(view, closed)

    def action_remedies(self) -> None:
        if self.remedies is not None:
            self.remedies.remedies()

    def action_runbooks(self) -> None:
        if self.remedies is not None:
            self.remedies.runbooks(self.firing())

    def action_undo(self) -> None:
        if self.remedies is not None:
            self.remedies.undo()

    # --- reading a pod: logs and describe ----------------------------------------------

    def _reads_and_pod(self) -> tuple[PodReads, PodInfo] | None:
        reads = self.pod_reads() if self.pod_reads is not None else None
        pod, _ = self.selected_pod()
        if reads is None:
            self.notify("No Kubernetes cluster is configured", timeout=3)
        elif pod is None:
            self.notify("Select a pod in the Pods pane first (1, then the arrows)",
                        timeout=3)
        else:
            return reads, pod
        return None

    def action_pod_logs(self) -> None:
        found = self._reads_and_pod()
        if found is not None:
            self.app.push_screen(PodLogsScreen(found[0], found[1].name))

    def action_describe(self, kind: str) -> None:
        found = self._reads_and_pod()
        if found is None:
            return
        reads, pod = found
        if kind == "Deployment" and not pod.deployment:
            self.notify(f"Pod {pod.name} belongs to no deployment", timeout=3)
            return
        name = pod.deployment if kind == "Deployment" else pod.name
        self.app.push_screen(DescribeScreen(reads, kind, name, clock=self.clock))

    @contained("Opening the alert's runbook")
    def on_alerts_pane_runbook_wanted(self, message: AlertsPane.RunbookWanted) -> None:
        """Enter on an alert: its runbook."""
        if self.remedies is not None:
            self.remedies.runbook_for(message.alert.name)

    # --- data -------------------------------------------------------------------

    def set_note(self, text: str | None) -> None:
        note = self.query_one("#note", Static)
        note.update(safe_text(text or ""))  # may quote an error: never markup
        note.set_class(bool(text), "shown")

    def apply(self, update: Update[Any], now: datetime) -> None:
        if update.source == "db":
            self._db = (update.snapshot or self._db[0], update.state)
            if self._activity is not None:
                self._activity.update_source(update.snapshot, update.state)
        for name, pane in self._panes.items():
            if PANE_SOURCE[name] == update.source:
                pane.update_source(update.snapshot, update.state, now)
        if isinstance(update.snapshot, AlertsSnapshot):  # the banner counts what fires
            self.query_one(Banner).set_firing(
                sum(1 for a in update.snapshot.alerts if a.state == "firing"))

    def show_states(self, states: Sequence[SourceState], now: datetime) -> None:
        self.query_one(Banner).set_sources(states)

    def tick(self, states: Sequence[SourceState], now: datetime) -> None:
        """Staleness is worked out here; each pane ages its own status line."""
        by_name = {s.name: s for s in states}
        for name, pane in self._panes.items():
            state = by_name.get(PANE_SOURCE[name])
            if state is not None and state != pane.state:
                pane.update_source(None, state, now)
        self.query_one(Banner).set_sources(states)

    def show_incident(self, text: str | None, severity: str | None,
                      clocks: Sequence[tuple[str, str]] = ()) -> None:
        self.query_one(Banner).set_incident(text, severity, clocks)

    def show_timeline(self, items: Sequence[TimelineItem], incident: str | None) -> None:
        if self._timeline is not None:
            self._timeline.set_records(items, incident)
