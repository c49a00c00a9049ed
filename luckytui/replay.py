"""An incident's war room, replayed: the time the scrubber moves, and the sources that
serve the panes the frames recorded as of that time (no Textual here).

`ReplayClock` is the app's clock during a replay: panes, the banner and the timeline
all read "now" from it. `ReplaySource` is a `Source` like the live ones: its `fetch`
answers the last frame of its pane at or before the clock's time.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from luckytui.incident.model import INCIDENT_KINDS, Incident, fold
from luckytui.sources.base import SourceError
from luckytui.store.replay import Replay, ReplayStore, replay_path

if TYPE_CHECKING:
    from luckytui.store import LogRecord

SPEEDS = (1, 2, 5, 10)


class ReplayRefused(Exception):
    """One line for the operator: why this replay cannot be shown (exit 1)."""


@dataclass(frozen=True, slots=True)
class ReplayData:
    """What a replay shows: the incident, its log records and its recorded frames."""

    incident: Incident
    records: Sequence[LogRecord]  # oldest first
    replay: Replay


async def load(log_file: Path, number: str) -> ReplayData:
    """The incident (looked up as `luckytui incident show` does), its records and its
    frames; ReplayRefused or LogError with one line when there is nothing to replay."""
    from luckytui.incident.postmortem import incident_records
    from luckytui.incident.service import IncidentError, Incidents
    from luckytui.store import EventLog

    async with await EventLog.open(log_file, create=False) as log:  # reading only
        try:
            inc = await Incidents(log, "replay").get(number)
        except IncidentError as exc:
            raise ReplayRefused(f"{exc} in the log ({log_file})") from None
        records = sorted(await incident_records(log, inc), key=lambda r: (r.ts, r.id))
    path = replay_path(log_file)
    if not path.exists():
        raise ReplayRefused(f"{number}: no frames recorded (no replay file {path})")
    store = ReplayStore(path, create=False)
    replay = Replay(store, number)
    if not replay.times:
        store.close()
        raise ReplayRefused(f"{number}: no frames recorded (the war room was not open "
                            "while it was active, or its frames were dropped)")
    return ReplayData(inc, records, replay)


class ReplayClock:
    """The replay's time, which the scrubber moves: a frame at a time, a minute at a
    time, to a timeline event, or playing at 1x to 10x."""

    def __init__(self, data: ReplayData) -> None:
        self.data = data
        self.times = data.replay.times
        # the incident's span: its records (from the signals that led to it to its
        # resolution) and the frames recorded; it opens on the first frame
        stamps = [*self.times[:1], *self.times[-1:], *(r.ts for r in data.records)]
        self.start, self.end = min(stamps), max(stamps)
        self.now = self.times[0]
        self.speed = SPEEDS[0]
        self.playing = False
        self.events = list(data.records)  # the timeline's events, to jump to

    def __call__(self) -> datetime:
        return self.now

    @property
    def frame(self) -> int:
        """The index of the frame shown (the last one at or before now; -1 before the
        first)."""
        return bisect_right(self.times, self.now) - 1

    def seek(self, when: datetime) -> None:
        self.now = min(self.end, max(self.start, when))

    def step(self, frames: int) -> None:
        self.seek(self.times[min(len(self.times) - 1, max(0, self.frame + frames))])

    def shift(self, seconds: float) -> None:
        self.seek(self.now + timedelta(seconds=seconds))

    def jump_event(self, direction: int) -> LogRecord | None:
        """To the next (1) or previous (-1) timeline event; None when there is none."""
        stamps = [r.ts for r in self.events]
        i = bisect_right(stamps, self.now) if direction > 0 else \
            bisect_left(stamps, self.now) - 1
        if not 0 <= i < len(self.events):
            return None
        self.seek(self.events[i].ts)
        return self.events[i]

    def faster(self, step: int) -> None:
        i = SPEEDS.index(self.speed) + step
        self.speed = SPEEDS[min(len(SPEEDS) - 1, max(0, i))]

    def toggle(self) -> None:
        if not self.playing and self.now >= self.end:
            self.now = self.start  # playing from the end starts over
        self.playing = not self.playing

    def advance(self, seconds: float) -> bool:
        """Playing: move on by `seconds` of wall time at the speed; True when the frame
        shown changed. Stops at the end."""
        if not self.playing:
            return False
        before = self.frame
        self.seek(self.now + timedelta(seconds=seconds * self.speed))
        if self.now >= self.end:
            self.playing = False
        return self.frame != before

    def records(self) -> list[LogRecord]:
        """The incident's records up to now (what its timeline had shown)."""
        return [r for r in self.data.records if r.ts <= self.now]

    def incident(self) -> Incident | None:
        """The incident as it stood at now (its records folded up to then)."""
        return fold(r for r in self.records()
                    if r.kind in INCIDENT_KINDS).get(self.data.incident.number)


class ReplaySource:
    """One pane's recorded frames as a source: the frame as of the clock's time."""

    def __init__(self, name: str, clock: ReplayClock) -> None:
        self.name = name
        self.clock = clock

    async def fetch(self) -> Any:
        snapshot = self.clock.data.replay.snapshot_at(self.name, self.clock.now)
        if snapshot is None:
            raise SourceError("nothing recorded yet at this time")
        return snapshot

    async def aclose(self) -> None:
        pass


def sources(clock: ReplayClock) -> list[ReplaySource]:
    return [ReplaySource(name, clock) for name in clock.data.replay.panes]


def at_time(value: str, start: datetime, end: datetime, tz: tzinfo | None) -> datetime:
    """`--at HH:MM:SS` (or HH:MM) in the display zone, on whichever day of the span it
    falls; ValueError with one line when it is not a time or not within the span."""
    try:
        wanted = time.fromisoformat(value)
    except ValueError:
        raise ValueError(f"--at {value!r}: not a time (HH:MM:SS)") from None
    first, last = start.astimezone(tz), end.astimezone(tz)
    day = first.date()
    while day <= last.date():
        candidate = datetime.combine(day, wanted, tzinfo=first.tzinfo)
        if start.replace(microsecond=0) <= candidate <= end:  # the seconds shown
            return max(start, candidate)
        day += timedelta(days=1)
    raise ValueError(f"--at {value}: outside the recording ({first:%H:%M:%S} to "
                     f"{last:%H:%M:%S})")
