"""Declaring and resolving an incident: two small forms."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, RadioButton, RadioSet, Static

from luckytui.incident.model import RESOLUTION_CHECKLIST, SEVERITIES

SEVERITY_HELP = {
    "P1": "Critical: site down, data loss risk, security breach (respond in 15 min)",
    "P2": "High: login, orders or an analytics endpoint failing (30 min)",
    "P3": "Medium: slow responses 2-5 s, non-critical features (2 h)",
    "P4": "Low: cosmetic, non-blocking (24 h)",
}
FORM_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 84; max-width: 100%; height: auto; max-height: 100%;
    border: round $accent; background: $surface; padding: 0 1; }}
{name} .title {{ text-style: bold; margin-bottom: 1; }}
{name} .hint {{ color: $text-muted; }}
{name} Horizontal {{ height: auto; align-horizontal: right; margin-top: 1; }}
{name} Button {{ margin-left: 2; }}
{name} RadioSet, {name} Checkbox {{ width: 100%; }}
"""


@dataclass(frozen=True, slots=True)
class Declaration:
    title: str
    severity: str
    drill: bool


class DeclareScreen(ModalScreen[Declaration | None]):
    DEFAULT_CSS = FORM_CSS.format(name="DeclareScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="declare-cancel")]

    def __init__(self, suggested: str = "P3") -> None:
        super().__init__()
        self.suggested = suggested if suggested in SEVERITIES else "P3"

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Declare an incident", classes="title")
            yield Input(placeholder="What is happening? e.g. Orders failing since 03:10",
                        id="title")
            yield Label("Severity (the plan's levels)")
            with RadioSet(id="severity"):
                for sev in SEVERITIES:
                    yield RadioButton(f"{sev}  {SEVERITY_HELP[sev]}", id=f"sev-{sev}",
                                      value=sev == self.suggested)
            yield Checkbox("Drill (kept out of production metrics)", id="drill")
            yield Static("", id="problem", classes="hint")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Declare", id="declare", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "declare":
            self._submit()
        else:
            self.dismiss(None)

    def _submit(self) -> None:
        title = " ".join(self.query_one("#title", Input).value.split())
        if not title:
            self.query_one("#problem", Static).update("A title is needed: say what is wrong.")
            self.query_one("#title", Input).focus()
            return
        pressed = self.query_one("#severity", RadioSet).pressed_button
        severity = (pressed.id or "").removeprefix("sev-") if pressed else self.suggested
        self.dismiss(Declaration(title, severity, self.query_one("#drill", Checkbox).value))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ResolveScreen(ModalScreen[dict[str, bool] | None]):
    """The plan's resolution checklist; an unticked item is recorded as skipped."""

    DEFAULT_CSS = FORM_CSS.format(name="ResolveScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="resolve-cancel")]

    def __init__(self, number: str, title: str) -> None:
        super().__init__()
        self.number = number
        self.incident_title = title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Resolve {self.number}: {self.incident_title}", classes="title")
            for i, item in enumerate(RESOLUTION_CHECKLIST):
                yield Checkbox(item, id=f"item-{i}")
            yield Static("Unticked items are recorded as skipped.", classes="hint")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Resolve", id="resolve", variant="success")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "resolve":
            self.dismiss(None)
            return
        self.dismiss({item: self.query_one(f"#item-{i}", Checkbox).value
                      for i, item in enumerate(RESOLUTION_CHECKLIST)})

    def action_cancel(self) -> None:
        self.dismiss(None)
