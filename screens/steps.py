"""The incident's small steps: pick a severity or status, hand out the roles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from luckytui.text import visible
from screens.confirm import BACK
from widgets.safe import markup_safe as escape

ROLE_HELP = {
    "IC": "Incident Commander: coordinates, decides, assigns roles",
    "TL": "Technical Lead: fixes the issue",
    "COM": "Communications: updates stakeholders (status page, customers)",
    "SCR": "Scribe: documents the timeline",
}


class ChoiceScreen(ModalScreen[str | None]):
    """One of a few values, each with what it means; the current one marked."""

    DEFAULT_CSS = """
    ChoiceScreen { align: center middle; }
    ChoiceScreen > Vertical { width: 96; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1; }
    ChoiceScreen .title { text-style: bold; width: 100%; }
    ChoiceScreen .hint { color: $text-muted; }
    ChoiceScreen OptionList { height: auto; max-height: 12; }
    """
    BINDINGS = [Binding("escape", "cancel", BACK, id="choice-cancel")]

    def __init__(self, title: str, choices: Sequence[tuple[str, str]], current: str,
                 hint: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.choices = tuple(choices)
        self.current = current
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(escape(self.title_text), classes="title")
            options = []
            for value, meaning in self.choices:
                now = "  [b](now)[/b]" if value == self.current else ""
                options.append(Option(f"[b]{escape(value)}[/b]  {escape(meaning)}{now}",
                                      id=value))
            yield OptionList(*options, id="choices")
            yield Static(escape(self.hint) + ("\n" if self.hint else "")
                         + "Enter chooses · Esc leaves it as it is", classes="hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        values = [v for v, _ in self.choices]
        options.highlighted = values.index(self.current) if self.current in values else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        value = event.option.id
        self.dismiss(None if value == self.current else value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class RolesScreen(ModalScreen[dict[str, str] | None]):
    """The plan's four roles; the answer holds only the roles whose holder changed."""

    DEFAULT_CSS = """
    RolesScreen { align: center middle; }
    RolesScreen > Vertical { width: 96; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1; }
    RolesScreen .title { text-style: bold; margin-bottom: 1; }
    RolesScreen .hint { color: $text-muted; }
    RolesScreen .row { height: 1; margin-bottom: 1; }
    RolesScreen .row Label { width: 6; text-style: bold; }
    RolesScreen .row Input { width: 28; }
    RolesScreen .row Static { width: 1fr; padding-left: 2; color: $text-muted; }
    RolesScreen #buttons { height: auto; align-horizontal: right; margin-top: 1; }
    RolesScreen Button { margin-left: 2; }
    """
    BINDINGS = [Binding("escape", "cancel", BACK, id="roles-cancel")]

    def __init__(self, number: str, roles: Mapping[str, str], me: str) -> None:
        super().__init__()
        self.number = number
        self.roles = dict(roles)
        self.me = me

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Roles for {self.number}", classes="title")
            for role, meaning in ROLE_HELP.items():
                with Horizontal(classes="row"):
                    yield Label(role)
                    yield Input(visible(self.roles.get(role, "")), id=f"role-{role}",
                                placeholder="nobody", compact=True)
                    yield Static(meaning)
            yield Static(f"Handovers are recorded (who held it before). An empty name frees "
                         f"the role. You are {self.me}.", classes="hint")
            with Horizontal(id="buttons"):
                yield Button(BACK, id="cancel")
                yield Button("Assign", id="assign", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#role-IC", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "assign":
            self._submit()
        else:
            self.dismiss(None)

    def _submit(self) -> None:
        changed = {}
        for role in ROLE_HELP:
            name = " ".join(self.query_one(f"#role-{role}", Input).value.split())
            if name != self.roles.get(role, ""):
                changed[role] = name
        self.dismiss(changed)

    def action_cancel(self) -> None:
        self.dismiss(None)
