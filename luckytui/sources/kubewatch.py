"""A namespace's pods kept current by one list and then a watch, as kubectl -w and
every controller do: once listed, a refresh costs nothing when nothing changed,
and each change costs one object, not the whole list (2,000 pods are ~2.5 MB of
JSON a list). The API server's load drops the same way.

The watch runs in its own thread (the client is synchronous). A watch the server
ends (its timeoutSeconds) is resumed from the last resourceVersion; a version too
old (410 Gone) or a broken connection means a fresh list. A server that does not
serve watches (405, 404, 501) makes the source poll lists, as before.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

log = logging.getLogger(__name__)

WATCH_TIMEOUT_S = 60  # asked of the server; it ends the watch, we resume
READ_TIMEOUT_S = 90.0  # a watch silent longer than this (no bookmark either) is dead
RETRY_MAX_S = 5.0
UNSUPPORTED = (404, 405, 501)


class WatchGone(Exception):
    """The server no longer has the version we resume from: list again."""


class PodWatch:
    def __init__(self, list_pods: Callable[[], tuple[list[Any], str]],
                 open_watch: Callable[[str], Any], max_event: int = 8 * 1024 * 1024) -> None:
        """list_pods() -> (items, resourceVersion); open_watch(rv) -> a streaming
        response (urllib3-like: .status, .stream(), .close()) or raises. An event
        longer than `max_event` bytes ends the watch (a fresh list follows)."""
        self._list_pods = list_pods
        self._open_watch = open_watch
        self._max_event = max_event
        self._lock = threading.Lock()
        self._pods: dict[str, Any] = {}
        self._rv: str | None = None
        self._stop = threading.Event()
        self._response: Any = None
        self.ready = threading.Event()  # set after each list (good or failed)
        self.synced = False  # the pods are the server's, kept current
        self.error: BaseException | None = None  # why not, when not
        self.unsupported = False  # the server does not watch: poll instead
        self.changes = 0  # events applied (for tests and the debug log)
        self._thread = threading.Thread(target=self._run, name="pod watch", daemon=True)

    def start(self) -> PodWatch:
        self._thread.start()
        return self

    def items(self) -> list[Any]:
        with self._lock:
            return list(self._pods.values())

    def stop(self) -> None:
        """Stop at once: the stream's socket is shut down under the reading thread
        (closing the response from here would wait for its read to return, which a
        quiet watch may not do for a minute)."""
        self._stop.set()
        response = self._response
        if response is not None:
            _abort(response)
        self._thread.join(timeout=2.0)

    # --- the thread ---------------------------------------------------------------

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                if self._rv is None:
                    self._relist()
                self._follow()
                backoff = 0.5
            except WatchGone:
                self._rv = None  # list again, at once
            except Exception as exc:
                if self._stop.is_set():
                    return
                status = getattr(exc, "status", None)
                if status in UNSUPPORTED and self.synced and self._rv is not None:
                    log.debug("the API server does not serve watches (%s): polling", status)
                    self.unsupported = True
                    self.ready.set()
                    return
                log.debug("pod watch failed: %s", exc)
                with self._lock:
                    self.synced, self.error, self._rv = False, exc, None
                self.ready.set()
                self._stop.wait(backoff)
                backoff = min(RETRY_MAX_S, backoff * 2)

    def _relist(self) -> None:
        items, rv = self._list_pods()
        with self._lock:
            self._pods = {_name(i): i for i in items}
            self._rv = rv
            self.synced, self.error = True, None
        self.ready.set()

    def _follow(self) -> None:
        assert self._rv is not None
        response = self._open_watch(self._rv)
        self._response = response
        try:
            for line in _lines(response, self._max_event):
                if self._stop.is_set():
                    return
                self._apply(json.loads(line))
        finally:
            self._response = None
            with contextlib.suppress(Exception):
                response.close()

    def _apply(self, event: Any) -> None:
        kind = event.get("type") if isinstance(event, dict) else None
        obj = event.get("object") if isinstance(event, dict) else None
        if not isinstance(obj, dict):
            raise ValueError("the API server sent a watch event without an object")
        if kind == "ERROR":
            if obj.get("code") == 410:
                raise WatchGone(obj.get("message"))
            raise ValueError(f"watch: {obj.get('message') or obj}")
        meta = obj.get("metadata") or {}
        with self._lock:
            if kind in ("ADDED", "MODIFIED"):
                self._pods[_name(obj)] = obj
            elif kind == "DELETED":
                self._pods.pop(_name(obj), None)
            elif kind != "BOOKMARK":
                raise ValueError(f"watch: unknown event type {kind!r}")
            if meta.get("resourceVersion"):
                self._rv = str(meta["resourceVersion"])
            self.changes += kind != "BOOKMARK"


def _abort(response: Any) -> None:
    """Shut the streaming response's socket down, from another thread."""
    sock = getattr(getattr(response, "connection", None), "sock", None)
    if sock is None:  # urllib3 without the connection: the file object's socket
        raw = getattr(getattr(getattr(response, "_fp", None), "fp", None), "raw", None)
        sock = getattr(raw, "_sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    else:
        with contextlib.suppress(Exception):
            response.close()


def _name(obj: Any) -> str:
    return str(obj["metadata"]["name"])


def _lines(response: Any, max_line: int) -> Iterator[bytes]:
    """The stream's lines, as each chunk arrives; a line over `max_line` bytes (an
    endless event) is an error, not a growing buffer."""
    from luckytui.systems.http import AnswerLimit

    pending = b""
    for chunk in response.stream(65536, decode_content=True):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if len(line) > max_line:
                raise AnswerLimit(max_line).too_large()
            if line.strip():
                yield line
        if len(pending) > max_line:
            raise AnswerLimit(max_line).too_large()
    if pending.strip():
        yield pending

