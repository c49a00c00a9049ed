"""`kubectl describe` of the selected pod or its deployment, with the events about
it (newest last): what an operator checks before choosing a remedy. Reading
changes nothing, so it is offered with --read-only too."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from luckytui.kubedescribe import deployment_lines, pod_lines
from luckytui.systems.kubernetes import KubeOpsError, PodReads
from widgets.safe import safe_text


class DescribeScreen(Screen[None]):
    DEFAULT_CSS = """
    DescribeScreen #describe-title { height: 1; background: $panel; padding: 0 1; }
    DescribeScreen VerticalScroll { height: 1fr; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Back", id="describe-close",
                tooltip="Back to the war room"),
        Binding("r", "reload", "Reload", id="describe-reload", tooltip="Read it again"),
    ]

    def __init__(self, reads: PodReads, kind: str, name: str, *,
                 clock: Callable[[], datetime] | None = None) -> None:
        """`kind`: "Pod" or "Deployment"."""
        super().__init__()
        self.reads, self.kind, self.name_ = reads, kind, name
        self.clock = clock or (lambda: datetime.now(UTC))
        self.lines: list[str] = []  # what is shown
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Static(safe_text(f"describe {self.kind.lower()} {self.name_} · reading…"),
                     id="describe-title")
        with VerticalScroll():
            yield Static(id="describe-body")
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self._read()

    @work(group="describe", exclusive=True, exit_on_error=False,
          description="Reading what describe shows")
    async def _read(self) -> None:
        try:
            lines = await asyncio.to_thread(self._fetch)
            title = f"describe {self.kind.lower()} {self.name_}"
        except KubeOpsError as exc:
            lines, title = [str(exc)], f"describe {self.kind.lower()} {self.name_} · failed"
        self.lines, self.loaded = lines, True
        self.query_one("#describe-title", Static).update(safe_text(title))
        body = Text(end="")
        for i, line in enumerate(lines):
            if i:
                body.append("\n")
            heading = not line.startswith(" ")
            warning = "  Warning  " in line or "Last termination:" in line
            body.append(line, style="bold" if heading else "red" if warning else "")
        self.query_one("#describe-body", Static).update(safe_text(body))

    def _fetch(self) -> list[str]:
        """In a thread: the object, then its events."""
        if self.kind == "Deployment":
            dep, replicasets = self.reads.describe_deployment(self.name_)
            events = self.reads.events_for("Deployment", self.name_)
            return deployment_lines(dep, replicasets, events, self.clock())
        pod = self.reads.describe_pod(self.name_)
        events = self.reads.events_for("Pod", self.name_)
        return pod_lines(pod, events, self.clock())
