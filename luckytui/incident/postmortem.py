"""The plan's post-mortem template, filled from an incident and its log records.

What the log knows is written in (number, date, duration, severity, the timeline, the
mitigations run, the checklist, MTTA and MTTR, updates sent, roles); what only people
know (impact figures, root cause, lessons, action items) keeps the template's prompts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any

from luckytui.durations import format_duration
from luckytui.events import (
    ACKNOWLEDGED,
    ALERT_FIRED,
    DECLARED,
    DETECTION_KINDS,
    ENDPOINT_DOWN,
    ENDPOINT_FLAPPING,
    INTENT,
    NOTICE_SENT,
    OUTCOME,
    REFUSED,
    RESOLVED,
    ROLE,
    SEVERITY,
    STATUS,
    UPDATE_SENT,
)
from luckytui.incident import clocks as clock_rules
from luckytui.incident.detection import failed_since, fired_at
from luckytui.incident.metrics import MTTA_TARGET_S, MTTR_TARGET_S
from luckytui.incident.model import RESOLUTION_CHECKLIST, RESPONSE_SLA_S, ROLES, Incident
from luckytui.mitigations.runner import undo_prefix, unfinished
from luckytui.signals import describe
from luckytui.store import EventLog, LogRecord
from luckytui.text import visible

STARTERS = DETECTION_KINDS  # what can start an incident
ROLE_NAMES = {"IC": "Incident Commander", "TL": "Technical Lead", "COM": "Communications",
              "SCR": "Scribe"}

IMPACT_PROMPTS = """\
- **Customer Impact**: X customers affected
- **Data Loss**: None/Description
- **Financial Impact**: $X
- **SLA Impact**: X% uptime"""

LESSONS_AND_AFTER = """\
## Lessons Learned
### What Went Well
- Item 1
- Item 2

### What Went Poorly
- Item 1
- Item 2

## Action Items
| Action | Owner | Due Date | Status |
|--------|-------|----------|--------|
| Add monitoring for X | @person | YYYY-MM-DD | Open |
| Update runbook for Y | @person | YYYY-MM-DD | Open |

## Supporting Information
- [Link to logs]
- [Link to graphs]
- [Link to code changes]"""


class _Times:
    """Times in one zone (the local one when tz is None), dated when off the report's day."""

    def __init__(self, tz: tzinfo | None, day: date) -> None:
        self.tz = tz
        self.day = day

    def local(self, ts: datetime) -> datetime:
        return ts.astimezone(self.tz)

    def hm(self, ts: datetime) -> str:
        t = self.local(ts)
        return f"{t:%H:%M}" if t.date() == self.day else f"{t:%H:%M} ({t:%Y-%m-%d})"

    def hms(self, ts: datetime) -> str:
        t = self.local(ts)
        return f"{t:%H:%M:%S}" if t.date() == self.day else f"{t:%Y-%m-%d %H:%M:%S}"

    def zone(self, ts: datetime) -> str:
        t = self.local(ts)
        offset = t.strftime("%z")
        name = t.tzname() or ""
        if offset in ("+0000", "") and name in ("UTC", ""):
            return "UTC"
        utc = f"UTC{offset[:3]}:{offset[3:]}"
        return f"{name} ({utc})" if name and name != utc else utc


def _minutes(seconds: float) -> int:
    return math.floor(seconds / 60 + 0.5)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def event_time(r: LogRecord) -> datetime:
    """When the event happened: an alert when it fired, a failed check at its first failed
    probe, anything else when it was recorded."""
    if r.kind == ALERT_FIRED:
        return fired_at(r)
    if r.kind in (ENDPOINT_DOWN, ENDPOINT_FLAPPING):
        return failed_since(r)
    return r.ts


def _line(r: LogRecord, times: _Times) -> list[str]:
    """The full timeline's entry: the timeline's own line for the kind (one vocabulary,
    luckytui.signals.describe), and the text of what was sent, quoted."""
    d: dict[str, Any] = dict(r.data)
    out = [f"- {times.hms(event_time(r))} · {r.actor} · "
           f"{_one_line(describe(r.kind, d, tz=times.tz))}"]
    if r.kind in (UPDATE_SENT, NOTICE_SENT) and str(d.get("text", "")).strip():
        out += [f"  > {line}".rstrip() for line in str(d["text"]).strip().splitlines()]
    return out


def _first(records: Sequence[LogRecord], kind: str, **data: Any) -> LogRecord | None:
    return next((r for r in records if r.kind == kind
                 and all(r.data.get(k) == v for k, v in data.items())), None)


def _step(times: _Times, ts: datetime | None, label: str, detail: str | None = None) -> str:
    if ts is None:
        return f"- --:-- - {label} (not recorded)"
    return f"- {times.hm(ts)} - {label}" + (f" ({detail})" if detail else "")


def _starters(inc: Incident, mine: Sequence[LogRecord],
              records: Sequence[LogRecord]) -> list[LogRecord]:
    """The alerts and failed checks that started the incident: its own, or else those
    attached to no incident that happened between the impact start and the declaration;
    in the order they happened."""
    own = [r for r in mine if r.kind in STARTERS]
    found = own or [r for r in records if r.kind in STARTERS and r.incident is None
                    and inc.started_at <= event_time(r) <= inc.declared_at]
    return sorted(found, key=lambda r: (event_time(r), r.id))


def _first_step(inc: Incident, first: LogRecord | None, times: _Times) -> str:
    """The template's "Alert triggered" line, for what really started it."""
    if first is None:
        return _step(times, inc.detected, "Detected",
                     "no alert or failed check recorded; the declaration's detection time")
    if first.kind == ALERT_FIRED:
        return _step(times, event_time(first), "Alert triggered", str(first.data.get("alert")))
    name = f"{first.data.get('group')}/{first.data.get('endpoint')}"
    return _step(times, event_time(first), "Endpoint check failed", name)


def _timeline(inc: Incident, mine: Sequence[LogRecord], first: LogRecord | None,
              times: _Times) -> list[str]:
    lines = [_first_step(inc, first, times)]
    ack = _first(mine, ACKNOWLEDGED)
    lines.append(_step(times, inc.acknowledged_at, "Engineer acknowledged",
                       ack.actor if ack else None))
    identified = _first(mine, STATUS, new="Identified")
    lines.append(_step(times, inc.identified_at, "Root cause identified",
                       f"status Identified, {identified.actor}" if identified else None))
    if inc.mitigated_at is not None:
        monitoring = _first(mine, STATUS, new="Monitoring")
        who = f", {monitoring.actor}" if monitoring else ""
        lines.append(_step(times, inc.mitigated_at, "Fix deployed", f"status Monitoring{who}"))
    else:
        fix = next((r for r in mine if r.kind == OUTCOME and r.data.get("status") == "ok"
                    and not r.data.get("undo_of")), None)
        lines.append(_step(times, fix.ts if fix else None, "Fix deployed",
                           f"{fix.data.get('action')} {fix.data.get('target')}, {fix.actor}"
                           if fix else None))
    resolved = _first(mine, RESOLVED)
    lines.append(_step(times, inc.resolved_at, "Incident resolved",
                       resolved.actor if resolved else None))
    return lines


def _mitigations(mine: Sequence[LogRecord], times: _Times) -> list[str]:
    rows: list[tuple[datetime, int, str]] = []
    for r in mine:
        d = r.data
        if r.kind == OUTCOME:
            took = d.get("duration_s")
            rows.append((r.ts, r.id, f"- {times.hm(r.ts)} · {r.actor} · {undo_prefix(d)}"
                         f"{d.get('action')} {d.get('target')}: **{d.get('status')}** — "
                         f"{_one_line(str(d.get('detail', '')))}"
                         + (f" ({took} s)" if isinstance(took, int | float) else "")))
        elif r.kind == REFUSED:
            what = _one_line(f"{d.get('action')} {' '.join(map(str, d.get('args', [])))}")
            rows.append((r.ts, r.id, f"- {times.hm(r.ts)} · {r.actor} · "
                         f"{what}: **refused** — "
                         f"{_one_line(str(d.get('reason', '')))}"))
    for r in unfinished([r for r in mine if r.kind in (INTENT, OUTCOME)]):
        rows.append((r.ts, r.id, f"- {times.hm(r.ts)} · {r.actor} · "
                     f"{r.data.get('action')} {r.data.get('target')}: **outcome unknown** "
                     "(started, no outcome recorded)"))
    return [text for _, _, text in sorted(rows)] or ["- None recorded."]


def _checklist(inc: Incident) -> list[str]:
    if not inc.checklist:
        return ["- Not answered: the incident is not resolved."]
    items = [*RESOLUTION_CHECKLIST, *(k for k in inc.checklist if k not in RESOLUTION_CHECKLIST)]
    return [f"- [x] {item}" if inc.checklist.get(item) == "ticked"
            else f"- [ ] {item} ({inc.checklist.get(item, 'not answered')})" for item in items]


def _response(inc: Incident, times: _Times) -> list[str]:
    def verdict(value: float | None, target: int) -> str:
        return "met" if value is not None and value < target else "missed"

    mtta = ("not acknowledged" if inc.mtta_s is None else
            f"{format_duration(inc.mtta_s, 'mtt')} — target < 5 min: "
            f"{verdict(inc.mtta_s, MTTA_TARGET_S)}")
    mttr = ("ongoing" if inc.mttr_s is None else
            f"{format_duration(inc.mttr_s, 'mtt')} — target < 30 min: "
            f"{verdict(inc.mttr_s, MTTR_TARGET_S)}")
    response = clock_rules.response_clock(inc, inc.acknowledged_at or inc.declared_at)
    judged = response.severity or inc.severity  # the severity in force while it ran
    sla = RESPONSE_SLA_S.get(judged, RESPONSE_SLA_S["P4"])
    sla_state = response.state if not response.open else "not acknowledged"
    lines = [f"- MTTA (acknowledged − detected): {mtta}",
             f"- MTTR (resolved − detected): {mttr}",
             f"- Response SLA ({judged}: acknowledge within "
             f"{format_duration(sla, 'window')}): {sla_state}"]
    sent = ", ".join(times.hm(t) for t in inc.updates_sent)
    lines.append(f"- Status updates sent: {len(inc.updates_sent)}" + (f" ({sent})" if sent else ""))
    deadlines = [v for k, v in inc.clocks.items() if k.startswith(f"{clock_rules.STATUS_UPDATE}@")]
    if deadlines:
        lines.append(f"- Status page deadlines: {deadlines.count('met')} met, "
                     f"{deadlines.count('missed')} missed (as recorded)")
    if inc.severity == "P1" or inc.notices_sent:
        notices = ", ".join(times.hm(t) for t in inc.notices_sent)
        lines.append(f"- Customer notifications sent: {len(inc.notices_sent)}"
                     + (f" ({notices})" if notices else ""))
    return lines


def _roles(mine: Sequence[LogRecord], times: _Times) -> list[str]:
    held: dict[str, list[str]] = {role: [] for role in ROLES}
    for r in mine:
        role = r.data.get("role")
        if r.kind == ROLE and role in held:
            name = r.data.get("name") or "unassigned"
            held[str(role)].append(f"{name} from {times.hm(r.ts)}")
    return [f"- **{role}** ({ROLE_NAMES[role]}): {', '.join(who) if who else 'not assigned'}"
            for role, who in held.items()]


def render(incident: Incident, records: Sequence[LogRecord], *, tz: tzinfo | None,
           author: str | None = None) -> str:
    """The post-mortem in Markdown. records: the incident's log records (others are
    ignored, except the alerts fired and checks failed, attached to no incident, between
    the impact start and the declaration); times
    in tz, the local zone when None."""
    inc = incident
    mine = sorted((r for r in records if r.incident == inc.number), key=lambda r: r.id)
    detected = inc.detected.astimezone(tz)
    times = _Times(tz, detected.date())
    starters = _starters(inc, mine, records)

    declared = _first(mine, DECLARED)
    first_severity = str(declared.data.get("severity")) if declared else inc.severity
    severity = inc.severity + (f" (declared {first_severity})"
                               if first_severity != inc.severity else "")
    if inc.resolved_at is None:
        duration = f"ongoing (impact started {times.hm(inc.started_at)})"
    else:
        total = _minutes((inc.resolved_at - inc.started_at).total_seconds())
        duration = f"{total} minutes, from impact start to resolution"
        if inc.started_at != inc.detected:
            since = _minutes((inc.resolved_at - inc.detected).total_seconds())
            duration += f" ({since} from detection)"

    components = ", ".join(inc.components) or "not recorded"
    changes = [r for r in mine if r.kind == SEVERITY]
    declared_line = (f"{first_severity} declared{' (drill)' if inc.drill else ''} by "
                     f"{inc.declared_by} at {times.hm(inc.declared_at)}"
                     + "".join(f", {r.data.get('new')} from {times.hm(r.ts)}" for r in changes))
    full = sorted({r.id: r for r in [*mine, *starters]}.values(),
                  key=lambda r: (event_time(r), r.id))

    out = [
        f"# Incident Post-Mortem: {inc.title}",
        "",
        f"**Incident Number**: {inc.number}",
        f"**Date**: {detected:%Y-%m-%d}",
        f"**Duration**: {duration}",
        f"**Severity**: {severity}",
        f"**Author**: {author or '[Name]'}",
    ]
    if inc.drill:
        out.append("**Drill**: yes (not a production incident; kept out of the metrics)")
    out += [
        "",
        "## Summary",
        "Brief description of what happened.",
        "",
        f"{inc.title}: {declared_line}; affected components: {components}.",
        "",
        "## Timeline",
        *_timeline(inc, mine, starters[0] if starters else None, times),
        "",
        f"Times in {times.zone(inc.detected)}.",
        "",
        "### Full timeline",
        *(line for r in full for line in _line(r, times)),
        "",
        "## Impact",
        IMPACT_PROMPTS,
        "",
        f"Recorded: impact started {times.hm(inc.started_at)}, detected "
        f"{times.hm(inc.detected)}, declared {times.hm(inc.declared_at)}; affected "
        f"components: {components}.",
        "",
        "## Root Cause",
        "Detailed explanation of why this happened.",
        "",
        ("Identified at " + times.hm(inc.identified_at) + "." if inc.identified_at
         else "Not recorded as identified."),
        "",
        "## Resolution",
        "How the incident was resolved.",
        "",
        "### Mitigations run",
        *_mitigations(mine, times),
        "",
        "### Resolution checklist",
        *_checklist(inc),
        "",
        "### Response",
        *_response(inc, times),
        "",
        "### Roles",
        *_roles(mine, times),
        "",
        LESSONS_AND_AFTER,
    ]
    # a file a colleague will `cat`: what it quotes carries no terminal escape
    return visible("\n".join(out) + "\n", multiline=True)


async def incident_records(log: EventLog, inc: Incident) -> list[LogRecord]:
    """What `render` needs: the incident's records, with the alerts and failed checks,
    attached to no incident, that happened between its impact start and its declaration."""
    records = await log.records(incident=inc.number)
    records += [r for r in await log.records(kinds=STARTERS)
                if r.incident is None and inc.started_at <= event_time(r) <= inc.declared_at]
    return records


def free_path(directory: Path, number: str) -> Path:
    """INC-...-postmortem.md in directory, or -2, -3... when taken (nothing overwritten)."""
    path = directory / f"{number}-postmortem.md"
    n = 1
    while path.exists():
        n += 1
        path = directory / f"{number}-postmortem-{n}.md"
    return path
