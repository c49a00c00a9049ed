"""A drill's score as people read it (the war room's modal and `luckytui drill score`),
and the list of past drills (`luckytui report --drills`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, tzinfo
from typing import Any

from luckytui.drills.score import PASS_POINTS, DrillScore, drill_time, to_json
from luckytui.durations import format_duration
from luckytui.text import visible

RULE = (f"pass: {PASS_POINTS}/100 or more, production recovered, no harmful action; "
        "targets in drill time (wall time * speed): declared 5 min, first right remedy "
        "within the expected severity's response SLA, recovered 30 min, status updates "
        "as the plan asks for P1/P2")


def _when(score: DrillScore, tz: tzinfo | None) -> str:
    at = score.started_at.astimezone(tz)
    return f"{at:%Y-%m-%d %H:%M} {at.tzname() or ''}".strip()


def render_score(score: DrillScore, *, tz: tzinfo | None = None) -> list[str]:
    """The score as lines of plain text (outside text shown safely): the drill, one line
    a measure with its points, every remedy with its time, the verdict and its rule."""
    speed = "" if score.speed == 1 else f" · speed {score.speed:g}x"
    state = ("final: the incident is resolved" if score.final
             else "provisional: no incident declared yet" if score.incident is None
             else "provisional: the incident is still open")
    inc = (f"{score.incident}: {score.incident_title}" if score.incident
           else "no incident declared")
    lines = [
        f"Drill {score.scenario} ({score.title}) · {score.drill_id} · "
        f"started {_when(score, tz)}{speed}",
        f"Incident {inc} · {state}",
        "Times from the drill's start, in drill time"
        + (f" (wall time x {score.speed:g} in brackets)" if score.speed != 1 else "") + ".",
        "",
    ]
    width = max(len(line.label) for line in score.lines())
    for line in score.lines():
        mark = "✓" if line.ok else "✖"
        lines.append(f"{mark} {line.label:<{width}}  {line.points:>2}/{line.out_of:<2}  "
                     f"{line.text}")
    for act in score.actions:
        lines.append(f"    {drill_time(act.at_s, score.speed):>16}  {act.kind.upper():<7}  "
                     f"{act.remedy} ({act.status})")
    lines += ["", f"Score {score.points}/100: {score.verdict.upper()}", f"({RULE})"]
    return [visible(line) for line in lines]


def _sev(score: DrillScore) -> str:
    chosen = score.first_severity or "—"
    if score.final_severity and score.final_severity != score.first_severity:
        chosen += f"→{score.final_severity}"
    return f"{chosen}/{score.expected_severity}"


def _t(score: DrillScore, seconds: float | None) -> str:
    return format_duration(None if seconds is None else seconds * score.speed, "mtt")


def render_list(scores: Sequence[DrillScore], *, tz: tzinfo | None = None) -> str:
    """One row a drill, oldest first: the plan's monthly drills at a glance."""
    rows = [("DATE", "SCENARIO", "INCIDENT", "SEV/EXP", "SPEED", "DECLARED", "1ST RIGHT",
             "RECOVERED", "UPDATES", "WRONG", "HARMFUL", "VERDICT")]
    for s in scores:
        due = s.updates_due
        updates = (f"{sum(u.on_time for u in due)}/{len(due)}" if s.updates_required
                   else "n/a")
        verdict = f"{s.points} {s.verdict}" + ("" if s.final else " (provisional)")
        rows.append((f"{s.started_at.astimezone(tz):%Y-%m-%d %H:%M}", s.scenario,
                     s.incident or "—", _sev(s), f"{s.speed:g}x", _t(s, s.declared_s),
                     _t(s, s.first_right_s),
                     _t(s, s.recovered_s) if s.recovered_s is not None else "not recovered",
                     updates, str(len(s.wrong)), str(len(s.harmful)), verdict))
    widths = [max(len(visible(r[c])) for r in rows) for c in range(len(rows[0]))]
    zone = "UTC" if tz is UTC else "local time"
    out = [f"Drills (dates in {zone}; times from each drill's start, in drill time; "
           f"{RULE})", ""]
    out += ["  ".join(visible(cell).ljust(w) for cell, w in zip(r, widths, strict=True))
            .rstrip() for r in rows]
    return "\n".join(out) + "\n"


def list_json(scores: Sequence[DrillScore]) -> dict[str, Any]:
    return {"rule": RULE, "drills": [to_json(s) for s in scores]}
