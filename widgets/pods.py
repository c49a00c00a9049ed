"""Pods by CPU, with deployment readiness and cordoned nodes above them."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import RenderableType
from rich.text import Text

from luckytui.durations import format_duration
from luckytui.snapshots import DeploymentInfo, NodeInfo, PodInfo, PodsSnapshot
from widgets.pane import Clock, TextLine
from widgets.sparkline import spark_text
from widgets.table import ColumnSpec, cell, rcell
from widgets.tablepane import TablePane

PCT_RED = 90.0
PCT_YELLOW = 70.0
_WAITING_PHASES = ("Pending", "ContainerCreating", "PodInitializing")


def status_cell(pod: PodInfo) -> Text:
    """The pod's state, and its last termination when it has one, so a crash loop
    reads at a glance ("✖ CrashLoopBackOff · Error (1)")."""
    phase = pod.phase or "Unknown"
    if phase == "Running":
        text = cell("Running") if pod.ready else cell("⚠ NotReady", "yellow")
    elif phase == "Succeeded":
        return cell("Completed", "dim")
    elif phase in _WAITING_PHASES:
        text = cell(f"⚠ {phase}", "yellow")
    else:
        text = cell(f"✖ {phase}", "bold red")
    if pod.last_exit and pod.last_exit.partition(" ")[0] != phase:
        text.append_text(cell(f" · {pod.last_exit}", "red"))
    return text


def limit_cell(pct: float | None) -> Text:
    if pct is None:
        return rcell("–", "dim")
    if pct >= PCT_RED:
        return rcell(f"!! {pct:.0f} %", "bold red")
    if pct >= PCT_YELLOW:
        return rcell(f"! {pct:.0f} %", "yellow")
    return rcell(f"{pct:.0f} %")


def node_cell(name: str, node: NodeInfo | None) -> Text:
    if not name:
        return cell("–", "dim")
    if node is not None and not node.ready:
        return cell(f"{name} ✖ NotReady", "bold red")
    if node is not None and node.unschedulable:
        return cell(f"{name} ⊘ cordoned", "yellow")
    return cell(name)


DEPLOYMENTS_LISTED = 6
"""Past this many, only the deployments that are not fully ready are named."""


def deployments_line(deployments: Sequence[DeploymentInfo]) -> Text:
    line = Text("deployments: ", style="dim", end="")
    if not deployments:
        line.append("none", style="dim")
    ordered = sorted(deployments, key=lambda d: d.name)
    shown = ordered
    if len(ordered) > DEPLOYMENTS_LISTED:
        # a big namespace: name the ones in trouble (few), count the rest (one line)
        shown = [d for d in ordered if d.ready < d.desired][:DEPLOYMENTS_LISTED]
    for i, dep in enumerate(shown):
        if i:
            line.append(" · ", style="dim")
        if dep.desired == 0:
            line.append(f"{dep.name} 0/0", style="dim")
        elif dep.ready < dep.desired:
            line.append(f"{dep.name} {dep.ready}/{dep.desired} ✖", style="bold red")
        else:
            line.append(f"{dep.name} {dep.ready}/{dep.desired}")
    rest = len(ordered) - len(shown)
    if rest:
        unready = sum(1 for d in ordered if d.ready < d.desired) - sum(
            1 for d in shown if d.ready < d.desired)
        if not shown:
            line.append(f"all {rest} ready")
        elif not unready:
            line.append(f" · {rest} more ready", style="dim")
        else:
            line.append(f" · {rest} more, {unready} not ready", style="red")
    return line


def nodes_line(snapshot: PodsSnapshot, shown: int) -> Text:
    total = len(snapshot.pods)
    pods = f"{total:,} pods" if shown >= total else f"top {shown} of {total:,} pods by CPU"
    line = Text(f"{pods} · ", style="dim", end="")
    usable = sum(1 for n in snapshot.nodes if n.ready and not n.unschedulable)
    line.append(f"{len(snapshot.nodes)} nodes, {usable} schedulable")
    for node in sorted(snapshot.nodes, key=lambda n: n.name):
        if not node.ready:
            line.append(" · ", style="dim")
            line.append(f"✖ {node.name} NotReady", style="bold red")
        elif node.unschedulable:
            line.append(" · ", style="dim")
            line.append(f"⊘ {node.name} cordoned", style="yellow")
    if not snapshot.metrics_available:
        line.append(" · ", style="dim")
        line.append("⚠ metrics unavailable: no CPU figures", style="bold yellow")
    return line


WARNINGS_NAMED = 3


def warnings_line(snapshot: PodsSnapshot) -> Text | None:
    """The namespace's recent Warning events, newest first, on one line."""
    if not snapshot.warnings:
        return None
    line = Text(f"⚠ {len(snapshot.warnings)} recent warning events: ",
                style="yellow", end="")
    for i, w in enumerate(snapshot.warnings[:WARNINGS_NAMED]):
        if i:
            line.append(" · ", style="dim")
        line.append(f"{w.reason} ", style="bold yellow")
        line.append(w.object)
    return line


class PodsPane(TablePane[PodsSnapshot, PodInfo]):
    """The ``top`` pods by CPU, and the deployments' and nodes' state."""

    TITLE = "Pods"
    DEFAULT_CSS = """
    PodsPane > #pods-summary { height: auto; max-height: 4; }
    """

    TABLE_ID = "pods-table"
    FIXED_COLUMNS = 1

    def __init__(
        self,
        *,
        top: int = 100,
        spark_width: int = 10,
        title: str | None = None,
        key: str | None = None,
        clock: Clock | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        columns = (
            ColumnSpec("pod", "POD"),
            ColumnSpec("status", "STATUS"),
            ColumnSpec("cpu", "CPU m", 6, "right"),
            ColumnSpec("limit", "% LIMIT", 8, "right"),
            ColumnSpec("history", "CPU TREND", max(spark_width, 9)),
            ColumnSpec("restarts", "RESTARTS", 8, "right"),
            ColumnSpec("age", "AGE", 6, "right"),
            ColumnSpec("node", "NODE"),
            ColumnSpec("deploy", "DEPLOYMENT"),
        )
        super().__init__(columns, title=title, key=key, clock=clock, name=name, id=id,
                         classes=classes)
        self.top = top
        self.spark_width = spark_width
        self._rows: dict[str, tuple[object, tuple[RenderableType, ...]]] = {}

    def make_lines(self) -> Sequence[TextLine]:
        self.summary = TextLine(id="pods-summary")
        return (self.summary,)

    def selected_pod(self) -> PodInfo | None:
        """The pod under the cursor (as last shown)."""
        return self.selected()

    def render_snapshot(self, snapshot: PodsSnapshot) -> None:
        pods = sorted(
            snapshot.pods,
            key=lambda p: (p.cpu_m is None, -(p.cpu_m or 0.0), p.name),
        )
        nodes = {node.name: node for node in snapshot.nodes}
        summary = deployments_line(snapshot.deployments)
        summary.append("\n")
        summary.append_text(nodes_line(snapshot, min(len(pods), self.top)))
        warnings = warnings_line(snapshot)
        if warnings is not None:
            summary.append("\n")
            summary.append_text(warnings)
        self.summary.set_text(summary)
        now = self.now
        cache: dict[str, tuple[object, tuple[RenderableType, ...]]] = {}

        def row(pod: PodInfo) -> tuple[RenderableType, ...]:
            """The pod's cells, reused while what they show is unchanged."""
            age_s = (now - pod.started_at).total_seconds() if pod.started_at else None
            age = format_duration(age_s, "kube") if age_s is not None else "–"
            node = nodes.get(pod.node)
            version = (pod, age, node)
            cached = self._rows.get(pod.uid or pod.name)
            cells = cached[1] if cached is not None and cached[0] == version else None
            if cells is None:
                cells = self._row(pod, node, age, age_s)
            cache[pod.uid or pod.name] = (version, cells)
            return cells

        self.show(((pod.uid or pod.name, pod) for pod in pods), row, cap=self.top)
        self._rows = cache

    def _row(self, pod: PodInfo, node: NodeInfo | None, age: str,
             age_s: float | None) -> tuple[RenderableType, ...]:
        history = ""
        if pod.cpu_history:  # scaled to the limit when there is one: a full bar is at the limit
            high = max(pod.cpu_limit_m or 0.0, max(pod.cpu_history))
            history = spark_text(pod.cpu_history, self.spark_width, lo=0.0, hi=high)
        return (
            cell(pod.name),
            status_cell(pod),
            rcell(f"{pod.cpu_m:,.0f}") if pod.cpu_m is not None else rcell("–", "dim"),
            limit_cell(pod.cpu_pct_of_limit),
            cell(history, "cyan", sort=pod.cpu_m),  # sorts as the CPU it charts
            rcell(str(pod.restarts), "yellow" if pod.restarts else ""),
            rcell(age, sort=age_s),
            node_cell(pod.node, node),
            cell(pod.deployment or "–", "" if pod.deployment else "dim"),
        )
