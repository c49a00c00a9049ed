"""Changes in what the sources see that belong on the timeline.

Alerts that start or stop firing are recorded to the log. Each record carries a
dedupe key built from the alert's own identity (name and activeAt), so several
luckytui processes watching the same Prometheus and sharing one log file record
each change once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from luckytui.mitigations.runner import describe_intent, describe_outcome
from luckytui.snapshots import Alert, AlertsSnapshot


@dataclass(frozen=True, slots=True)
class Signal:
    kind: str
    data: dict[str, Any]
    dedupe: str


def _key(alert: Alert) -> str:
    started = alert.active_at.isoformat() if alert.active_at else "?"
    return f"{alert.name}@{started}"


def alert_signals(before: AlertsSnapshot | None, after: AlertsSnapshot) -> list[Signal]:
    """alert.fired for alerts newly firing, alert.resolved for firing alerts now gone."""
    was = {_key(a): a for a in (before.alerts if before else ()) if a.state == "firing"}
    now = {_key(a): a for a in after.alerts if a.state == "firing"}
    out = [
        Signal("alert.fired", {"alert": a.name, "severity": a.severity, "summary": a.summary,
                               "active_at": a.active_at.isoformat() if a.active_at else None},
               f"alert.fired:{k}")
        for k, a in now.items() if k not in was
    ]
    out += [
        Signal("alert.resolved", {"alert": a.name, "severity": a.severity},
               f"alert.resolved:{k}")
        for k, a in was.items() if k not in now
    ]
    return out


def describe(kind: str, data: dict[str, Any]) -> str:
    """One line for the timeline."""
    if kind == "alert.fired":
        return f"▲ {data.get('alert')} firing ({data.get('severity')}): {data.get('summary', '')}"
    if kind == "alert.resolved":
        return f"✓ {data.get('alert')} resolved"
    if kind == "incident.declared":
        drill = " (drill)" if data.get("drill") else ""
        return f"Declared {data.get('severity')}{drill}: {data.get('title', '')}"
    if kind == "incident.acknowledged":
        return "Acknowledged"
    if kind in ("incident.severity", "incident.status"):
        what = "Severity" if kind == "incident.severity" else "Status"
        return f"{what} {data.get('old')} → {data.get('new')}"
    if kind == "incident.role":
        held = data.get("name") or "nobody"
        was = f" (was {data['previous']})" if data.get("previous") else ""
        return f"{data.get('role')}: {held}{was}"
    if kind == "incident.note":
        return f"Note: {data.get('text', '')}"
    if kind == "incident.resolved":
        answers = dict(data.get("checklist", {}))
        ticked = sum(1 for v in answers.values() if v == "ticked")
        return f"Resolved ({ticked} of {len(answers)} checklist items ticked)"
    if kind == "runbook.step":
        mark = "☑" if data.get("ticked") else "☐"
        return f"{mark} {data.get('title')}: step {int(data.get('step', 0)) + 1}, " \
               f"{data.get('text')}"
    if kind == "mitigation.intent":
        return describe_intent(data)
    if kind == "mitigation.outcome":
        return describe_outcome(data)
    if kind == "mitigation.refused":
        return f"⊘ {data.get('action')} {' '.join(map(str, data.get('args', [])))} refused: " \
               f"{data.get('reason')}"
    text = data.get("text") or data.get("message") or ""
    return f"{kind} {text}".strip()
