"""A drill's score, shown when its incident is resolved (in this war room or another
terminal on the same log): each measure with its points, the remedies run, the verdict."""

from __future__ import annotations

from datetime import tzinfo

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from luckytui.drills.report import render_score
from luckytui.drills.score import DrillScore
from widgets.safe import safe_text


class DrillScoreScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    DrillScoreScreen { align: center middle; }
    DrillScoreScreen > VerticalScroll { width: 120; max-width: 100%; height: auto;
        max-height: 90%; border: round $accent; background: $surface; padding: 0 1; }
    DrillScoreScreen #drill-heading { text-style: bold; }
    """
    BINDINGS = [Binding("escape,enter,q", "dismiss", "Close", id="close-drill-score")]

    def __init__(self, score: DrillScore, *, tz: tzinfo | None = None) -> None:
        super().__init__()
        self.score = score
        self.lines = render_score(score, tz=tz)

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(safe_text("Drill score  (Esc closes)"), id="drill-heading")
            # one line a measure: the lines are outside text, made safe line by line
            yield Static(safe_text(Text("\n".join(self.lines))), id="drill-score")
