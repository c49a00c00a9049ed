"""The polling loop: failures become states, recovery is quick, polls never overlap."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from luckytui.snapshots import SourceState, SourceStatus
from luckytui.sources.base import Poller, SourceError, Update, one_line, staleness


class Scripted:
    name = "test"

    def __init__(self, script: list[object]) -> None:
        self.script = script
        self.calls = 0
        self.running = 0
        self.max_running = 0
        self.closed = False

    async def fetch(self) -> object:
        self.calls += 1
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            step = self.script.pop(0) if self.script else "ok"
            if step == "hang":
                await asyncio.sleep(3600)
            if isinstance(step, BaseException):
                raise step
            return step
        finally:
            self.running -= 1

    async def aclose(self) -> None:
        self.closed = True


async def test_failure_keeps_last_good_time_and_recovery_clears_error() -> None:
    updates: list[Update[object]] = []
    source = Scripted(["one", SourceError("connection refused: 127.0.0.1:1"), "two"])
    poller = Poller(source, updates.append, interval=0.2, timeout=1)
    first = await poller.poll_once()
    assert first.snapshot == "one" and first.state.status is SourceStatus.OK
    failed = await poller.poll_once()
    assert failed.snapshot is None and failed.state.status is SourceStatus.FAILING
    assert failed.state.error == "connection refused: 127.0.0.1:1"
    assert failed.state.last_ok == first.state.last_ok and failed.state.failures == 1
    again = await poller.poll_once()
    assert again.state.status is SourceStatus.OK and again.state.error is None
    assert [u.snapshot for u in updates] == ["one", None, "two"]


async def test_hang_is_cut_by_the_timeout_with_a_readable_error() -> None:
    poller = Poller(Scripted(["hang"]), lambda u: None, interval=1, timeout=0.2)
    update = await asyncio.wait_for(poller.poll_once(), 2)
    assert update.state.error == "timed out after 0.2 s"


async def test_unexpected_exception_is_one_line() -> None:
    poller = Poller(Scripted([ValueError("bad\nthing")]), lambda u: None, timeout=1)
    update = await poller.poll_once()
    assert update.state.error == "ValueError: bad thing"


def test_backoff_never_exceeds_the_interval() -> None:
    poller = Poller(Scripted([]), lambda u: None, interval=2.0)
    delays = []
    for failures in range(1, 6):
        poller.state = SourceState("t", SourceStatus.FAILING, failures=failures)
        delays.append(poller.next_delay())
    assert delays == [0.5, 1.0, 2.0, 2.0, 2.0]


async def test_run_polls_in_sequence_recovers_and_closes() -> None:
    updates: list[Update[object]] = []
    source = Scripted([SourceError("down"), SourceError("down"), "back"])
    poller = Poller(source, updates.append, interval=0.1, timeout=1)
    task = asyncio.create_task(poller.run())
    for _ in range(100):
        await asyncio.sleep(0.02)
        if any(u.snapshot == "back" for u in updates):
            break
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert [u.state.status for u in updates[:3]] == [
        SourceStatus.FAILING, SourceStatus.FAILING, SourceStatus.OK]
    assert source.max_running == 1 and source.closed


def test_staleness_and_one_line() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    ok = SourceState("x", SourceStatus.OK, last_ok=t0)
    assert staleness(ok, t0 + timedelta(seconds=5), 2.0) == ok
    stale = staleness(ok, t0 + timedelta(seconds=7), 2.0)
    assert stale.status is SourceStatus.STALE and stale.age_s(t0 + timedelta(seconds=7)) == 7
    assert one_line(SourceError("x" * 300)).endswith("…")
    assert len(one_line(SourceError("x" * 300))) == 160
