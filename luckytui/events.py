"""The catalogue of event kinds: every kind of record the log holds, once.

Each kind has its name (as stored), a label and an icon for people, the group the
full-screen timeline's filters show it under, its colour on the timeline, and what
it feeds: the plan's clocks (the response SLA, the status page updates) and the
metrics (detection, MTTA, MTTR). The timeline, the post-mortem and the signals'
one-line descriptions all read it from here.

A leaf module: it imports nothing of luckytui, so the incident package and the
signals can both read it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

# the timeline's groups (its filters), in the order the filters cycle
INCIDENT, SIGNALS, ACTIONS, COMMS, NOTES = "incident", "signals", "actions", "comms", "notes"
GROUPS = (INCIDENT, SIGNALS, ACTIONS, COMMS, NOTES)

# the plan's clocks (luckytui.incident.clocks works them out)
RESPONSE_CLOCK = "response"  # acknowledge within the severity's SLA, from detection
STATUS_UPDATE_CLOCK = "status_update"  # P1/P2: status page within 15 min, then every 30
CLOCKS = (RESPONSE_CLOCK, STATUS_UPDATE_CLOCK)

# the metrics: what can mark detection (an incident's clocks and MTTA/MTTR count from
# it), and the milestones that end MTTA and MTTR
DETECTION, MTTA, MTTR = "detection", "MTTA", "MTTR"

ALERT_FIRED = "alert.fired"
ALERT_RESOLVED = "alert.resolved"
ENDPOINT_DOWN = "endpoint.down"
ENDPOINT_UP = "endpoint.up"
ENDPOINT_FLAPPING = "endpoint.flapping"
ENDPOINT_STABLE = "endpoint.stable"
DECLARED = "incident.declared"
ACKNOWLEDGED = "incident.acknowledged"
SEVERITY = "incident.severity"
STATUS = "incident.status"
ROLE = "incident.role"
NOTE = "incident.note"
UPDATE_SENT = "incident.update_sent"  # a status update (the plan's template) was sent
NOTICE_SENT = "incident.notice_sent"  # the P1 customer notification was sent
CLOCK = "incident.clock"  # a clock met or missed: {"clock", "result", "due"}
RESOLVED = "incident.resolved"
RUNBOOK_STEP = "runbook.step"
INTENT = "mitigation.intent"
OUTCOME = "mitigation.outcome"
REFUSED = "mitigation.refused"
DRILL_STARTED = "drill.started"  # a drill's faults began on the simulation
DRILL_RECOVERED = "drill.recovered"  # every fault of the drill is over
DRILL_STOPPED = "drill.stopped"  # the simulation stopped before it recovered
DRILL_SCORED = "drill.scored"  # the drill's incident was resolved: its score, once


@dataclass(frozen=True, slots=True)
class EventKind:
    name: str
    label: str
    icon: str  # "" when the kind has none, or when its line picks one from its data
    group: str  # one of GROUPS
    style: str = ""  # its colour on the timeline
    clocks: tuple[str, ...] = ()  # the clocks it starts, moves or stops
    metrics: tuple[str, ...] = ()  # DETECTION, MTTA, MTTR

    @property
    def family(self) -> str:
        """"incident" for incident.note: the part before the dot."""
        return self.name.partition(".")[0]


_ALL = (
    EventKind(ALERT_FIRED, "Alert firing", "▲", SIGNALS, "red", CLOCKS, (DETECTION,)),
    EventKind(ALERT_RESOLVED, "Alert resolved", "✓", SIGNALS, "red"),
    EventKind(ENDPOINT_DOWN, "Endpoint down", "▼", SIGNALS, "", CLOCKS, (DETECTION,)),
    EventKind(ENDPOINT_UP, "Endpoint back up", "▲", SIGNALS),
    EventKind(ENDPOINT_FLAPPING, "Endpoint flapping", "↯", SIGNALS, "", CLOCKS, (DETECTION,)),
    EventKind(ENDPOINT_STABLE, "Endpoint stable", "", SIGNALS),
    EventKind(DECLARED, "Declared", "", INCIDENT, "bold magenta", CLOCKS, (MTTA, MTTR)),
    EventKind(ACKNOWLEDGED, "Acknowledged", "", INCIDENT, "", (RESPONSE_CLOCK,), (MTTA,)),
    EventKind(SEVERITY, "Severity", "", INCIDENT, "bold yellow", CLOCKS),
    EventKind(STATUS, "Status", "", INCIDENT, "yellow"),
    EventKind(ROLE, "Role", "", INCIDENT),
    EventKind(NOTE, "Note", "", NOTES),
    EventKind(UPDATE_SENT, "Status update sent", "", COMMS, "", (STATUS_UPDATE_CLOCK,)),
    EventKind(NOTICE_SENT, "Customer notice sent", "", COMMS),
    EventKind(CLOCK, "Clock", "⏱", INCIDENT),
    EventKind(RESOLVED, "Resolved", "", INCIDENT, "bold green", CLOCKS, (MTTR,)),
    EventKind(RUNBOOK_STEP, "Runbook step", "", ACTIONS),
    EventKind(INTENT, "Remedy started", "", ACTIONS, "magenta"),
    EventKind(OUTCOME, "Remedy outcome", "", ACTIONS, "magenta"),
    EventKind(REFUSED, "Remedy refused", "⊘", ACTIONS, "magenta"),
    EventKind(DRILL_STARTED, "Drill started", "", INCIDENT, "bold cyan"),
    EventKind(DRILL_RECOVERED, "Drill: production recovered", "", INCIDENT, "bold cyan"),
    EventKind(DRILL_STOPPED, "Drill stopped", "", INCIDENT, "cyan"),
)
KINDS: dict[str, EventKind] = {k.name: k for k in _ALL}
# a family the catalogue does not list by name still belongs to one group
_FAMILY_GROUPS = {"incident": INCIDENT, "alert": SIGNALS, "endpoint": SIGNALS,
                  "mitigation": ACTIONS, "runbook": ACTIONS, "drill": INCIDENT}


def lookup(kind: str) -> EventKind | None:
    """The catalogued kind: by its name, or by a short name (the word after the dot, as
    "note", or the family, as "mitigation": the first kind it names)."""
    found = KINDS.get(kind)
    if found is not None:
        return found
    short = kind.lower()
    return next((k for k in _ALL if short in (k.name.partition(".")[2], k.family)), None)


def group_of(kind: str) -> str | None:
    """The timeline group ``kind`` is shown under (None: only under "All")."""
    found = lookup(kind)
    return found.group if found else _FAMILY_GROUPS.get(kind.partition(".")[0])


def style_of(kind: str) -> str:
    """The kind's colour on the timeline ("" for the terminal's own)."""
    found = lookup(kind)
    return found.style if found else ""


def feeding(*, clock: str | None = None, metric: str | None = None) -> tuple[str, ...]:
    """The kinds that feed ``clock`` or ``metric``, in catalogue order."""
    return tuple(k.name for k in _ALL
                 if (clock is not None and clock in k.clocks)
                 or (metric is not None and metric in k.metrics))


DETECTION_KINDS = feeding(metric=DETECTION)  # what can start an incident
