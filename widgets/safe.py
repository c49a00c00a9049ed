"""Rich text made safe for the terminal: the one place a widget passes styled text
through :func:`luckytui.text.visible` (one character for one, so every style still
covers what it covered)."""

from __future__ import annotations

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


WORD_JOINER = "\u2060"


def markup_safe(value: object) -> str:
    """Outside text (a name, a command, a title) for a line of Textual markup: control
    characters shown, every opening bracket escaped.

    Textual reads any ``[WORD]`` as a tag, upper case too (``PID [BACKEND_START]`` lost
    its argument), and a backslash escapes only the bracket after it: so each ``[``
    gets one backslash, whatever comes before or after it. A bracket after a backslash
    is never a tag in Textual, so a trailing backslash would swallow the tag that
    follows it: a word joiner (zero width) stands between them."""
    shown = visible(value, multiline=True).replace("[", "\\[")
    return shown + WORD_JOINER if shown.endswith("\\") else shown
