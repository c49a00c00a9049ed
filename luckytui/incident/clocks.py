"""The plan's clocks on an incident, worked out from its milestones.

- Response: acknowledge within the severity's SLA (P1 15 min, P2 30 min, P3 2 h,
  P4 24 h), counted from detection.
- Status page (P1 and P2): the first update within 15 minutes of detection, then
  one every 30 minutes after the last one sent, until resolved.

A clock is running (due in the future), near (the last fifth of its window, at least
a minute), overdue, or finished: met or missed. Every deadline that has passed or
been met has one result, which `results` lists so the war room can record it once
(the key is the clock's name and its due time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from luckytui.incident.model import RESPONSE_SLA_S, Incident

RESPONSE = "response"
STATUS_UPDATE = "status_update"
LABELS = {RESPONSE: "Ack", STATUS_UPDATE: "Status page"}
FIRST_UPDATE = timedelta(minutes=15)
UPDATE_EVERY = timedelta(minutes=30)
UPDATE_SEVERITIES = ("P1", "P2")
NEAR_FRACTION = 0.2
NEAR_MIN = timedelta(minutes=1)

RUNNING, NEAR, OVERDUE, MET, MISSED = "running", "near", "overdue", "met", "missed"


@dataclass(frozen=True, slots=True)
class Clock:
    name: str  # RESPONSE or STATUS_UPDATE
    due: datetime
    state: str  # running, near, overdue (open); met, missed (finished)
    window: timedelta  # from the clock's start to its due time

    @property
    def label(self) -> str:
        return LABELS[self.name]

    @property
    def open(self) -> bool:
        return self.state in (RUNNING, NEAR, OVERDUE)

    @property
    def key(self) -> str:
        """The deadline's identity in the log: name@due (UTC, ISO 8601)."""
        return f"{self.name}@{self.due.isoformat()}"

    def remaining_s(self, now: datetime) -> float:
        return (self.due - now).total_seconds()


def _open_state(due: datetime, window: timedelta, now: datetime) -> str:
    if now > due:
        return OVERDUE
    near = max(window * NEAR_FRACTION, NEAR_MIN)
    return NEAR if due - now <= near else RUNNING


def response_clock(inc: Incident, now: datetime) -> Clock:
    window = timedelta(seconds=RESPONSE_SLA_S.get(inc.severity, RESPONSE_SLA_S["P4"]))
    due = inc.detected + window
    # the clock stops at the acknowledgement (or, never acknowledged, at the resolution)
    stopped = inc.acknowledged_at or inc.resolved_at
    if stopped is not None:
        return Clock(RESPONSE, due, MET if stopped <= due else MISSED, window)
    return Clock(RESPONSE, due, _open_state(due, window, now), window)


def update_clocks(inc: Incident, now: datetime) -> list[Clock]:
    """Every status page deadline so far: finished ones, then the open one if any."""
    if inc.severity not in UPDATE_SEVERITIES:
        return []
    out: list[Clock] = []
    start, window = inc.detected, FIRST_UPDATE
    for sent in sorted(inc.updates_sent):
        if sent < start:
            continue  # an update before this deadline's window opened counts for nothing
        due = start + window
        out.append(Clock(STATUS_UPDATE, due, MET if sent <= due else MISSED, window))
        start, window = sent, UPDATE_EVERY
    due = start + window
    if inc.resolved_at is None:
        out.append(Clock(STATUS_UPDATE, due, _open_state(due, window, now), window))
    elif inc.resolved_at > due:
        out.append(Clock(STATUS_UPDATE, due, MISSED, window))
    return out


def clocks(inc: Incident, now: datetime) -> list[Clock]:
    """The response clock and the status page clocks, oldest deadline first."""
    return [response_clock(inc, now), *update_clocks(inc, now)]


def open_clocks(inc: Incident, now: datetime) -> list[Clock]:
    """What the banner shows: the clocks still running (none once resolved)."""
    return [c for c in clocks(inc, now) if c.open]


def results(inc: Incident, now: datetime) -> list[tuple[Clock, str]]:
    """Every deadline with a result (met, or missed: done late or passed), not yet
    recorded on the incident."""
    out = []
    for c in clocks(inc, now):
        result = {MET: MET, MISSED: MISSED, OVERDUE: MISSED}.get(c.state)
        if result is not None and c.key not in inc.clocks:
            out.append((c, result))
    return out


def countdown(seconds: float) -> str:
    """A duration, never a time of day: 12:03 (m:ss) · 1:02:03 (h:mm:ss) · -4:10 once past
    due. Read with the words clock_text puts around it ("in", "OVERDUE")."""
    sign = "-" if seconds < 0 else ""
    s = int(abs(seconds))
    h, m, sec = s // 3600, s % 3600 // 60, s % 60
    return f"{sign}{h}:{m:02d}:{sec:02d}" if h else f"{sign}{m}:{sec:02d}"


def clock_text(c: Clock, now: datetime) -> str:
    """"ack in 12:03" · "status page OVERDUE 4:10" · "ack met" (the banner and the CLI).

    Relative, with a word before the figure, so that it cannot be read as a time of
    day; the banner shortens "status page" to "page" when it is short of room."""
    left = c.remaining_s(now)
    label = c.label.lower()
    if c.open and left < 0:
        return f"{label} OVERDUE {countdown(-left)}"
    if c.open:
        return f"{label} in {countdown(left)}"
    return f"{label} {c.state}"
