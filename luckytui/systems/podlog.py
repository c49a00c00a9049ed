"""A pod's log as the war room shows it: bounded, secrets hidden, nothing a terminal
would interpret.

A log is outside text written by any process in the pod: a line can hold terminal
escapes (``ESC[2J`` would wipe the screen), a password a service printed, or a
megabyte with no line break. Each line is redacted (:func:`luckytui.redact.redact_text`),
made visible (:func:`luckytui.text.visible`) and cut at `LINE_MAX` characters; a
read stops at its byte limit and says so; a follow stream ends past its bytes or
time.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from luckytui.redact import redact_text
from luckytui.systems.http import CHUNK, AnswerLimit, size_text
from luckytui.text import visible

if TYPE_CHECKING:
    from luckytui.systems.kubernetes import KubeOps

LOG_MAX_BYTES = 1024 * 1024  # one log read, as received
LINE_MAX = 2000  # characters of one line shown
FOLLOW_MAX_BYTES = 16 * 1024 * 1024  # one follow stream, then it ends with a note
FOLLOW_MAX_S = 3600.0


@dataclass(frozen=True, slots=True)
class LogLines:
    """Cleaned log lines, oldest first; `note` says what is not shown ("" if nothing)."""

    lines: tuple[str, ...]
    note: str = ""
    previous: bool = False  # the previous container's log


def clean_line(line: str) -> str:
    """One log line fit for the screen: secrets hidden, control characters shown,
    at most LINE_MAX characters."""
    line = line.removesuffix("\r")
    if len(line) > LINE_MAX:
        line = line[: LINE_MAX - 1] + "…"
    return visible(redact_text(line))


def read_capped(response: Any, max_bytes: int, deadline: float,
                 limit: AnswerLimit) -> tuple[bytes, bool]:
    """Up to `max_bytes` of the body, and whether there was more (then the connection
    is closed, not reused half read); AnswerTooSlow past the deadline."""
    body = bytearray()
    try:
        while len(body) <= max_bytes:
            chunk = response.read1(CHUNK, decode_content=True)
            if not chunk:
                response.release_conn()
                return bytes(body), False
            body += chunk
            if time.monotonic() > deadline:
                raise limit.too_slow()
    except BaseException:
        response.close()
        raise
    response.close()
    return bytes(body[:max_bytes]), True



class LogFollow:
    """A pod's new log lines as they are written (`kubectl logs -f`): iterate for
    batches of cleaned lines; `close()` from any thread ends it. It ends by itself
    past `max_bytes` or `max_s`, or when the server closes it; `note` says why."""

    def __init__(self, ops: KubeOps, path: str, name: str, *, max_bytes: int = FOLLOW_MAX_BYTES,
                 max_s: float = FOLLOW_MAX_S) -> None:
        self.ops, self.path, self.name = ops, path, name
        self.max_bytes, self.max_s = max_bytes, max_s
        self.note = ""
        self._response: Any = None
        self._closed = threading.Event()

    @property
    def opened(self) -> bool:
        """The server has answered: every line written from now on comes through."""
        return self._response is not None

    def close(self) -> None:
        self._closed.set()
        response = self._response
        if response is not None:
            with contextlib.suppress(Exception):  # best effort
                response.shutdown()  # wakes a read blocked in another thread

    def __iter__(self) -> Iterator[list[str]]:
        query = [("follow", "true"), ("tailLines", "0")]
        response = self.ops._open(self.path, {"name": self.name}, query, stream=True,
                                  missing=self.ops._in_ns("pod", self.name))
        self._response = response
        if self._closed.is_set():
            self.close()
        end = time.monotonic() + self.max_s
        received, partial = 0, b""
        try:
            while not self._closed.is_set():
                try:
                    chunk = response.read1(CHUNK, decode_content=True)
                except Exception:
                    if self._closed.is_set():
                        break
                    self.note = "the log stream broke off"
                    break
                if not chunk:
                    self.note = self.note or "the server ended the log stream"
                    break
                received += len(chunk)
                *whole, partial = (partial + chunk).split(b"\n")
                if len(partial) > LOG_MAX_BYTES:  # a line without end: shown cut
                    whole, partial = [*whole, partial], b""
                if whole:
                    yield [clean_line(b.decode(errors="replace")) for b in whole]
                if received > self.max_bytes:
                    self.note = f"follow stopped after {size_text(self.max_bytes)}"
                    break
                if time.monotonic() > end:
                    self.note = f"follow stopped after {self.max_s:g} s"
                    break
        finally:
            self.close()
