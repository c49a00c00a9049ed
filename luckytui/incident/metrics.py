"""The plan's key metrics over incidents: MTTA, MTTR and the incident rate, by month.

MTTA = acknowledged - detected and MTTR = resolved - detected (the incident model's
definitions), against the plan's targets: MTTA < 5 minutes, MTTR < 30 minutes, fewer
than 2 incidents a month. An incident belongs to the month (UTC) it was detected in.
Drills are kept out of every figure and only counted. Means are taken over the
incidents that reached the milestone, and say how many that is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from luckytui.durations import format_duration
from luckytui.incident.model import SEVERITIES, Incident

MTTA_TARGET_S = 5 * 60
MTTR_TARGET_S = 30 * 60
RATE_TARGET = 2  # incidents a month, strictly fewer
RESPONSE_CLOCK = "response"  # clock keys: see model.clock_key
UPDATE_CLOCK = "status_update@"

DEFINITIONS = (
    "MTTA = acknowledged − detected (target < 5 min), MTTR = resolved − detected "
    "(target < 30 min), incident rate target < 2 a month.",
    "detected: when the first alert fired or the first endpoint check failed (else the "
    "declaration); acknowledged: the first acknowledgement; resolved: the resolution.",
    "Each month (of detection, UTC) counts its production incidents: MTTA is the mean over "
    "those acknowledged, MTTR over those resolved (open ones are left out); drills are "
    "listed, never counted.",
)


@dataclass(frozen=True, slots=True)
class IncidentMetrics:
    number: str
    title: str
    severity: str
    drill: bool
    detected: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    mtta_s: float | None  # None until acknowledged
    mttr_s: float | None  # None until resolved

    @property
    def open(self) -> bool:
        return self.resolved_at is None

    @property
    def mtta_met(self) -> bool | None:
        return None if self.mtta_s is None else self.mtta_s < MTTA_TARGET_S

    @property
    def mttr_met(self) -> bool | None:
        return None if self.mttr_s is None else self.mttr_s < MTTR_TARGET_S


@dataclass(frozen=True, slots=True)
class MonthReport:
    month: str  # YYYY-MM, UTC
    incidents: tuple[IncidentMetrics, ...]  # production only, in detection order
    drills: tuple[str, ...]  # numbers of the drills detected that month (not counted)
    by_severity: Mapping[str, int]
    mtta_mean_s: float | None
    mtta_n: int  # incidents acknowledged (the mean is over these)
    mtta_met: int  # of those, how many under the target
    mttr_mean_s: float | None
    mttr_n: int  # incidents resolved
    mttr_met: int
    response_met: int  # response SLA clocks recorded met / missed
    response_missed: int
    updates_met: int  # status page update deadlines recorded met / missed
    updates_missed: int
    open: int  # incidents not resolved

    @property
    def count(self) -> int:
        return len(self.incidents)

    @property
    def rate_met(self) -> bool:
        return self.count < RATE_TARGET


def incident_metrics(inc: Incident) -> IncidentMetrics:
    return IncidentMetrics(number=inc.number, title=inc.title, severity=inc.severity,
                           drill=inc.drill, detected=inc.detected,
                           acknowledged_at=inc.acknowledged_at, resolved_at=inc.resolved_at,
                           mtta_s=inc.mtta_s, mttr_s=inc.mttr_s)


def month_of(inc: Incident) -> str:
    """YYYY-MM of the detection, in UTC."""
    return inc.detected.astimezone(UTC).strftime("%Y-%m")


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _clock_counts(incidents: Iterable[Incident], prefix: str) -> tuple[int, int]:
    results = [r for inc in incidents for k, r in inc.clocks.items() if k.startswith(prefix)]
    return results.count("met"), results.count("missed")


def month_report(incidents: Iterable[Incident], month: str) -> MonthReport:
    """The figures of one month (YYYY-MM, UTC); a month without incidents is all zeros."""
    in_month = sorted((i for i in incidents if month_of(i) == month), key=lambda i: i.detected)
    prod = [i for i in in_month if not i.drill]
    mttas = [i.mtta_s for i in prod if i.mtta_s is not None]
    mttrs = [i.mttr_s for i in prod if i.mttr_s is not None]
    by_severity = {s: 0 for s in SEVERITIES}
    for i in prod:
        by_severity[i.severity] = by_severity.get(i.severity, 0) + 1
    response = _clock_counts(prod, RESPONSE_CLOCK)
    updates = _clock_counts(prod, UPDATE_CLOCK)
    return MonthReport(
        month=month, incidents=tuple(incident_metrics(i) for i in prod),
        drills=tuple(i.number for i in in_month if i.drill), by_severity=by_severity,
        mtta_mean_s=_mean(mttas), mtta_n=len(mttas),
        mtta_met=sum(1 for s in mttas if s < MTTA_TARGET_S),
        mttr_mean_s=_mean(mttrs), mttr_n=len(mttrs),
        mttr_met=sum(1 for s in mttrs if s < MTTR_TARGET_S),
        response_met=response[0], response_missed=response[1],
        updates_met=updates[0], updates_missed=updates[1],
        open=sum(1 for i in prod if i.resolved_at is None))


def monthly(incidents: Iterable[Incident]) -> list[MonthReport]:
    """A report for every month with an incident (drills included), newest first."""
    items = list(incidents)
    months = sorted({month_of(i) for i in items}, reverse=True)
    return [month_report(items, m) for m in months]


# -- rendering -------------------------------------------------------------------------

def _mark(met: bool | None) -> str:
    return {True: "✓", False: "✖", None: " "}[met]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _summary(r: MonthReport) -> list[str]:
    rate = "met" if r.rate_met else "missed"
    sev = " · ".join(f"{s} {n}" for s, n in r.by_severity.items())
    head = f"{r.month}: {_plural(r.count, 'incident')} (rate target < {RATE_TARGET}: {rate})"
    head += f" · {sev} · {r.open} open"
    if r.drills:
        head += f" · {_plural(len(r.drills), 'drill')} not counted ({', '.join(r.drills)})"
    mtta = (f"MTTA mean {format_duration(r.mtta_mean_s, 'mtt')} over {r.mtta_n} of {r.count} "
            f"acknowledged, {r.mtta_met} of {r.mtta_n} under 5 min")
    mttr = (f"MTTR mean {format_duration(r.mttr_mean_s, 'mtt')} over {r.mttr_n} of {r.count} "
            f"resolved, {r.mttr_met} of {r.mttr_n} under 30 min")
    clocks = (f"Response SLA {r.response_met} met, {r.response_missed} missed · "
              f"Status page updates {r.updates_met} met, {r.updates_missed} missed "
              "(clocks as recorded)")
    return [head, f"  {mtta}", f"  {mttr}", f"  {clocks}"]


def _table(r: MonthReport, tz: tzinfo | None) -> list[str]:
    if not r.incidents:
        return []
    rows = [("NUMBER", "SEV", "DETECTED", "MTTA", "MTTR", "TITLE")]
    for i in r.incidents:
        rows.append((i.number, i.severity, i.detected.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                     f"{format_duration(i.mtta_s, 'mtt')} {_mark(i.mtta_met)}",
                     f"{'open' if i.open else format_duration(i.mttr_s, 'mtt')} "
                     f"{_mark(i.mttr_met)}",
                     i.title))
    widths = [max(len(row[c]) for row in rows) for c in range(5)]
    return ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row[:5], widths, strict=True))
            + "  " + row[5] for row in rows]


def render_text(reports: Iterable[MonthReport], *, tz: tzinfo | None = None) -> str:
    """The definitions in one line, then per month its figures and its incidents
    (✓ under the target, ✖ not; times in tz, the local zone when None)."""
    now = datetime.now(UTC).astimezone(tz)
    zone = f"local time ({now.tzname()})" if tz is None else now.tzname() or str(tz)
    lines = [*DEFINITIONS[:-1], DEFINITIONS[-1] + f" Times in {zone}."]
    for r in reports:
        lines += ["", *_summary(r), *_table(r, tz)]
    return "\n".join(lines) + "\n"


def _iso(ts: datetime | None) -> str | None:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z") if ts else None


def _round(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds)


def to_json(reports: Iterable[MonthReport]) -> dict[str, Any]:
    return {
        "definitions": {"mtta": "acknowledged - detected", "mttr": "resolved - detected",
                        "detected": "first alert fired or first endpoint check failed, "
                                    "else the declaration",
                        "mtta_over": "the month's production incidents acknowledged",
                        "mttr_over": "the month's production incidents resolved",
                        "month": "of detection, UTC", "drills": "not counted",
                        "text": " ".join(DEFINITIONS)},
        "targets": {"mtta_s": MTTA_TARGET_S, "mttr_s": MTTR_TARGET_S,
                    "incidents_per_month": RATE_TARGET},
        "months": [{
            "month": r.month, "count": r.count, "rate_met": r.rate_met,
            "by_severity": dict(r.by_severity), "open": r.open, "drills": list(r.drills),
            "mtta": {"mean_s": _round(r.mtta_mean_s), "n": r.mtta_n, "met": r.mtta_met},
            "mttr": {"mean_s": _round(r.mttr_mean_s), "n": r.mttr_n, "met": r.mttr_met},
            "response_sla": {"met": r.response_met, "missed": r.response_missed},
            "status_updates": {"met": r.updates_met, "missed": r.updates_missed},
            "incidents": [{"number": i.number, "title": i.title, "severity": i.severity,
                      "detected_at": _iso(i.detected),
                      "acknowledged_at": _iso(i.acknowledged_at),
                      "resolved_at": _iso(i.resolved_at),
                      "mtta_s": _round(i.mtta_s), "mttr_s": _round(i.mttr_s),
                      "mtta_met": i.mtta_met, "mttr_met": i.mttr_met}
                     for i in r.incidents],
        } for r in reports],
    }
