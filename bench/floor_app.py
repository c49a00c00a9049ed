"""The floor: a bare Textual app (header, a 200-row table, footer) and a help modal.

    .venv/bin/python bench/floor_app.py

Nothing but Textual is imported, so its time to first frame is what any Textual
app pays on this machine (`bench/first_frame.py --floor` times it like the
demo), and the time `?` takes to draw its help modal, built like luckytui's
(a bordered scrolling box of key lines over the dimmed screen), is what any
Textual app pays to answer that key (`bench/keys.py --floor`).
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Header, Static

ROWS = 200
FRAME_MARK = "floor-000"  # the first row's name: on screen once the table is painted
COLUMNS = ("NAME", "STATUS", "CPU m", "MEMORY Mi", "RESTARTS", "AGE")


def row(i: int) -> tuple[str, ...]:
    return (f"floor-{i:03d}", "Running", str(100 + i * 7 % 900), str(128 + i * 13 % 2048),
            str(i % 4), f"{i % 30}d")


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 72; max-width: 100%; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        lines = ["[b]Keys[/b]  (Esc closes)", ""]
        lines += [f"  [b]{'key ' + str(i):>12}[/b]  what key {i} does" for i in range(30)]
        with VerticalScroll():
            yield Static("\n".join(lines), markup=True)


class FloorApp(App[None]):
    TITLE = "floor"
    BINDINGS = [Binding("q", "quit", "Quit"), Binding("question_mark", "help", "Keys")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        table.add_rows(row(i) for i in range(ROWS))

    def action_help(self) -> None:
        self.push_screen(HelpScreen())


if __name__ == "__main__":
    FloorApp().run()
