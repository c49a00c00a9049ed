"""The one error every outside system's adapter raises, and its one-line text.

A `SourceError` carries a message meant for the screen as it is; `one_line`
turns any exception into a short single line for a pane's status or a remedy's
outcome.
"""

from __future__ import annotations

import asyncio


class SourceError(Exception):
    """A source could not produce a snapshot; the message is one line for the screen."""


def one_line(exc: BaseException, limit: int = 160) -> str:
    """A short, single-line description of an exception, for a pane's status line."""
    if isinstance(exc, TimeoutError | asyncio.TimeoutError) and not str(exc):
        text = "timed out"
    else:
        text = str(exc) or type(exc).__name__
        if not isinstance(exc, SourceError):
            text = f"{type(exc).__name__}: {text}"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
