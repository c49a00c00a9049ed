"""A replay's clock: the span it covers, stepping by frame and minute, jumping to the
timeline's events, playing at a speed, and `--at` read in the display zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from luckytui.replay import ReplayClock, ReplayData, at_time
from luckytui.snapshots import Alert, AlertsSnapshot
from luckytui.store import LogRecord
from luckytui.store.replay import Replay, ReplayStore, encode

T0 = datetime(2026, 11, 26, 23, 59, 0, tzinfo=UTC)  # the incident crosses midnight


def record(i: int, ts: datetime, kind: str) -> LogRecord:
    return LogRecord(i, ts, kind, "oncall", "INC-1", {}, "", "", None)


@pytest.fixture
def clock(tmp_path: Path) -> ReplayClock:
    store = ReplayStore(tmp_path / "r.sqlite3")
    # frames at +10 s, +20 s and +100 s, each a different alert count
    store.write([("INC-1", "alerts", T0 + timedelta(seconds=s), *encode(AlertsSnapshot(
        T0, tuple(Alert(f"A{i}", "firing", "critical", None, "") for i in range(n)))))
        for n, s in ((1, 10), (2, 20), (3, 100))])
    records = [record(1, T0, "incident.declared"), record(2, T0 + timedelta(seconds=50),
                                                          "incident.note"),
               record(3, T0 + timedelta(seconds=130), "incident.resolved")]
    inc: Any = None  # the clock never reads the incident itself
    return ReplayClock(ReplayData(inc, records, Replay(store, "INC-1")))


def test_the_span_covers_records_and_frames_and_opens_on_the_first_frame(
        clock: ReplayClock) -> None:
    assert clock.start == T0 and clock.end == T0 + timedelta(seconds=130)
    assert clock.now == T0 + timedelta(seconds=10) and clock.frame == 0


def test_steps_and_shifts_stay_within_the_span(clock: ReplayClock) -> None:
    clock.step(1)
    assert clock.now == T0 + timedelta(seconds=20)
    clock.step(5)
    assert clock.now == T0 + timedelta(seconds=100) and clock.frame == 2
    clock.step(-1)
    assert clock.now == T0 + timedelta(seconds=20)
    clock.shift(60)
    assert clock.now == T0 + timedelta(seconds=80) and clock.frame == 1
    clock.shift(-600)
    assert clock.now == clock.start and clock.frame == -1  # before the first frame
    clock.step(1)
    assert clock.now == T0 + timedelta(seconds=10)


def test_events_jump_forward_and_back(clock: ReplayClock) -> None:
    found = clock.jump_event(1)
    assert found is not None and found.kind == "incident.note"
    assert clock.now == T0 + timedelta(seconds=50) and clock.frame == 1
    assert [r.id for r in clock.records()] == [1, 2]
    assert clock.jump_event(1) is not None and clock.now == clock.end
    assert clock.jump_event(1) is None  # nothing later
    assert clock.jump_event(-1) is not None and clock.now == T0 + timedelta(seconds=50)


def test_playing_runs_at_the_speed_and_stops_at_the_end(clock: ReplayClock) -> None:
    clock.faster(1)
    clock.faster(1)
    assert clock.speed == 5
    clock.faster(9)
    assert clock.speed == 10
    clock.toggle()
    assert clock.advance(1.0)  # 10 s on: +20 s, the second frame
    assert clock.now == T0 + timedelta(seconds=20)
    assert not clock.advance(1.0)  # +30 s: still the second frame
    while clock.playing:
        clock.advance(1.0)
    assert clock.now == clock.end


def test_at_is_read_in_the_display_zone_on_the_right_day() -> None:
    start, end = T0, T0 + timedelta(minutes=5)
    assert at_time("00:01:30", start, end, UTC) == datetime(2026, 11, 27, 0, 1, 30,
                                                            tzinfo=UTC)
    taipei = timezone(timedelta(hours=8))
    assert at_time("08:00:00", start, end, taipei) == datetime(2026, 11, 27, 0, 0,
                                                               tzinfo=UTC)
    with pytest.raises(ValueError, match="outside the recording"):
        at_time("00:01:30", start, end, taipei)
    with pytest.raises(ValueError, match="not a time"):
        at_time("25:00", start, end, UTC)
