"""A runbook as a checklist: each step ticked as it is done, checks and remedies one key away."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from luckytui.runbooks import Runbook, Step
from widgets.safe import markup_safe as escape

READ_ONLY_HINT = "read-only: remedies are not offered; do it from a war room that may change"
# what the screen answers: ("pane", name) | ("act", name, *args) | None
Choice = tuple[str, ...] | None


class RunbookScreen(ModalScreen[Choice]):
    DEFAULT_CSS = """
    RunbookScreen { align: center middle; }
    RunbookScreen > Vertical { width: 110; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1; }
    RunbookScreen .title { text-style: bold; }
    RunbookScreen .hint { color: $text-muted; }
    RunbookScreen OptionList { height: auto; max-height: 20; }
    """
    BINDINGS = [
        Binding("space", "tick", "Tick / untick", id="runbook-tick"),
        Binding("escape", "close", "Close", id="runbook-close"),
    ]

    def __init__(self, runbook: Runbook, ticked: set[int],
                 on_tick: Callable[[int, bool], None], *, remedies: bool = True) -> None:
        """``remedies``: False when read-only (a remedy step is then only a note)."""
        super().__init__()
        self.runbook = runbook
        self.ticked = set(ticked)
        self.on_tick = on_tick
        self.remedies = remedies
        self.chosen: int | None = None  # the step whose check or remedy was chosen

    def _prompt(self, i: int, step: Step) -> str:
        box = "☑" if i in self.ticked else "☐"
        note = step.note or (READ_ONLY_HINT if step.action and not self.remedies else None)
        detail = f"  [dim]{escape(note)}[/dim]" if note else ""
        return f"{box} {i + 1}. [b]{step.kind}[/b]  {escape(step.text)}{detail}"

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Runbook: {escape(self.runbook.title)}", classes="title")
            yield OptionList(*[Option(self._prompt(i, s), id=str(i))
                               for i, s in enumerate(self.runbook.steps)], id="steps")
            yield Label("Space ticks a step (recorded) · Enter: a check shows its pane, a "
                        "remedy is planned and confirmed (ticked once it succeeds) · Esc "
                        "closes", classes="hint")

    def on_mount(self) -> None:
        steps = self.query_one("#steps", OptionList)
        steps.highlighted = next((i for i in range(len(self.runbook.steps))
                                  if i not in self.ticked), 0)
        steps.focus()

    def action_tick(self) -> None:
        steps = self.query_one("#steps", OptionList)
        i = steps.highlighted
        if i is None:
            return
        now = i not in self.ticked
        (self.ticked.add if now else self.ticked.discard)(i)
        steps.replace_option_prompt_at_index(i, self._prompt(i, self.runbook.steps[i]))
        self.on_tick(i, now)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        step = self.runbook.steps[event.option_index]
        if step.action and not self.remedies:
            self.notify(READ_ONLY_HINT, title="Read-only", timeout=6)
        elif step.action:
            self.chosen = event.option_index
            self.dismiss(("act", step.action, *step.args))
        elif step.pane:
            self.chosen = event.option_index
            self.dismiss(("pane", step.pane))
        else:
            self.notify(step.note or step.text, title="Outside luckytui", timeout=8)

    def action_close(self) -> None:
        self.dismiss(None)


class RunbookPicker(ModalScreen[str | None]):
    """Every runbook; those of firing alerts first."""

    DEFAULT_CSS = """
    RunbookPicker { align: center middle; }
    RunbookPicker > Vertical { width: 80; max-width: 100%; height: auto;
        border: round $accent; background: $surface; padding: 0 1; }
    RunbookPicker OptionList { height: auto; max-height: 16; }
    """
    BINDINGS = [Binding("escape", "close", "Close", id="picker-close")]

    def __init__(self, runbooks: Sequence[Runbook], firing: set[str]) -> None:
        super().__init__()
        self.runbooks = sorted(runbooks, key=lambda r: r.alert not in firing)
        self.firing = firing

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Runbooks (the plan's)", classes="title")
            yield OptionList(*[
                Option(("[b red]▲ firing[/] " if r.alert in self.firing else "")
                       + escape(r.title), id=r.id) for r in self.runbooks], id="books")

    def on_mount(self) -> None:
        self.query_one("#books", OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_close(self) -> None:
        self.dismiss(None)


class ActionPicker(ModalScreen[str | None]):
    """Every remedy this war room offers, by name: the keyboard's way to `luckytui act`."""

    DEFAULT_CSS = """
    ActionPicker { align: center middle; }
    ActionPicker > Vertical { width: 100; max-width: 100%; height: auto;
        border: round $accent; background: $surface; padding: 0 1; }
    ActionPicker OptionList { height: auto; max-height: 20; }
    """
    BINDINGS = [Binding("escape", "close", "Close", id="actions-close")]

    def __init__(self, actions: Sequence[tuple[str, str, str]]) -> None:
        """`actions`: (name, usage, summary)."""
        super().__init__()
        self.actions = list(actions)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Remedies (each is planned, dry-run and confirmed before it runs)",
                        classes="title")
            yield OptionList(*[
                Option(f"[b]{escape(name)}[/b] {escape(usage)}  [dim]{escape(summary)}[/dim]",
                       id=name) for name, usage, summary in self.actions], id="actions")

    def on_mount(self) -> None:
        self.query_one("#actions", OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_close(self) -> None:
        self.dismiss(None)
