"""Incidents as the plan runs them, derived from the events in the log.

Events are the truth: an incident's state (severity, status, roles, milestones)
is what folding its events in order gives, so every process reading the same
log agrees, and nothing is stored twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from luckytui.durations import format_duration
from luckytui.events import (
    ACKNOWLEDGED,
    CLOCK,
    DECLARED,
    KINDS,
    NOTICE_SENT,
    RESOLVED,
    ROLE,
    SEVERITY,
    STATUS,
    UPDATE_SENT,
)
from luckytui.timeparse import parse_time

SEVERITIES = ("P1", "P2", "P3", "P4")
STATUSES = ("Investigating", "Identified", "Monitoring", "Resolved")
ROLES = ("IC", "TL", "COM", "SCR")
# the plan's response SLA by severity, in seconds, until acknowledged
RESPONSE_SLA_S = {"P1": 15 * 60, "P2": 30 * 60, "P3": 2 * 3600, "P4": 24 * 3600}
RESOLUTION_CHECKLIST = (
    "Root cause identified",
    "Fix implemented and tested",
    "Affected services restored",
    "Monitoring confirms stability",
    "Data integrity verified",
)
NUMBER = re.compile(r"^INC-(\d{4})-(\d{2})-(\d{2})-(\d{3,})$")

INCIDENT_KINDS = tuple(k for k in KINDS if k.startswith("incident."))


class Record(Protocol):
    """What the fold needs of a log record."""

    @property
    def ts(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def incident(self) -> str | None: ...
    @property
    def data(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Incident:
    number: str
    title: str
    severity: str
    status: str
    declared_at: datetime
    declared_by: str
    started_at: datetime  # impact start; may be earlier than the declaration
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    drill: bool = False
    drill_id: str | None = None  # the drill it was declared during (see luckytui.drills)
    components: tuple[str, ...] = ()
    checklist: Mapping[str, str] = field(default_factory=dict)  # item -> ticked | skipped
    roles: Mapping[str, str] = field(default_factory=dict)  # IC/TL/COM/SCR -> who holds it
    identified_at: datetime | None = None  # first time the status became Identified
    mitigated_at: datetime | None = None  # first time the status became Monitoring
    # detected: when the problem was first seen (an alert, a report); MTTA and MTTR run
    # from here. started <= detected <= declared.
    detected_at: datetime | None = None
    updates_sent: tuple[datetime, ...] = ()  # status updates sent, in order
    notices_sent: tuple[datetime, ...] = ()  # customer notifications sent
    # a deadline's key (see clocks.Clock.key: "response", "status_update@due") -> met | missed,
    # the first result recorded for it
    clocks: Mapping[str, str] = field(default_factory=dict)
    # the severity in force from each moment: (since, severity), oldest first; the first
    # entry (the declared severity) holds from detection, before the declaration too
    severities: tuple[tuple[datetime, str], ...] = ()

    @property
    def detected(self) -> datetime:
        return self.detected_at or self.declared_at

    def severity_at(self, when: datetime) -> str:
        """The severity in force at `when` (the declared one before the declaration)."""
        current = self.severities[0][1] if self.severities else self.severity
        for since, severity in self.severities[1:]:
            if since > when:
                break
            current = severity
        return current

    def severity_changes(self, until: datetime) -> list[tuple[datetime, str]]:
        """(since, severity) segments from detection up to `until`: the first starts at
        detection with the declared severity, each change after it opens the next."""
        history = self.severities or ((self.declared_at, self.severity),)
        out = [(self.detected, history[0][1])]
        for since, severity in history[1:]:
            if since <= until and severity != out[-1][1]:
                out.append((max(since, self.detected), severity))
        return out

    @property
    def mtta_s(self) -> float | None:
        """Acknowledged - detected, in seconds (None until acknowledged)."""
        if self.acknowledged_at is None:
            return None
        return max(0.0, (self.acknowledged_at - self.detected).total_seconds())

    @property
    def mttr_s(self) -> float | None:
        """Resolved - detected, in seconds (None until resolved)."""
        if self.resolved_at is None:
            return None
        return max(0.0, (self.resolved_at - self.detected).total_seconds())

    @property
    def active(self) -> bool:
        return self.resolved_at is None

    def elapsed_s(self, now: datetime) -> float:
        end = self.resolved_at or now
        return max(0.0, (end - self.started_at).total_seconds())


def fold(records: Iterable[Record]) -> dict[str, Incident]:
    """Every incident the records speak of, by number, in declaration order."""
    incidents: dict[str, Incident] = {}
    for r in records:
        number = r.incident
        if number is None:
            continue
        d = r.data
        if r.kind == DECLARED:
            started = min(parse_time(d.get("started_at"), "reject") or r.ts, r.ts)
            detected = min(max(parse_time(d.get("detected_at"), "reject") or r.ts, started), r.ts)
            incidents[number] = Incident(
                number=number, title=str(d.get("title", "")),
                severity=str(d.get("severity", "P3")), status="Investigating",
                declared_at=r.ts, declared_by=r.actor, started_at=started,
                detected_at=detected,
                severities=((r.ts, str(d.get("severity", "P3"))),),
                drill=bool(d.get("drill", False)),
                drill_id=str(d["drill_id"]) if d.get("drill_id") else None,
                components=tuple(str(c) for c in d.get("components", ())))
            continue
        inc = incidents.get(number)
        if inc is None:
            continue
        if r.kind == ACKNOWLEDGED and inc.acknowledged_at is None:
            incidents[number] = replace(inc, acknowledged_at=r.ts)
        elif r.kind == SEVERITY and inc.active and d.get("new") in SEVERITIES:
            new = str(d["new"])
            incidents[number] = replace(inc, severity=new,
                                        severities=(*inc.severities, (r.ts, new)))
        elif r.kind == STATUS and inc.active and d.get("new") in STATUSES[:-1]:
            new = str(d["new"])
            incidents[number] = replace(
                inc, status=new,
                identified_at=inc.identified_at or (r.ts if new == "Identified" else None),
                mitigated_at=inc.mitigated_at or (r.ts if new == "Monitoring" else None))
        elif r.kind == ROLE and d.get("role") in ROLES:
            roles = dict(inc.roles)
            if d.get("name"):
                roles[str(d["role"])] = str(d["name"])
            else:
                roles.pop(str(d["role"]), None)
            incidents[number] = replace(inc, roles=roles)
        elif r.kind == UPDATE_SENT:
            incidents[number] = replace(inc, updates_sent=(*inc.updates_sent, r.ts))
        elif r.kind == NOTICE_SENT:
            incidents[number] = replace(inc, notices_sent=(*inc.notices_sent, r.ts))
        elif r.kind == CLOCK and d.get("result") in ("met", "missed"):
            key = clock_key(str(d.get("clock")), d.get("due"))
            if key not in inc.clocks:
                incidents[number] = replace(inc, clocks={**inc.clocks, key: str(d["result"])})
        elif r.kind == RESOLVED and inc.resolved_at is None:
            checklist = {str(k): str(v) for k, v in dict(d.get("checklist", {})).items()}
            incidents[number] = replace(inc, status="Resolved", resolved_at=r.ts,
                                        checklist=checklist)
    return incidents


def clock_key(clock: str, due: object) -> str:
    """A deadline's identity on an incident: the response SLA has one result per incident
    ("response", whatever its due time under the severities it ran under); each status
    page deadline is its own ("status_update@<due, UTC ISO 8601>")."""
    return clock if clock == "response" else f"{clock}@{due}"


def active_incident(incidents: Mapping[str, Incident]) -> Incident | None:
    """The most recently declared incident that is not resolved."""
    open_ = [i for i in incidents.values() if i.active]
    return max(open_, key=lambda i: i.declared_at) if open_ else None


def latest_incident(incidents: Mapping[str, Incident]) -> Incident | None:
    """The most recently declared incident, resolved or not."""
    return max(incidents.values(), key=lambda i: i.declared_at) if incidents else None


def next_number(existing: Iterable[str], day: date) -> str:
    """INC-YYYY-MM-DD-NNN: the next free number of that day (UTC)."""
    prefix = f"INC-{day:%Y-%m-%d}-"
    used = [int(n[len(prefix):]) for n in existing if n.startswith(prefix)
            and n[len(prefix):].isdigit()]
    return f"{prefix}{max(used, default=0) + 1:03d}"


def banner_text(incident: Incident, now: datetime) -> str:
    """INC-2026-11-26-001 · P2 · Investigating · 00:12:34 (drills marked)."""
    clock = format_duration(incident.elapsed_s(now), "elapsed")
    drill = "DRILL · " if incident.drill else ""
    return f"{drill}{incident.number} · {incident.severity} · {incident.status} · {clock}"


_AGO = re.compile(r"^(\d+)\s*(m|min|h)\s*(ago)?$")


def parse_when(text: str, now: datetime, *, utc: bool = False) -> datetime | None:
    """When the impact started, as typed under stress: "" (unknown), "15m" / "15m ago" /
    "2h", or HH:MM today (local time, or UTC with utc=True; yesterday if still ahead).
    Raises ValueError with the accepted forms."""
    text = text.strip().lower()
    if not text:
        return None
    ago = _AGO.match(text)
    if ago:
        amount = int(ago.group(1))
        return now - (timedelta(hours=amount) if ago.group(2) == "h"
                      else timedelta(minutes=amount))
    clock = re.match(r"^(\d{1,2}):(\d{2})$", text)
    if clock and int(clock.group(1)) < 24 and int(clock.group(2)) < 60:
        zone = now.astimezone(UTC) if utc else now.astimezone()
        at = zone.replace(hour=int(clock.group(1)), minute=int(clock.group(2)), second=0,
                          microsecond=0)
        return at - timedelta(days=1) if at > now else at
    raise ValueError(f"not a time: {text!r} (HH:MM, or 15m ago, or 2h ago)")
