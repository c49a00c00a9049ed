"""Declaring and resolving an incident: two small forms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, RadioButton, RadioSet, Static

from luckytui.incident.model import RESOLUTION_CHECKLIST, SEVERITIES, parse_when
from luckytui.incident.triage import Triage
from luckytui.text import visible
from screens.confirm import BACK
from widgets.safe import safe_text

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


class TickBox(Checkbox):
    """A checklist tick that reads without colour: ☑ ticked, ☐ not."""

    @property
    def _button(self) -> Content:
        return Content.styled("☑" if self.value else "☐", "bold" if self.value else "")


class PickButton(RadioButton):
    """A choice that reads without colour: ◉ chosen, ○ not."""

    @property
    def _button(self) -> Content:
        return Content.styled("◉" if self.value else "○", "bold" if self.value else "")


@dataclass(frozen=True, slots=True)
class Declaration:
    title: str
    severity: str
    drill: bool
    components: tuple[str, ...] = ()
    started_at: datetime | None = None  # impact start, when earlier than detection
    detected_at: datetime | None = None


def tree_lines(result: Triage) -> Text:
    """The decision tree as the sources answer it: one line a question, with why."""
    text = Text()
    for a in result.answers:
        mark, style = {True: ("YES", "bold red"), False: ("no ", "green"),
                       None: (" ? ", "dim")}[a.answer]
        text.append(f" {mark} ", style=style)
        text.append(f"{a.question:<31}", style="bold" if a.answer else "")
        text.append(f" → {a.implies:<5} ", style="dim")
        text.append(a.why + "\n", style="" if a.answer else "dim")
    text.append(f"Suggested {result.suggested}: ", style="bold")
    text.append(result.reason)
    return safe_text(text)  # the evidence quotes endpoint names and errors


class DeclareScreen(ModalScreen[Declaration | None]):
    """Title, the decision tree pre-answered from live signals, severity (the human
    decides), affected components, impact start, drill."""

    DEFAULT_CSS = FORM_CSS.format(name="DeclareScreen") + """
    DeclareScreen > VerticalScroll { width: 110; max-width: 100%; height: auto;
        max-height: 100%; border: round $accent; background: $surface; padding: 0 1; }
    DeclareScreen #tree { margin-bottom: 1; }
    DeclareScreen #title, DeclareScreen RadioSet { margin-bottom: 1; }
    DeclareScreen .row { height: 1; align-horizontal: left; margin-top: 0; margin-bottom: 1; }
    DeclareScreen .row Label { width: 16; }
    DeclareScreen .row Input { width: 1fr; }
    """
    BINDINGS = [Binding("escape", "cancel", BACK, id="declare-cancel")]

    def __init__(self, triage: Triage | None = None, *, now: datetime | None = None,
                 utc: bool = False, drill: str | None = None) -> None:
        super().__init__()
        self.triage = triage
        self.drill = drill  # the drill running now: what is declared is that drill's
        self.suggested = triage.suggested if triage else "P3"
        self.now = now
        self.utc = utc

    def compose(self) -> ComposeResult:
        t = self.triage
        with VerticalScroll():
            yield Label("Declare an incident", classes="title")
            yield Input(visible(t.title_hint) if t else "",
                        placeholder="What is happening? e.g. Orders failing since 03:10",
                        id="title", compact=True)
            yield Label("The plan's escalation decision tree, answered from what the war "
                        "room sees now:" if t else "Severity (the plan's levels)")
            if t is not None:
                yield Static(tree_lines(t), id="tree")
            with RadioSet(id="severity", compact=True):
                for sev in SEVERITIES:
                    mark = "  ← suggested" if t and sev == self.suggested else ""
                    yield PickButton(f"{sev}  {SEVERITY_HELP[sev]}{mark}", id=f"sev-{sev}",
                                     value=sev == self.suggested)
            with Horizontal(classes="row"):
                yield Label("Affected")
                yield Input(visible(", ".join(t.components)) if t else "", id="components",
                            placeholder="components, comma separated", compact=True)
            with Horizontal(classes="row"):
                yield Label("Impact started")
                yield Input(id="started", placeholder="empty = when detected; HH:MM, "
                            "or 15m ago", compact=True)
            if t is not None and t.detected_at is not None:
                yield Static(f"Detected {self._format(t.detected_at)} (the first alert that "
                             "fired or check that failed): MTTA and MTTR count from there.",
                             classes="hint")
            if self.drill is None:
                yield TickBox("Drill (kept out of production metrics)", id="drill",
                              compact=True)
            else:  # the log records it as the running drill's, whatever the box says
                yield TickBox(safe_text(f"Drill: {visible(self.drill)} is running (kept out "
                                        "of production metrics)"),
                              value=True, disabled=True, id="drill", compact=True)
            yield Static("", id="problem", classes="hint")
            with Horizontal():
                yield Button(BACK, id="cancel")
                yield Button("Declare", id="declare", variant="warning")

    def _format(self, ts: datetime) -> str:
        return f"{ts.astimezone(UTC):%H:%M} UTC" if self.utc else f"{ts.astimezone():%H:%M}"

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "declare":
            self._submit()
        else:
            self.dismiss(None)

    def _problem(self, text: str, focus: str) -> None:
        self.query_one("#problem", Static).update(text)
        self.query_one(focus, Input).focus()

    def _submit(self) -> None:
        title = " ".join(self.query_one("#title", Input).value.split())
        if not title:
            self._problem("A title is needed: say what is wrong.", "#title")
            return
        now = self.now or datetime.now(UTC)
        try:
            started = parse_when(self.query_one("#started", Input).value, now, utc=self.utc)
        except ValueError as exc:
            self._problem(f"Impact started: {exc}", "#started")
            return
        detected = self.triage.detected_at if self.triage else None
        if started is not None and detected is not None and detected < started:
            detected = None  # the impact start given wins; detection is then the declaration
        pressed = self.query_one("#severity", RadioSet).pressed_button
        severity = (pressed.id or "").removeprefix("sev-") if pressed else self.suggested
        components = tuple(c.strip() for c in self.query_one("#components", Input).value
                           .split(",") if c.strip())
        self.dismiss(Declaration(title, severity, self.query_one("#drill", Checkbox).value,
                                 components, started, detected))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ResolveScreen(ModalScreen[dict[str, bool] | None]):
    """The plan's resolution checklist; an unticked item is recorded as skipped."""

    DEFAULT_CSS = FORM_CSS.format(name="ResolveScreen")
    BINDINGS = [Binding("escape", "cancel", BACK, id="resolve-cancel")]

    def __init__(self, number: str, title: str) -> None:
        super().__init__()
        self.number = number
        self.incident_title = title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(f"Resolve {self.number}: {visible(self.incident_title)}"),
                        classes="title")
            for i, item in enumerate(RESOLUTION_CHECKLIST):
                yield TickBox(item, id=f"item-{i}", compact=True)
            yield Static("Unticked items are recorded as skipped.", classes="hint")
            with Horizontal():
                yield Button(BACK, id="cancel")
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
