"""Keeping the war room up when something unexpected raises.

Textual's answer to an exception in a message handler, a timer callback or an
action is to exit the app, and the message loop of the widget that raised
stops on the spot. A war room must not die mid-incident: what raises is
contained where it runs. The pane or action says so in one line; the
traceback goes to the debug log (``--debug-log``), never to the screen.

- ``contained(what)`` decorates a handler, a timer callback or a screen's
  result callback: an exception becomes an error notification naming
  ``what``.
- ``report(node, what, exc)`` does the same for code that catches by itself
  (the app's actions, failed workers).
- Panes catch their own drawing errors (see ``widgets.pane``) and show them in
  their border.

The same error is notified once a minute at most (a failing refresh would
repeat it every few seconds); it is logged the first time and whenever its
line changes.
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
import weakref
from collections.abc import Callable
from typing import Any, TypeVar, cast

from textual.message_pump import MessagePump

from luckytui.sources.base import one_line
from luckytui.text import visible

log = logging.getLogger("luckytui.errors")

F = TypeVar("F", bound=Callable[..., Any])

REPEAT_AFTER_S = 60.0  # the same error is notified again after this long

_seen: weakref.WeakKeyDictionary[Any, dict[str, float]] = weakref.WeakKeyDictionary()


def error_line(exc: BaseException) -> str:
    """One line for the screen: the exception's type and message, shortened."""
    return one_line(exc, limit=120)


def log_once(where: dict[str, str], key: str, line: str, exc: BaseException) -> None:
    """Write ``exc``'s traceback to the debug log unless ``key`` last failed with ``line``."""
    if where.get(key) != line:
        where[key] = line
        log.error("%s: %s", key, line, exc_info=exc)


def report(node: MessagePump, what: str, exc: BaseException) -> None:
    """Log ``exc`` with its traceback and notify "``what`` failed: <error>" (once a minute
    at most for the same line)."""
    line = f"{what} failed: {error_line(exc)}"
    try:
        app = node.app
    except Exception:  # not attached (shutting down): the log is all there is
        log.error("%s", line, exc_info=exc)
        return
    seen = _seen.setdefault(app, {})
    now = time.monotonic()
    if now - seen.get(line, -REPEAT_AFTER_S) < REPEAT_AFTER_S:
        log.debug("%s (again)", line)
        return
    seen[line] = now
    log.error("%s", line, exc_info=exc)
    if app.is_running:
        app.notify(visible(line), severity="error", timeout=10, markup=False)  # outside text


def contained(what: str) -> Callable[[F], F]:
    """Decorate a method of a widget, screen or app (sync or async): an exception in it
    is reported (see ``report``) instead of stopping the app."""

    def decorate(method: F) -> F:
        if inspect.iscoroutinefunction(method):
            @functools.wraps(method)
            async def run_async(self: MessagePump, *args: Any, **kwargs: Any) -> Any:
                try:
                    return await method(self, *args, **kwargs)
                except Exception as exc:
                    report(self, what, exc)
                    return None

            return cast(F, run_async)

        @functools.wraps(method)
        def run(self: MessagePump, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except Exception as exc:
                report(self, what, exc)
                return None

        return cast(F, run)

    return decorate


def guarded(node: MessagePump, what: str, callback: Callable[..., Any]) -> Callable[..., Any]:
    """``callback`` (a closure, e.g. a screen's result callback) contained like a method."""

    @functools.wraps(callback)
    def run(*args: Any) -> Any:
        try:
            return callback(*args)
        except Exception as exc:
            report(node, what, exc)
            return None

    return run
