"""The polling loop every source runs in, and the error every source raises.

A source is anything with a `name` and an `async fetch()` that returns one
snapshot. The `Poller` calls it on an interval, bounds each call by a timeout,
never overlaps two calls (the next poll is scheduled after the last one ends),
and turns every failure into a `SourceState` with one readable line, keeping
the last good snapshot so the pane can go on showing it with its age.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, Protocol, TypeVar

from luckytui.snapshots import SourceState, SourceStatus
from luckytui.systems.errors import SourceError, one_line

__all__ = ["Poller", "Source", "SourceError", "Update", "one_line", "staleness", "utcnow"]

log = logging.getLogger(__name__)

S_co = TypeVar("S_co", covariant=True)
S = TypeVar("S")



class Source(Protocol[S_co]):
    name: str

    async def fetch(self) -> S_co: ...

    async def aclose(self) -> None: ...



@dataclass(frozen=True, slots=True)
class Update(Generic[S]):
    """What a poller publishes after each poll: the state, and the new data if any."""

    source: str
    state: SourceState
    snapshot: S | None  # None when this poll failed


def utcnow() -> datetime:
    return datetime.now(UTC)


class Poller(Generic[S]):
    """Runs one source: poll, publish, wait, repeat, until cancelled.

    After a failure the next try comes sooner (a quarter of the interval, then
    doubling) but never later than the interval, so a source recovers within
    one interval of its service coming back.
    """

    def __init__(
        self,
        source: Source[S],
        publish: Callable[[Update[S]], None],
        *,
        interval: float = 2.0,
        timeout: float = 10.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.source = source
        self.publish = publish
        self.interval = interval
        self.timeout = timeout
        self.clock = clock
        self.state = SourceState(source.name, SourceStatus.CONNECTING)
        self._wake = asyncio.Event()

    def poll_now(self) -> None:
        """Skip the rest of the wait: poll at once (after an action changed things)."""
        self._wake.set()

    async def poll_once(self) -> Update[S]:
        try:
            snapshot = await asyncio.wait_for(self.source.fetch(), self.timeout)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every failure becomes a state, never a crash
            if not isinstance(exc, SourceError | TimeoutError):
                log.debug("source %s failed", self.source.name, exc_info=True)
            error = (
                f"timed out after {self.timeout:g} s"
                if isinstance(exc, TimeoutError) and not str(exc)
                else one_line(exc)
            )
            self.state = SourceState(
                self.source.name,
                SourceStatus.FAILING,
                last_ok=self.state.last_ok,
                error=error,
                failures=self.state.failures + 1,
            )
            update: Update[S] = Update(self.source.name, self.state, None)
        else:
            self.state = SourceState(self.source.name, SourceStatus.OK, last_ok=self.clock())
            update = Update(self.source.name, self.state, snapshot)
        self.publish(update)
        return update

    def next_delay(self) -> float:
        if self.state.status is not SourceStatus.FAILING:
            return self.interval
        backoff: float = self.interval / 4 * 2.0 ** (self.state.failures - 1)
        return min(self.interval, backoff)

    async def run(self) -> None:
        try:
            while True:
                await self.poll_once()
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.next_delay())
        finally:
            try:
                await self.source.aclose()
            except Exception:
                log.debug("closing %s failed", self.source.name, exc_info=True)


def staleness(state: SourceState, now: datetime, interval: float) -> SourceState:
    """Mark an OK state STALE when its data is older than three intervals."""
    age = state.age_s(now)
    if state.status is SourceStatus.OK and age is not None and age > 3 * interval:
        return SourceState(state.name, SourceStatus.STALE, state.last_ok, None, state.failures)
    return state
