"""Composing a status update or the customer notice: the plan's text, edited by a human.

The screen only returns the final text; the app copies it to the clipboard and records
it as sent.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static, TextArea

from luckytui.incident.model import Incident
from luckytui.text import visible
from screens.confirm import BACK
from screens.incident import FORM_CSS
from widgets.safe import markup_safe as escape

SEND_HINT = ("Copy & record (ctrl+s): copies to the clipboard (OSC 52: works over SSH; "
             "in tmux needs set-clipboard on) and records it as sent. Esc goes back "
             "(nothing copied or recorded).")
EMPTY_HINT = "Nothing to send: the text is empty."


TMUX_ASK_S = 1.0  # how long tmux may take to say whether it passes copies on


async def clipboard_reachable(env: Mapping[str, str] | None = None) -> str | None:
    """None when an OSC 52 copy can reach the clipboard, else why not.

    Outside tmux the terminal decides (most do; nothing here can tell). Inside tmux
    (TMUX set), tmux passes an application's copy on only with `set-clipboard on`;
    its default, `external`, drops it."""
    env = os.environ if env is None else env
    if not env.get("TMUX"):
        return None
    try:
        proc = await asyncio.create_subprocess_exec(
            "tmux", "show-options", "-gv", "set-clipboard", stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, env=dict(env))
    except OSError:
        return "inside tmux, and tmux could not be asked whether it passes copies on"
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), TMUX_ASK_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return "inside tmux, and tmux did not say whether it passes copies on"
    value = out.decode(errors="replace").strip()
    if proc.returncode == 0 and value == "on":
        return None
    return (f"inside tmux, whose set-clipboard is {value or 'unknown'}: it does not pass "
            "the copy on (set -g set-clipboard on in ~/.tmux.conf)")


def save_new(directory: Path, stem: str, text: str) -> Path:
    """Write ``text`` to stem.txt in ``directory`` (stem-2.txt… when taken: never over an
    existing file), readable by its owner only; the path written."""
    n = 1
    while True:
        path = directory / (f"{stem}.txt" if n == 1 else f"{stem}-{n}.txt")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            n += 1
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(fd, 0o600)
            f.write(text + "\n")
        return path


def final_text(text: str) -> str:
    """Trailing spaces off every line, blank lines off both ends."""
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")


class ComposerScreen(ModalScreen[str | None]):
    """An editable message; dismissed with the text to send, or None."""

    DEFAULT_CSS = FORM_CSS.format(name="ComposerScreen") + """
    ComposerScreen > Vertical { width: 100; }
    ComposerScreen TextArea { height: 14; }
    ComposerScreen #problem { color: $error; }
    """
    BINDINGS = [
        Binding("escape", "cancel", BACK, id="composer-cancel",
                tooltip="Close without copying or recording anything"),
        Binding("ctrl+s", "send", "Copy & record", id="composer-send",
                tooltip="Copy the text to the clipboard and record it as sent"),
    ]

    def __init__(self, text: str, *, title: str, hint: str = SEND_HINT) -> None:
        super().__init__()
        self.text = text
        self.heading = title
        self.hint = hint

    @classmethod
    def status_update(cls, inc: Incident, text: str) -> ComposerScreen:
        return cls(text, title=f"Status update — {inc.number} {inc.severity}")

    @classmethod
    def customer_notice(cls, inc: Incident, text: str) -> ComposerScreen:
        return cls(text, title=f"Customer notice (P1) — {inc.number}")

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(escape(self.heading), classes="title")
            yield TextArea(visible(self.text, multiline=True), id="text", soft_wrap=True)
            yield Static(escape(self.hint), classes="hint")
            yield Static("", id="problem")
            with Horizontal():
                yield Button(BACK, id="cancel")
                yield Button("Copy & record", id="send", variant="primary")

    def on_mount(self) -> None:
        area = self.query_one("#text", TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if event.text_area.text.strip():
            self.query_one("#problem", Static).update("")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "send":
            self.action_send()
        else:
            self.dismiss(None)

    def action_send(self) -> None:
        text = final_text(self.query_one("#text", TextArea).text)
        if not text.strip():
            self.query_one("#problem", Static).update(EMPTY_HINT)
            self.query_one("#text", TextArea).focus()
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
