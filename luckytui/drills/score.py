"""A drill's score: what the team did, read from the log, against the plan.

A pure function of the log's records (and of the scenario, whose remedy rules the
``drill.started`` record carries): no terminal, no clock but the records' own times.

What it measures, from ``drill.started`` (the faults begin):

- **Declared**: the drill incident's declaration (an incident declared while the drill
  runs is the drill's, see :func:`open_drill`). Target: 5 minutes, the plan's initial
  assessment window (0-5 minutes).
- **Severity**: the first declared severity against the scenario's expected one (what
  the plan's decision tree reaches), and the final one; every change is listed.
- **First right remedy**: the first remedy whose outcome succeeded and that the scenario
  calls right. Target: the expected severity's response SLA (P1 15 min, P2 30 min).
- **Recovered**: ``drill.recovered`` (every fault over) before the incident was resolved.
  Target: 30 minutes, the plan's MTTR target. Stopped first: "not recovered".
- **Status updates**: the plan's status page rule for the expected severity (P1 and P2:
  the first within 15 minutes of detection, then every 30 minutes until resolved), the
  production clocks' own rule (luckytui.incident.clocks) applied in drill time. P3/P4
  drills need none.
- **Actions**: every remedy run during the drill, with its time: right, harmful (the
  scenario names it), or wrong (neither).

Times are the log's timestamps, wall time from ``drill.started``. A drill run at speed X
plays X seconds of production in each wall second, so every target is judged in drill
time = wall time * X (at speed 10, the 5-minute declaration target is 30 wall seconds).

The verdict: 100 points, given per line, so a facilitator sees what to practise —
declared on time 15 (late 5); severity right at first 15 (corrected to the expected one
later 5); first right remedy on time 20 (late 10); recovered on time 20 (late 10); status
updates 15 * the share of due updates sent on time (15 when none was due); actions 15,
less 5 for each wrong and 15 for each harmful one. **pass** needs 70 points or more,
production recovered, and no harmful action; anything else is **needs practice**.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from luckytui.drills.scenario import RemedyRule, Scenario
from luckytui.durations import format_duration
from luckytui.events import (
    DRILL_RECOVERED,
    DRILL_SCORED,
    DRILL_STARTED,
    DRILL_STOPPED,
    INTENT,
    OUTCOME,
)
from luckytui.incident.clocks import MET, UPDATE_SEVERITIES, update_clocks
from luckytui.incident.model import RESPONSE_SLA_S, SEVERITIES, Incident, fold
from luckytui.store import LogRecord
from luckytui.timeparse import parse_iso

DRILL_KINDS = (DRILL_STARTED, DRILL_RECOVERED, DRILL_STOPPED, DRILL_SCORED)

DECLARE_TARGET_S = 5 * 60  # the plan's initial assessment: 0-5 minutes
RECOVERY_TARGET_S = 30 * 60  # the plan's MTTR target
PASS_POINTS = 70
RIGHT, WRONG, HARMFUL = "right", "wrong", "harmful"


@dataclass(frozen=True, slots=True)
class Act:
    """One remedy run during the drill."""

    at_s: float  # wall seconds from the drill's start to its intent
    remedy: str  # the action and its arguments: "scale luckygas-backend 10"
    kind: str  # right, wrong or harmful
    status: str  # ok, failed, refused, or unknown (no outcome recorded)


@dataclass(frozen=True, slots=True)
class UpdateDue:
    """One status page deadline (in wall seconds from the start) and whether it was met."""

    due_s: float
    on_time: bool


@dataclass(frozen=True, slots=True)
class Line:
    """One judged line of the score."""

    key: str  # declared, severity, first_right, recovered, updates, actions
    label: str
    text: str
    points: int
    out_of: int

    @property
    def ok(self) -> bool:
        return self.points == self.out_of


@dataclass(frozen=True, slots=True)
class DrillScore:
    drill_id: str
    scenario: str
    title: str
    started_at: datetime
    speed: float  # drill seconds a wall second
    expected_severity: str
    incident: str | None = None  # the drill incident, if one was declared
    incident_title: str = ""
    severities: tuple[tuple[float, str], ...] = ()  # (wall s, severity), the first declared
    declared_s: float | None = None
    first_right_s: float | None = None  # when its outcome was recorded
    first_right: str = ""
    recovered_s: float | None = None  # None: not recovered (by the resolution)
    stopped: bool = False  # the simulation stopped before production recovered
    resolved_s: float | None = None
    updates_required: bool = False
    updates_due: tuple[UpdateDue, ...] = ()
    updates_sent_s: tuple[float, ...] = ()
    actions: tuple[Act, ...] = ()

    @property
    def final(self) -> bool:
        """The drill incident is resolved: this is the score recorded for the drill."""
        return self.resolved_s is not None

    @property
    def first_severity(self) -> str | None:
        return self.severities[0][1] if self.severities else None

    @property
    def final_severity(self) -> str | None:
        return self.severities[-1][1] if self.severities else None

    @property
    def wrong(self) -> tuple[Act, ...]:
        return tuple(a for a in self.actions if a.kind == WRONG)

    @property
    def harmful(self) -> tuple[Act, ...]:
        return tuple(a for a in self.actions if a.kind == HARMFUL)

    def drill_s(self, wall_s: float) -> float:
        return wall_s * self.speed

    def lines(self) -> list[Line]:
        return _lines(self)

    @property
    def points(self) -> int:
        return sum(line.points for line in self.lines())

    @property
    def passed(self) -> bool:
        return (self.points >= PASS_POINTS and self.recovered_s is not None
                and not self.harmful)

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "needs practice"


# --- which drill is running ----------------------------------------------------------


def open_drill(records: Iterable[LogRecord]) -> LogRecord | None:
    """The latest ``drill.started`` not yet scored or stopped: an incident declared now is
    that drill's (production's recovery does not end it: the incident may still be open)."""
    latest: LogRecord | None = None
    for r in records:
        if r.kind == DRILL_STARTED and r.data.get("drill_id"):
            latest = r
        elif (latest is not None and r.kind in (DRILL_SCORED, DRILL_STOPPED)
              and r.data.get("drill_id") == latest.data.get("drill_id")):
            latest = None
    return latest


def rules_of(started: Mapping[str, Any], scenario: Scenario | None = None) -> Scenario:
    """The scenario as the drill ran it: its remedy rules from the ``drill.started`` record,
    else from ``scenario`` (a record written without them)."""
    def rules(key: str) -> tuple[RemedyRule, ...] | None:
        value = started.get(key)
        if not isinstance(value, list):
            return None
        words = [str(v).split() for v in value]
        return tuple(RemedyRule(w[0], tuple(w[1:])) for w in words if w)

    right, harmful = rules("right"), rules("harmful")
    expected = str(started.get("expected_severity") or "")
    base = scenario or Scenario(name=str(started.get("scenario", "")),
                                title=str(started.get("title", "")), summary="",
                                expected_severity="P3", right=())
    return replace(base, right=base.right if right is None else right,
                   harmful=base.harmful if harmful is None else harmful,
                   expected_severity=expected if expected in SEVERITIES
                   else base.expected_severity)


# --- the score ------------------------------------------------------------------------


def _speed(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) \
            and math.isfinite(value) and value > 0:
        return float(value)
    return 1.0


def _argv(intent: LogRecord) -> list[str]:
    argv = intent.data.get("argv")
    if isinstance(argv, list):
        return [str(a) for a in argv]
    target = str(intent.data.get("target") or "").rpartition("/")[2]  # older records
    return [target] if target else []


def _acts(records: Sequence[LogRecord], start: datetime, end: datetime, rules: Scenario
          ) -> tuple[list[Act], tuple[float, str] | None]:
    """Every remedy whose intent falls in the drill, and the first right one that
    succeeded: (wall seconds of its outcome, what it was)."""
    outcomes = {r.data.get("intent"): r for r in records if r.kind == OUTCOME}
    acts: list[Act] = []
    first_right: tuple[float, str] | None = None
    for r in records:
        if r.kind != INTENT or not start <= r.ts <= end:
            continue
        action, argv = str(r.data.get("action") or "?"), _argv(r)
        kind = (HARMFUL if rules.is_harmful(action, argv)
                else RIGHT if rules.is_right(action, argv) else WRONG)
        outcome = outcomes.get(r.id)
        status = str(outcome.data.get("status")) if outcome is not None else "unknown"
        remedy = " ".join([action, *argv])
        acts.append(Act((r.ts - start).total_seconds(), remedy, kind, status))
        if (kind == RIGHT and status == "ok" and outcome is not None
                and outcome.ts <= end and first_right is None):
            first_right = ((outcome.ts - start).total_seconds(), remedy)
    return acts, first_right


def _in_drill_time(inc: Incident, origin: datetime, speed: float, expected: str) -> Incident:
    """The incident with every time stretched by the drill's speed from its start, held at
    the expected severity: the production clocks then judge it as the plan would."""
    def at(t: datetime) -> datetime:
        return origin + (max(t, origin) - origin) * speed

    detected = at(inc.detected)
    return replace(inc, declared_at=at(inc.declared_at), started_at=min(at(inc.started_at),
                                                                        detected),
                   detected_at=detected, severity=expected,
                   severities=((at(inc.declared_at), expected),),
                   resolved_at=at(inc.resolved_at) if inc.resolved_at else None,
                   updates_sent=tuple(at(t) for t in inc.updates_sent))


def _updates(inc: Incident, origin: datetime, speed: float, expected: str, end: datetime
             ) -> tuple[UpdateDue, ...]:
    stretched = _in_drill_time(inc, origin, speed, expected)
    now = origin + (end - origin) * speed
    out = []
    for clock in update_clocks(stretched, now):
        if clock.due > now and clock.state != MET:
            continue  # not due yet
        out.append(UpdateDue((clock.due - origin).total_seconds() / speed,
                             clock.state == MET))
    return tuple(out)


def score_drill(records: Sequence[LogRecord], drill_id: str, *, now: datetime,
                scenario: Scenario | None = None) -> DrillScore | None:
    """The score of drill ``drill_id`` from the log's records (None: no such drill).

    Final once the drill incident is resolved (everything up to the resolution counts);
    before that, provisional up to ``now``."""
    started = next((r for r in records if r.kind == DRILL_STARTED
                    and r.data.get("drill_id") == drill_id), None)
    if started is None:
        return None
    after = [r for r in records if r.id >= started.id]
    start, d = started.ts, started.data
    rules = rules_of(d, scenario)
    speed = _speed(d.get("speed"))

    def first(kind: str) -> LogRecord | None:
        return next((r for r in after if r.kind == kind
                     and r.data.get("drill_id") == drill_id), None)

    stopped, recovered = first(DRILL_STOPPED), first(DRILL_RECOVERED)
    inc = next((i for i in fold(r for r in after if r.incident is not None).values()
                if i.drill_id == drill_id), None)
    if inc is not None and inc.resolved_at is not None:
        end = inc.resolved_at
    elif inc is None and stopped is not None:
        end = stopped.ts
    else:
        end = now
    acts, first_right = _acts(after, start, end, rules)
    got_better = recovered is not None and recovered.ts <= end
    if stopped is not None and recovered is not None and stopped.ts < recovered.ts:
        got_better = False

    def wall(t: datetime) -> float:
        return (t - start).total_seconds()

    expected = rules.expected_severity
    required = expected in UPDATE_SEVERITIES
    return DrillScore(
        drill_id=drill_id, scenario=rules.name, title=rules.title, started_at=start,
        speed=speed, expected_severity=expected,
        incident=inc.number if inc else None, incident_title=inc.title if inc else "",
        severities=tuple((wall(t), s) for t, s in inc.severities) if inc else (),
        declared_s=wall(inc.declared_at) if inc else None,
        first_right_s=first_right[0] if first_right else None,
        first_right=first_right[1] if first_right else "",
        recovered_s=wall(recovered.ts) if got_better and recovered is not None else None,
        stopped=stopped is not None and not got_better and stopped.ts <= end,
        resolved_s=wall(inc.resolved_at) if inc and inc.resolved_at else None,
        updates_required=required,
        updates_due=_updates(inc, start, speed, expected, end) if inc and required else (),
        updates_sent_s=tuple(wall(t) for t in inc.updates_sent if t <= end) if inc else (),
        actions=tuple(acts))


# --- the judgement --------------------------------------------------------------------


def drill_time(seconds: float | None, speed: float) -> str:
    """``4m 10s`` in drill time, and the wall time in brackets when they differ."""
    if seconds is None:
        return "—"
    text = format_duration(seconds * speed, "mtt")
    return text if speed == 1 else f"{text} ({format_duration(seconds, 'mtt')} wall)"


def _timed(key: str, label: str, s: DrillScore, at: float | None, target_s: float,
           full: int, late: int, what: str, missing: str) -> Line:
    if at is None:
        return Line(key, label, missing, 0, full)
    on_time = at * s.speed <= target_s
    verdict = "on time" if on_time else "late"
    return Line(key, label, f"{what}{drill_time(at, s.speed)} after the start, {verdict} "
                f"(target {format_duration(target_s, 'window')})", full if on_time else late,
                full)


def _severity_line(s: DrillScore) -> Line:
    first, final, expected = s.first_severity, s.final_severity, s.expected_severity
    if first is None:
        return Line("severity", "Severity", f"none chosen (expected {expected})", 0, 15)
    path = " → ".join(sev for _, sev in s.severities)
    if first == expected:
        note = "right at first" + ("" if final == expected else f", then changed to {final}")
        return Line("severity", "Severity", f"{path} (expected {expected}): {note}",
                    15 if final == expected else 5, 15)
    direction = ("upgraded" if SEVERITIES.index(final or first) < SEVERITIES.index(first)
                 else "downgraded")
    if final == expected:
        return Line("severity", "Severity", f"{path} (expected {expected}): {direction} "
                    "to the expected one", 5, 15)
    return Line("severity", "Severity", f"{path} (expected {expected}): never the "
                "expected one", 0, 15)


def _updates_line(s: DrillScore) -> Line:
    if not s.updates_required:
        return Line("updates", "Status updates", f"none required for a {s.expected_severity} "
                    "(the plan asks them of P1 and P2)", 15, 15)
    due = s.updates_due
    if not due:
        return Line("updates", "Status updates", "none was due before the resolution" if s.final
                    else "none due yet", 15, 15)
    met = sum(1 for u in due if u.on_time)
    detail = "; ".join(f"due at {drill_time(u.due_s, s.speed)}: "
                       f"{'on time' if u.on_time else 'LATE or missing'}" for u in due)
    sent = ", ".join(drill_time(t, s.speed) for t in s.updates_sent_s) or "none"
    return Line("updates", "Status updates", f"{met} of {len(due)} on time ({detail}); "
                f"sent at {sent}",
                round(15 * met / len(due)), 15)


def _count(n: int, stem: str) -> str:
    return f"{n} {stem}{'y' if n == 1 else 'ies'}"


def _lines(s: DrillScore) -> list[Line]:
    sla = RESPONSE_SLA_S.get(s.expected_severity, RESPONSE_SLA_S["P4"])
    recovered = _timed("recovered", "Recovered", s, s.recovered_s, RECOVERY_TARGET_S, 20, 10,
                       "", "NOT RECOVERED" + (": the drill was stopped first" if s.stopped
                                              else " by the resolution" if s.final else ""))
    wrong, harmful = len(s.wrong), len(s.harmful)
    return [
        _timed("declared", "Declared", s, s.declared_s, DECLARE_TARGET_S, 15, 5,
               f"{s.incident}, " if s.incident else "", "no incident declared"),
        _severity_line(s),
        _timed("first_right", "First right remedy", s, s.first_right_s, sla, 20, 10,
               f"{s.first_right}, ", "none succeeded"),
        recovered,
        _updates_line(s),
        Line("actions", "Actions", f"{_count(len(s.actions), 'remed')}: {wrong} wrong, "
             f"{harmful} harmful", max(0, 15 - 5 * wrong - 15 * harmful), 15),
    ]


# --- the record -----------------------------------------------------------------------


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def to_json(s: DrillScore) -> dict[str, Any]:
    """The score as the ``drill.scored`` record and ``--json`` give it (times in wall
    seconds from the drill's start; ``lines`` and ``points`` say how it was judged)."""
    return {
        "drill_id": s.drill_id, "scenario": s.scenario, "title": s.title,
        "started_at": _iso(s.started_at), "speed": s.speed,
        "expected_severity": s.expected_severity, "incident": s.incident,
        "incident_title": s.incident_title,
        "severities": [{"at_s": _r(t), "severity": sev} for t, sev in s.severities],
        "first_severity": s.first_severity, "final_severity": s.final_severity,
        "declared_s": _r(s.declared_s), "first_right_s": _r(s.first_right_s),
        "first_right": s.first_right, "recovered": s.recovered_s is not None,
        "recovered_s": _r(s.recovered_s), "stopped": s.stopped, "resolved_s": _r(s.resolved_s),
        "final": s.final, "updates_required": s.updates_required,
        "updates_due": [{"due_s": _r(u.due_s), "on_time": u.on_time} for u in s.updates_due],
        "updates_sent_s": [_r(t) for t in s.updates_sent_s],
        "actions": [{"at_s": _r(a.at_s), "remedy": a.remedy, "kind": a.kind,
                     "status": a.status} for a in s.actions],
        "wrong": len(s.wrong), "harmful": len(s.harmful),
        "lines": [{"key": line.key, "text": line.text, "points": line.points,
                   "out_of": line.out_of} for line in s.lines()],
        "points": s.points, "verdict": s.verdict,
    }


def _num(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        and math.isfinite(value) else None


def _list(value: object) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def from_json(d: Mapping[str, Any]) -> DrillScore:
    """A score back from its record (ValueError when it cannot be read); the judgement
    is worked out again from the facts, never taken from the record."""
    try:
        started = parse_iso(str(d["started_at"])).astimezone(UTC)
    except (KeyError, ValueError) as exc:
        raise ValueError(f"not a drill score: {exc}") from None
    return DrillScore(
        drill_id=str(d.get("drill_id", "")), scenario=str(d.get("scenario", "")),
        title=str(d.get("title", "")), started_at=started, speed=_speed(d.get("speed")),
        expected_severity=str(d.get("expected_severity", "")),
        incident=str(d["incident"]) if d.get("incident") else None,
        incident_title=str(d.get("incident_title", "")),
        severities=tuple((_num(x.get("at_s")) or 0.0, str(x.get("severity")))
                         for x in _list(d.get("severities"))),
        declared_s=_num(d.get("declared_s")), first_right_s=_num(d.get("first_right_s")),
        first_right=str(d.get("first_right") or ""), recovered_s=_num(d.get("recovered_s")),
        stopped=d.get("stopped") is True, resolved_s=_num(d.get("resolved_s")),
        updates_required=d.get("updates_required") is True,
        updates_due=tuple(UpdateDue(_num(u.get("due_s")) or 0.0, u.get("on_time") is True)
                          for u in _list(d.get("updates_due"))),
        updates_sent_s=tuple(t for t in map(_num, d.get("updates_sent_s") or [])
                             if t is not None) if isinstance(d.get("updates_sent_s"), list)
        else (),
        actions=tuple(Act(_num(a.get("at_s")) or 0.0, str(a.get("remedy", "")),
                          str(a.get("kind", WRONG)), str(a.get("status", "unknown")))
                      for a in _list(d.get("actions"))))
