"""The confirmation every change to production passes: exactly what will happen.

Every dialog of the war room words its two ways out the same: the way back is
"Back" (Esc), the change is named by what it does ("Scale", "Stop query 4242"),
never by a word the dialog's question could also mean, such as Cancel.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from luckytui.mitigations.base import Plan
from luckytui.text import visible
from widgets.safe import markup_safe as escape

BACK = "Back"
"""The label of every dialog's way back (Esc): never a word an action could mean."""
GO_LABELS = {
    "scale": "Scale", "restart": "Restart", "cordon": "Cordon", "uncordon": "Uncordon",
    "set-env": "Set it", "run-job": "Run the job", "emergency-scale": "Scale up",
    "cancel": "Stop query {pid}", "terminate": "Terminate {pid}",
    "terminate-long": "Terminate them", "terminate-idle": "Terminate them",
    "read-only": "Change it", "cache-clear": "Flush the cache",
}


def wording(plan: Plan) -> tuple[str, str]:
    """The dialog's question and its action button's label for ``plan``."""
    title = plan.title
    if plan.action == "cancel":  # pg_cancel_backend: "Cancel" would read as the way back
        title = "Stop the running query of " + title.removeprefix("Cancel ")
    label = GO_LABELS.get(plan.action, "Run it").format(pid=plan.args.get("pid", ""))
    return f"{title}?", label.strip()


class ConfirmScreen(ModalScreen[bool]):
    """Back is focused; bulk actions need the target's name typed, and then the
    typing box has the focus (Enter with the name typed confirms)."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical { width: 96; max-width: 100%; height: auto; max-height: 100%;
        border: thick $warning; background: $surface; padding: 0 1; }
    ConfirmScreen .title { text-style: bold; color: $warning; margin-bottom: 1; }
    ConfirmScreen VerticalScroll { height: auto; max-height: 16; }
    ConfirmScreen Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    ConfirmScreen Button { margin-left: 2; }
    """
    BINDINGS = [Binding("escape", "cancel", BACK, id="confirm-cancel",
                        tooltip="Change nothing")]

    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.plan = plan

    def compose(self) -> ComposeResult:
        p = self.plan
        lines = [f"[b]target[/b]      {escape(p.target)}"]
        lines += [f"[b]{escape(c.what)}[/b]  {escape(c.before)} → [b]{escape(c.after)}[/b]"
                  for c in p.changes]
        lines.append(f"[b]equivalent[/b]  {escape(p.command)}")
        if p.dry_run:
            lines.append(f"[b]dry run[/b]     {escape(p.dry_run)}")
        if p.touches:
            lines.append(f"[b]touches[/b]     {len(p.touches)}:")
            lines += [f"  {escape(t)}" for t in p.touches]
        question, go = wording(p)
        with Vertical():
            yield Label(f"⚠ {escape(question)}", classes="title")
            with VerticalScroll():
                yield Static("\n".join(lines))
            if p.typed_confirmation:
                yield Label(f"Type {escape(p.typed_confirmation)} to confirm:")
                yield Input(id="typed")
            with Horizontal():
                yield Button(BACK, id="cancel")
                yield Button(escape(go), id="confirm", variant="error",
                             disabled=bool(p.typed_confirmation))

    def on_mount(self) -> None:
        # typing goes where the user expects: into the box that asks for the name
        self.query_one("#typed" if self.plan.typed_confirmation else "#cancel").focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#confirm", Button).disabled = (
            event.value.strip() != self.plan.typed_confirmation)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.plan.typed_confirmation:
            self.dismiss(True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm")

    def action_cancel(self) -> None:
        self.dismiss(False)


class AskScreen(ModalScreen[str | None]):
    """One value before a plan can be made (the replica count, KEY=VALUE)."""

    DEFAULT_CSS = """
    AskScreen { align: center middle; }
    AskScreen > Vertical { width: 72; max-width: 100%; height: auto;
        border: round $accent; background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape", "cancel", BACK, id="ask-cancel")]

    def __init__(self, question: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.question, self.value, self.placeholder = question, value, placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(visible(self.question)))  # names from the cluster: not markup
            # the current value selected: typing replaces it
            yield Input(visible(self.value), placeholder=self.placeholder, id="answer",
                        select_on_focus=True)
            yield Label("Enter to continue (nothing changes before the confirmation), "
                        "Esc to go back", classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())  # may be empty: the defaults; Esc is None

    def action_cancel(self) -> None:
        self.dismiss(None)
