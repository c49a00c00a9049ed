"""Rich text made safe for the terminal: the one place a widget passes styled text
through :func:`luckytui.text.visible` (one character for one, so every style still
covers what it covered)."""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text

from luckytui.text import visible


def safe_text(text: Text | str) -> Text:
    """``text`` with control characters shown, never sent; a str becomes plain Text."""
    if isinstance(text, str):
        return Text(visible(text), end="")
    plain = text.plain
    shown = visible(plain, multiline=True)
    if shown != plain:
        text = text.copy()
        text.plain = shown  # same length: the spans stay where they were
    return text


def markup_safe(value: object) -> str:
    """Outside text (a name, a command, a title) for a line of Textual markup: control
    characters shown, markup brackets escaped."""
    return escape(visible(value, multiline=True))
