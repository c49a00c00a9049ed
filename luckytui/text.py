"""Outside text made safe for a terminal.

Alert labels and annotations, notes, query texts, pod and endpoint names,
config values and error messages all come from outside. Any of them can carry
bytes a terminal interprets: one note holding ``ESC[2J`` would wipe every war
room screen showing the timeline, ``ESC]52;`` writes to the reader's clipboard,
a carriage return overwrites the start of a line, and Unicode's bidirectional
overrides make text read differently from what it holds.

:func:`visible` is the one gate: control characters are *shown* (ESC as ``␛``,
the other C0 codes as their Unicode control pictures, C1 codes and the
invisible bidirectional controls as ``�``), never interpreted. It keeps every
other character, so what the reader sees still says what was sent.
"""

from __future__ import annotations

import io
from typing import TextIO

# the C0 controls and DEL as their Unicode "control pictures" (U+2400 block): ␛ ␀ ␇ ␡
_PICTURES = {c: chr(0x2400 + c) for c in range(0x20)} | {0x7F: "\u2421"}
# C1 controls (a lone 0x9B is a CSI on some terminals) and the invisible characters that
# reorder or hide text: shown as the replacement character
_INVISIBLE = [*range(0x80, 0xA0), 0x200E, 0x200F, *range(0x202A, 0x202F),
              *range(0x2066, 0x206A), 0x2028, 0x2029, 0x061C, 0xFFF9, 0xFFFA, 0xFFFB]
_CODES = {c: "\ufffd" for c in _INVISIBLE}
# one character for one: styled spans over the text still fall where they did
_ONE_LINE = str.maketrans({**_PICTURES, **_CODES, 0x09: " ", 0x0A: "⏎"})
_MULTI_LINE = str.maketrans({**_PICTURES, **_CODES, 0x09: "\t", 0x0A: "\n"})


def visible(text: object, *, multiline: bool = False) -> str:
    """``text`` (any value: it is turned into a string) with nothing a terminal would
    interpret: control characters shown as visible symbols, one for one (the result is
    as long as the text, so styles laid over it stay in place).

    On one line (the default) a tab is a space and a line break is shown as ``⏎``; with
    ``multiline`` line breaks and tabs are kept. A carriage return is always shown
    (``␍``), never allowed to move the cursor back.
    """
    s = text if isinstance(text, str) else str(text)
    if s.isascii() and s.isprintable():
        return s  # the common case costs one scan
    return s.translate(_MULTI_LINE if multiline else _ONE_LINE)


def is_safe(text: str, *, multiline: bool = False) -> bool:
    """True when ``visible(text)`` would change nothing."""
    return visible(text, multiline=multiline) == text


class SafeStream(io.TextIOBase):
    """A text stream that passes everything written through :func:`visible` (line
    breaks and tabs kept): the command line's output cannot carry a terminal escape,
    whatever a record, a config value or an error message holds."""

    def __init__(self, raw: TextIO) -> None:
        self._raw = raw

    def write(self, s: str) -> int:
        self._raw.write(visible(s, multiline=True))
        return len(s)

    def flush(self) -> None:
        self._raw.flush()

    def isatty(self) -> bool:
        return self._raw.isatty()

    def fileno(self) -> int:
        return self._raw.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._raw, "encoding", "utf-8")


def unwrapped(stream: TextIO) -> TextIO:
    """The stream a SafeStream writes to (any other stream as it is)."""
    return stream._raw if isinstance(stream, SafeStream) else stream


def say_error(problem: object, *, prog: str = "luckytui") -> None:
    """One line on standard error: ``luckytui: <problem>``, whatever the problem's text
    holds (line breaks and escapes shown, not obeyed)."""
    import sys

    print(f"{prog}: {visible(problem)}", file=sys.stderr)
