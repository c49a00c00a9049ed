"""Every key, read from the live bindings, so the list can never drift."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 72; max-width: 100%; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="close-help")]

    def __init__(self, keys: Sequence[tuple[str, str]]) -> None:
        """`keys`: (key as shown, what it does), in the order to show."""
        super().__init__()
        self.keys = list(keys)

    def compose(self) -> ComposeResult:
        lines = ["[b]Keys[/b]  (Esc closes)", ""]
        lines += [f"  [b]{key:>12}[/b]  {text}" for key, text in self.keys]
        lines += ["", f"  [b]{'ctrl+p':>12}[/b]  Command palette: every action by name"]
        with VerticalScroll():
            yield Static("\n".join(lines), markup=True)
