"""The plan's clocks on an incident, worked out from its milestones.

- Response: acknowledge within the severity's SLA (P1 15 min, P2 30 min, P3 2 h,
  P4 24 h), counted from detection.
- Status page (P1 and P2): the first update within 15 minutes of detection (or of the
  moment the incident became P1/P2, when it was declared lower), then one every 30
  minutes after the last one sent, until resolved.

Each clock is judged by the severity in force while it ran (the incident keeps its
severity history): the response deadline at any moment is detection + the SLA of the
severity then in force, and the clock is missed as soon as that deadline has passed.
Once missed it stays missed: a later downgrade (P1 to P2) never turns a missed P1
acknowledgement into a met one; an upgrade whose shorter SLA has already run out is
missed at the upgrade. A status page deadline is missed when it passed while the
incident was P1 or P2.

A clock is running (due in the future), near (the last fifth of its window, at least
a minute), overdue, or finished: met or missed. Every deadline that has passed or
been met has one result, which `results` lists so the war room can record it once
(the key is the clock's identity on the incident: the response SLA has one per
incident, each status page deadline its own, by due time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from luckytui.durations import format_duration
from luckytui.events import RESPONSE_CLOCK, STATUS_UPDATE_CLOCK
from luckytui.incident.model import RESPONSE_SLA_S, Incident, clock_key

RESPONSE = RESPONSE_CLOCK
STATUS_UPDATE = STATUS_UPDATE_CLOCK
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
    severity: str = ""  # the severity the clock was judged under

    @property
    def label(self) -> str:
        return LABELS[self.name]

    @property
    def open(self) -> bool:
        return self.state in (RUNNING, NEAR, OVERDUE)

    @property
    def key(self) -> str:
        """The deadline's identity on the incident: "response" (one per incident), or
        "status_update@<due, UTC ISO 8601>"."""
        return clock_key(self.name, self.due.isoformat())

    def remaining_s(self, now: datetime) -> float:
        return (self.due - now).total_seconds()


def _open_state(due: datetime, window: timedelta, now: datetime) -> str:
    if now > due:
        return OVERDUE
    near = max(window * NEAR_FRACTION, NEAR_MIN)
    return NEAR if due - now <= near else RUNNING


def _sla(severity: str) -> timedelta:
    return timedelta(seconds=RESPONSE_SLA_S.get(severity, RESPONSE_SLA_S["P4"]))


def response_clock(inc: Incident, now: datetime) -> Clock:
    """Acknowledge within the SLA of the severity in force, from detection; stopped by
    the acknowledgement (or, never acknowledged, by the resolution)."""
    stopped = inc.acknowledged_at or inc.resolved_at
    end = stopped or now
    segments = inc.severity_changes(end)
    for i, (_, severity) in enumerate(segments):
        until = segments[i + 1][0] if i + 1 < len(segments) else end
        due = inc.detected + _sla(severity)
        if due < until:  # this severity's deadline passed while it was in force: missed
            return Clock(RESPONSE, due, MISSED if stopped else OVERDUE, _sla(severity),
                         severity)
    severity = segments[-1][1]
    window = _sla(severity)
    due = inc.detected + window
    if stopped is not None:
        return Clock(RESPONSE, due, MET, window, severity)
    return Clock(RESPONSE, due, _open_state(due, window, now), window, severity)


def _update_start(inc: Incident, end: datetime) -> datetime | None:
    """When the status page clock starts: detection, or the first moment after it that
    the incident was P1 or P2."""
    return next((since for since, severity in inc.severity_changes(end)
                 if severity in UPDATE_SEVERITIES), None)


def _passed_under(inc: Incident, due: datetime, end: datetime) -> str | None:
    """The P1/P2 severity in force at some moment after `due` up to `end`, if any: the
    deadline then passed under it."""
    if end <= due:
        return None
    moments = [due] + [since for since, _ in inc.severity_changes(end) if due < since <= end]
    return next((s for s in map(inc.severity_at, moments) if s in UPDATE_SEVERITIES), None)


def update_clocks(inc: Incident, now: datetime) -> list[Clock]:
    """Every status page deadline so far: finished ones, then the open one if any."""
    end = inc.resolved_at or now
    start = _update_start(inc, end)
    if start is None:
        return []
    out: list[Clock] = []
    window = FIRST_UPDATE
    for sent in sorted(inc.updates_sent):
        if sent < start or sent > end:
            continue  # an update before this deadline's window opened counts for nothing
        due = start + window
        if sent <= due:
            out.append(Clock(STATUS_UPDATE, due, MET, window, inc.severity_at(sent)))
        else:
            late_under = _passed_under(inc, due, sent)
            if late_under is not None:
                out.append(Clock(STATUS_UPDATE, due, MISSED, window, late_under))
        start, window = sent, UPDATE_EVERY
    due = start + window
    passed = _passed_under(inc, due, end)
    current = inc.severity_at(end)
    if inc.resolved_at is None and current in UPDATE_SEVERITIES and passed is None:
        out.append(Clock(STATUS_UPDATE, due, _open_state(due, window, now), window, current))
    elif passed is not None:
        state = OVERDUE if inc.resolved_at is None and current in UPDATE_SEVERITIES \
            else MISSED
        out.append(Clock(STATUS_UPDATE, due, state, window, passed))
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


def clock_text(c: Clock, now: datetime) -> str:
    """"ack in 12:03" · "status page OVERDUE 4:10" · "ack met" (the banner and the CLI).

    Relative, with a word before the figure, so that it cannot be read as a time of
    day; the banner shortens "status page" to "page" when it is short of room."""
    left = c.remaining_s(now)
    label = c.label.lower()
    if c.open and left < 0:
        return f"{label} OVERDUE {format_duration(-left, 'clock')}"
    if c.open:  # near its deadline: marked, so it reads without colour too
        mark = "⚠ " if c.state == NEAR else ""
        return f"{mark}{label} in {format_duration(left, 'clock')}"
    return f"{label} {c.state}"
